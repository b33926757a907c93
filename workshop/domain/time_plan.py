"""The sitting's time plan: the total split over the goals, the time used, and the warnings.

The facilitator sets the time for the whole dialogue (e.g. 90 minutes); a goal whose minutes
were edited keeps them, the others share what is left evenly. A goal uses time while it is
the workshop's current goal and the workshop is running: ``used_seconds`` holds the closed
intervals, ``current_since`` the start of the open one. Pure: times come in as arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .core import N_, DomainError

# A sitting longer than a day is a typing error, not a plan.
MAX_PLAN_MINUTES = 24 * 60


@dataclass(frozen=True)
class GoalClock:
    """What the plan needs of one goal."""

    id: int
    plan_minutes: int | None  # edited by the facilitator; None: an even share of the rest
    used_seconds: int
    current_since: dt.datetime | None
    done: bool  # a decision is recorded


@dataclass(frozen=True)
class GoalTime:
    id: int
    planned_s: int
    used_s: int
    over: bool
    ticking: bool  # accruing now (current goal of a running workshop)
    minutes: int | None = None  # the goal's own minutes, None: an even share
    done: bool = False


@dataclass(frozen=True)
class Plan:
    total_s: int
    goals: list[GoalTime]
    used_s: int
    left_s: int  # the plan's time not yet used (negative when it is used up)
    needed_s: int  # what the goals not done still need by their plans
    fits: bool

    def goal(self, goal_id: int | None) -> GoalTime | None:
        return next((g for g in self.goals if g.id == goal_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_s": self.total_s,
            "used_s": self.used_s,
            "left_s": self.left_s,
            "needed_s": self.needed_s,
            "fits": self.fits,
            "goals": [
                {
                    "id": g.id,
                    "planned_s": g.planned_s,
                    "used_s": g.used_s,
                    "over": g.over,
                    "ticking": g.ticking,
                    "minutes": g.minutes,
                    "done": g.done,
                }
                for g in self.goals
            ],
        }


def check_minutes(value: Any, *, allow_zero: bool) -> int:
    """Return ``value`` as whole minutes within 0 (or 1) to 24 hours, or raise a DomainError."""
    low = 0 if allow_zero else 1
    minutes: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    elif isinstance(value, float) and value.is_integer():
        minutes = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        minutes = int(value.strip())
    if minutes is None or not (low <= minutes <= MAX_PLAN_MINUTES):
        raise DomainError(
            N_("Ange ett helt antal minuter mellan %(low)s och %(high)s."),
            code="bad_plan",
            params={"low": low, "high": MAX_PLAN_MINUTES},
        )
    return minutes


def split(total_minutes: int, edited: Sequence[int | None]) -> list[int]:
    """Split the total (minutes) over the goals, in seconds.

    An edited goal keeps its minutes; the others share what is left of the total evenly (the
    odd seconds go to the first of them), and nothing when the edited ones use it all.
    """
    fixed = sum(m * 60 for m in edited if m is not None)
    free = [i for i, m in enumerate(edited) if m is None]
    rest = max(0, total_minutes * 60 - fixed)
    share, odd = divmod(rest, len(free)) if free else (0, 0)
    planned = [m * 60 if m is not None else share for m in edited]
    for i in free[:odd]:
        planned[i] += 1
    return planned


def used(used_seconds: int, current_since: dt.datetime | None, now: dt.datetime) -> int:
    """The seconds a goal has used: its closed intervals plus the open one, if any."""
    if current_since is None:
        return used_seconds
    return used_seconds + max(0, int((now - current_since).total_seconds()))


def settle(
    used_seconds: int, current_since: dt.datetime | None, ticking: bool, now: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """Return a goal's (used_seconds, current_since) once it is (or is not) ticking from now.

    Closing an interval adds it to ``used_seconds``; an interval already open stays open, so
    calling this again with the same answer changes nothing.
    """
    if ticking:
        return used_seconds, current_since if current_since is not None else now
    return used(used_seconds, current_since, now), None


def plan(
    total_minutes: int | None,
    goals: Sequence[GoalClock],
    now: dt.datetime,
    ticking_id: int | None = None,
) -> Plan | None:
    """The plan for the sitting now, or None when no total is set.

    A goal is over when it used more than planned. The rest fits while the time left of the
    plan covers what the goals not yet done still need (their plan minus what they used).
    """
    if total_minutes is None:
        return None
    planned = split(total_minutes, [g.plan_minutes for g in goals])
    times = []
    for goal, planned_s in zip(goals, planned, strict=True):
        used_s = used(goal.used_seconds, goal.current_since, now)
        times.append(
            GoalTime(
                id=goal.id,
                planned_s=planned_s,
                used_s=used_s,
                over=used_s > planned_s,
                ticking=goal.id == ticking_id,
                minutes=goal.plan_minutes,
                done=goal.done,
            )
        )
    used_total = sum(t.used_s for t in times)
    needed = sum(
        max(0, t.planned_s - t.used_s) for t, g in zip(times, goals, strict=True) if not g.done
    )
    left = total_minutes * 60 - used_total
    return Plan(
        total_s=total_minutes * 60,
        goals=times,
        used_s=used_total,
        left_s=left,
        needed_s=needed,
        fits=left >= needed,
    )
