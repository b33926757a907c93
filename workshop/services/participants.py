"""Participants: joining by phone, leaving, the facilitator changing a role or removing one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..domain import N_, DomainError, Forbidden, NotFound
from ..domain.enums import Role
from ..models import (
    Participant,
    Workshop,
    db,
)
from ._unit import bump, unit_of_work
from .audit import audit
from .common import MAX_NAME, text_input


@unit_of_work
def join(workshop: Workshop, token: str | None, display_name: Any = None) -> Participant:
    """Let a phone in, or recognise it again by its token; a name is needed in named mode."""
    participant = None
    if token:
        participant = db.session.scalar(
            sa.select(Participant).filter_by(token=token, workshop_id=workshop.id)
        )
    if participant is not None and participant.removed:
        raise Forbidden(N_("Samtalsledaren har tagit bort dig från dialogen."))
    name = text_input(
        display_name,
        MAX_NAME,
        N_("Skriv ditt namn så att andra ser vem som deltar."),
        required=not workshop.anonymous and participant is None,
    )
    if participant is None:
        participant = Participant(workshop_id=workshop.id)
        db.session.add(participant)
    if not workshop.anonymous and name:
        participant.display_name = name
    participant.left = False
    bump(workshop)
    return participant


@unit_of_work
def leave(participant: Participant) -> None:
    """Mark that a participant left; a ballot already cast still counts."""
    participant.left = True
    bump(participant.workshop)


@unit_of_work
def set_participant(
    workshop_id: int, participant_id: int, *, role: str | None = None, removed: bool | None = None
) -> Participant:
    """Change a participant's role (deltagare/observator) or remove them."""
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.workshop_id != workshop_id:
        raise NotFound(N_("Deltagaren finns inte."))
    if role is not None:
        if role not in (Role.PARTICIPANT, Role.OBSERVER):
            raise DomainError(N_("Okänd roll."), code="bad_role")
        participant.role = role
    if removed is not None:
        participant.removed = bool(removed)
    audit(
        workshop_id,
        "participant_update",
        {"participant": participant.id, "role": role, "removed": removed},
    )
    bump(participant.workshop)
    return participant
