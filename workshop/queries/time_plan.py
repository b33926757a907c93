"""The sitting's time plan as it stands now (read-only; ``domain.time_plan`` has the rules)."""

from __future__ import annotations

import datetime as dt

from ..domain import time_plan
from ..domain.enums import WorkshopStatus
from ..models import Workshop, utcnow


def ticking_goal_id(workshop: Workshop) -> int | None:
    """The goal that accrues time now: the current one, while the workshop is running."""
    return workshop.current_goal_id if workshop.status == WorkshopStatus.RUNNING else None


def plan_of(workshop: Workshop, now: dt.datetime | None = None) -> time_plan.Plan | None:
    """Return the workshop's plan at ``now`` (default: the present), or None without a total."""
    clocks = [
        time_plan.GoalClock(
            id=g.id,
            plan_minutes=g.plan_minutes,
            used_seconds=g.used_seconds or 0,
            current_since=g.current_since,
            done=g.decision is not None,
        )
        for g in workshop.goals
    ]
    return time_plan.plan(
        workshop.plan_minutes, clocks, now or utcnow(), ticking_id=ticking_goal_id(workshop)
    )
