"""The sitting's time plan: its total, one goal's minutes, and the clock of the current goal."""

from __future__ import annotations

from typing import Any

from ..domain import time_plan
from ..models import Goal, Workshop, utcnow
from ..queries.time_plan import ticking_goal_id
from ._unit import bump, unit_of_work
from .audit import audit
from .common import get_workshop, goal_in


def follow_clock(workshop: Workshop) -> None:
    """Let only the current goal of a running workshop accrue time; settle every other goal.

    Called by every writer that changes the current goal or the workshop's status, after the
    change (select_goal, set_phase, start, close, reopen). Idempotent.
    """
    now = utcnow()
    ticking = ticking_goal_id(workshop)
    for goal in workshop.goals:
        goal.used_seconds, goal.current_since = time_plan.settle(
            goal.used_seconds or 0, goal.current_since, goal.id == ticking, now
        )


@unit_of_work
def set_plan(workshop_id: int, minutes: Any) -> Workshop:
    """Set the time for the whole sitting in minutes (1 to 24 h); None removes the plan."""
    workshop = get_workshop(workshop_id)
    workshop.plan_minutes = (
        None if minutes is None else time_plan.check_minutes(minutes, allow_zero=False)
    )
    bump(workshop)
    audit(workshop_id, "plan_set", {"minutes": workshop.plan_minutes})
    return workshop


@unit_of_work
def set_goal_plan(workshop_id: int, goal_id: Any, minutes: Any) -> Goal:
    """Give one goal its own minutes (0 to 24 h); None returns it to the even split."""
    workshop = get_workshop(workshop_id)
    goal = goal_in(workshop_id, goal_id)
    goal.plan_minutes = (
        None if minutes is None else time_plan.check_minutes(minutes, allow_zero=True)
    )
    bump(workshop)
    audit(workshop_id, "plan_goal", {"goal": goal.number, "minutes": goal.plan_minutes})
    return goal
