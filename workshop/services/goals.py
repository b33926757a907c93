"""Editing the goal list before the dialogue starts: add, change, reorder, remove."""

from __future__ import annotations

from collections.abc import Iterable

from .. import domain
from ..domain import N_, DomainError
from ..domain.enums import WorkshopStatus
from ..models import (
    Goal,
    Workshop,
)
from ._unit import unit_of_work
from .audit import audit
from .common import get_workshop, goal_in


def _editable_goals(workshop: Workshop) -> None:
    if workshop.status != WorkshopStatus.DRAFT:
        raise DomainError(N_("Målen kan bara ändras innan dialogen startar."), code="started")


@unit_of_work
def add_goals(workshop_id: int, goals: Iterable[domain.GoalInput]) -> list[Goal]:
    workshop = get_workshop(workshop_id)
    _editable_goals(workshop)
    start = len(workshop.goals)
    added = [Goal(position=start + i, **g.__dict__) for i, g in enumerate(goals)]
    workshop.goals.extend(added)
    audit(workshop.id, "goal_add", {"goal": ", ".join(g.number for g in added)})
    return added


@unit_of_work
def update_goal(workshop_id: int, goal_id: int, goal_input: domain.GoalInput) -> Goal:
    goal = goal_in(workshop_id, goal_id)
    _editable_goals(goal.workshop)
    for name, value in goal_input.__dict__.items():
        setattr(goal, name, value)
    audit(workshop_id, "goal_update", {"goal": goal.number})
    return goal


@unit_of_work
def move_goal(workshop_id: int, goal_id: int, offset: int) -> None:
    """Move a goal up (-1) or down (+1) in the agenda."""
    goal = goal_in(workshop_id, goal_id)
    workshop = goal.workshop
    _editable_goals(workshop)
    goals = list(workshop.goals)
    i = goals.index(goal)
    j = max(0, min(len(goals) - 1, i + offset))
    goals.insert(j, goals.pop(i))
    for position, item in enumerate(goals):
        item.position = position
    audit(workshop_id, "goal_move", {"goal": goal.number, "offset": offset})


@unit_of_work
def delete_goal(workshop_id: int, goal_id: int) -> None:
    goal = goal_in(workshop_id, goal_id)
    workshop = goal.workshop
    _editable_goals(workshop)
    workshop.goals.remove(goal)
    for position, item in enumerate(workshop.goals):
        item.position = position
    audit(workshop_id, "goal_delete", {"goal": goal.number})
