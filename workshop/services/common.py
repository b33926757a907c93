"""TODO docstring."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .. import domain
from ..domain import N_, DomainError, NotFound
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


def bump(workshop: Workshop) -> None:
    """Advance the workshop's sequence number; every broadcast carries it.

    In SQL (``seq = seq + 1`` at flush), so two processes changing one workshop at the same
    moment never hand out the same number; the new value is read back after the commit.
    """
    workshop.seq = Workshop.seq + 1


def require_running(status: str) -> None:
    """Refuse a change to a workshop whose status (``Workshop.status``) is not running."""
    if status == "utkast":
        raise DomainError(N_("Dialogen har inte startat än."), code="not_started")
    if status == "stangd":
        raise DomainError(N_("Dialogen är avslutad."), code="closed")


def lock_workshop(workshop_id: int) -> None:
    """Lock the workshop's row until commit and read everything afresh after it.

    Two requests that read and then decide (e.g. both open a vote round) would otherwise both
    decide on the same state. On PostgreSQL the second waits here for the first to commit and
    then sees its result. ``NO KEY UPDATE`` still lets rows that merely refer to the workshop
    (participants joining, audit entries) be written meanwhile. SQLite has no row locks: a
    write (of the unchanged seq) opens the transaction and takes the database's write lock
    now, so every read that follows sees the latest commit and no other process can commit
    until this one has. (A plain read would not: without a write, each SELECT sees whatever
    was committed when it ran, so a phase read before another process's commit and its rounds
    read after it could both look open.)
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(Workshop)
            .where(Workshop.id == workshop_id)
            .values(seq=Workshop.seq)
            .execution_options(synchronize_session=False)
        )
    else:
        db.session.execute(
            sa.select(Workshop.id).where(Workshop.id == workshop_id).with_for_update(key_share=True)
        )
    db.session.expire_all()


def proposal_in(workshop_id: int, proposal_id: Any) -> Proposal:
    proposal = db.session.get(Proposal, domain.parse_id(proposal_id))
    if proposal is None or proposal.goal.workshop_id != workshop_id:
        raise NotFound(N_("Förslaget finns inte."))
    return proposal
