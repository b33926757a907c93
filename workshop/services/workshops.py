"""Workshops: creating one (or the KS mål 2019 template), its details, start, close, reopen."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from .. import domain
from ..domain import N_, DomainError, NotFound
from ..domain.enums import RoundStatus, WorkshopStatus
from ..models import (
    Goal,
    Workshop,
    db,
    utcnow,
)
from ._unit import bump, unit_of_work
from .audit import audit
from .common import get_workshop, text_input
from .time_plan import follow_clock


def find_by_code(code: str) -> Workshop:
    """Return the open workshop for a join code, or raise with a message for the phone."""
    code = domain.normalise_join_code(code)
    workshop = (
        db.session.scalar(sa.select(Workshop).filter_by(join_code=code))
        if domain.is_join_code(code)
        else None
    )
    if workshop is None:
        raise NotFound(N_("Koden finns inte. Kontrollera koden på skärmen och försök igen."))
    if workshop.status == WorkshopStatus.CLOSED:
        raise DomainError(
            N_("Dialogen är avslutad och tar inte emot fler deltagare."), code="closed"
        )
    return workshop


def unique_join_code() -> str:
    while True:
        code = domain.new_join_code()
        if not db.session.scalar(sa.select(Workshop.id).filter_by(join_code=code)):
            return code


@unit_of_work
def create_workshop(
    title: str,
    goals: Iterable[domain.GoalInput] = (),
    *,
    facilitator_id: int | None = None,
    **details: Any,
) -> Workshop:
    """Create a workshop with its goals, in draft, with a fresh join code."""
    workshop = Workshop(
        title=text_input(title, 200, N_("Ange en rubrik."), required=True),
        join_code=unique_join_code(),
        created_by_id=facilitator_id,
        # Set now: column defaults only apply at insert, after the checks.
        status=WorkshopStatus.DRAFT,
    )
    _apply_details(workshop, details)
    for position, goal in enumerate(goals):
        workshop.goals.append(Goal(position=position, **goal.__dict__))
    db.session.add(workshop)
    db.session.flush()
    audit(workshop.id, "workshop_create", {"title": workshop.title})
    return workshop


@unit_of_work
def create_from_template(facilitator_id: int | None = None) -> Workshop:
    """Create the built-in "KS mål 2019" workshop."""
    template = domain.KS_2019_TEMPLATE
    goals = [
        domain.GoalInput(area=area, number=number, text=text)
        for area, number, text in template["goals"]
    ]
    details = {k: v for k, v in template.items() if k not in ("title", "goals")}
    return create_workshop(template["title"], goals, facilitator_id=facilitator_id, **details)


DETAIL_LIMITS = {
    "dnr": 60,
    "organisation": 200,
    "unit": 200,
    "recipient": 200,
    "send_to": 200,
    "officer": 200,
}


def _apply_details(workshop: Workshop, details: Mapping[str, Any]) -> None:
    for name, limit in DETAIL_LIMITS.items():
        if name in details:
            setattr(workshop, name, text_input(details[name], limit, ""))
    if details.get("meeting_date"):
        date = text_input(details["meeting_date"], 10, "")
        if not domain.valid_date(date):
            raise DomainError(
                N_("Ange datum som ÅÅÅÅ-MM-DD."),
                code="bad_date",
                fields={"meeting_date": N_("Ange datum som ÅÅÅÅ-MM-DD.")},
            )
        workshop.meeting_date = date
    if "follow_up_dates" in details:
        dates = domain.parse_follow_up_dates(str(details["follow_up_dates"]))
        workshop.follow_up_dates = ", ".join(d.isoformat() for d in dates)
    elif not workshop.follow_up_dates:
        year = int(workshop.meeting_date[:4]) if workshop.meeting_date else utcnow().year
        workshop.follow_up_dates = ", ".join(d.isoformat() for d in domain.follow_up_dates(year))
    if "anonymous" in details:
        if (
            workshop.status != WorkshopStatus.DRAFT
            and bool(details["anonymous"]) != workshop.anonymous
        ):
            raise DomainError(
                N_("Röstningsläget kan bara ändras innan dialogen startar."), code="started"
            )
        workshop.anonymous = bool(details["anonymous"])


@unit_of_work
def update_workshop(workshop_id: int, title: str, **details: Any) -> Workshop:
    """Change the workshop's title and document details."""
    workshop = get_workshop(workshop_id)
    workshop.title = text_input(title, 200, N_("Ange en rubrik."), required=True)
    _apply_details(workshop, details)
    audit(workshop.id, "workshop_update", {"title": workshop.title})
    return workshop


@unit_of_work
def start_workshop(workshop_id: int) -> Workshop:
    """Open the workshop: goals are fixed and the first goal becomes current."""
    workshop = get_workshop(workshop_id)
    if not workshop.goals:
        raise DomainError(N_("Lägg till minst ett mål innan dialogen startar."), code="no_goals")
    workshop.status = WorkshopStatus.RUNNING
    if workshop.current_goal_id is None:
        workshop.current_goal_id = workshop.goals[0].id
    follow_clock(workshop)
    bump(workshop)
    audit(workshop.id, "workshop_start")
    return workshop


@unit_of_work
def close_workshop(workshop_id: int) -> Workshop:
    """Close the workshop to participants; the result stays for export."""
    workshop = get_workshop(workshop_id)
    workshop.status = WorkshopStatus.CLOSED
    for goal in workshop.goals:
        for vote_round in goal.rounds:
            if vote_round.status == RoundStatus.OPEN:
                vote_round.status = RoundStatus.CLOSED
    follow_clock(workshop)
    bump(workshop)
    audit(workshop.id, "workshop_close")
    return workshop


@unit_of_work
def reopen_workshop(workshop_id: int) -> Workshop:
    workshop = get_workshop(workshop_id)
    if workshop.status == WorkshopStatus.CLOSED:
        workshop.status = WorkshopStatus.RUNNING
        follow_clock(workshop)
        bump(workshop)
        audit(workshop.id, "workshop_reopen")
    return workshop
