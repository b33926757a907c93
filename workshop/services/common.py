"""Checks and look-ups shared by the writers: the phone's secret, typed text, finding rows."""

from __future__ import annotations

from typing import Any

from .. import domain
from ..domain import N_, DomainError, NotFound
from ..domain.enums import WorkshopStatus
from ..domain.privacy import (
    is_secret,
)
from ..models import (
    Goal,
    Proposal,
    Workshop,
    db,
)

MAX_NAME = 60
MAX_REASON = 200
MAX_DISSENT = 1000
MAX_PARKING = 1000
MAX_TIMER = 60 * 60


def check_secret(secret: Any) -> str:
    if not is_secret(secret):
        raise DomainError(
            N_("Din telefon saknar sin hemliga röstnyckel. Ladda om sidan och försök igen."),
            code="bad_secret",
        )
    return secret


def text_input(value: Any, limit: int, message: str, *, required: bool = False) -> str:
    try:
        text = domain.clean_text(value)
    except TypeError:
        raise DomainError(N_("Fältet har fel format."), code="bad_payload") from None
    if required and not text:
        raise DomainError(message, code="required")
    if len(text) > limit:
        raise DomainError(N_("Högst %(limit)s tecken."), code="too_long", params={"limit": limit})
    return text


def get_workshop(workshop_id: int) -> Workshop:
    workshop = db.session.get(Workshop, workshop_id) if domain.in_id_range(workshop_id) else None
    if workshop is None:
        raise NotFound(N_("Dialogen finns inte."))
    return workshop


def goal_in(workshop_id: int, goal_id: int) -> Goal:
    goal = db.session.get(Goal, goal_id) if domain.in_id_range(goal_id) else None
    if goal is None or goal.workshop_id != workshop_id:
        raise NotFound(N_("Målet finns inte."))
    return goal


def require_running(status: str) -> None:
    """Refuse a change to a workshop whose status (``Workshop.status``) is not running."""
    if status == WorkshopStatus.DRAFT:
        raise DomainError(N_("Dialogen har inte startat än."), code="not_started")
    if status == WorkshopStatus.CLOSED:
        raise DomainError(N_("Dialogen är avslutad."), code="closed")


def proposal_in(workshop_id: int, proposal_id: Any) -> Proposal:
    proposal = db.session.get(Proposal, domain.parse_id(proposal_id))
    if proposal is None or proposal.goal.workshop_id != workshop_id:
        raise NotFound(N_("Förslaget finns inte."))
    return proposal
