"""Participants: joining by phone, leaving, the facilitator changing a role or removing one."""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa

from ..domain import N_, DomainError, Forbidden, NotFound
from ..domain.enums import Role
from ..models import (
    Participant,
    Workshop,
    db,
)
from . import throttle
from ._unit import bump, unit_of_work
from .audit import audit
from .common import MAX_NAME, text_input


class JoinThrottled(DomainError):
    """Too many new participants from one address or in one workshop: wait ``retry_after`` s."""

    def __init__(self, message: str, code: str, retry_after: float) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, math.ceil(retry_after))


def _admit_new(workshop: Workshop, address: str | None) -> None:
    """Refuse a new participant beyond the join limits (JOIN_LIMIT_PER_*, see config.py)."""
    if address:
        wait = throttle.take("join-address", address, "JOIN_LIMIT_PER_ADDRESS")
        if wait:
            raise JoinThrottled(
                N_(
                    "Många nya deltagare har anslutit från samma nätverk på kort tid. "
                    "Vänta några minuter och försök igen."
                ),
                "join_limit_address",
                wait,
            )
    wait = throttle.take("join-workshop", str(workshop.id), "JOIN_LIMIT_PER_WORKSHOP")
    if wait:
        raise JoinThrottled(
            N_("Väldigt många ansluter till dialogen just nu. Vänta en minut och försök igen."),
            "join_limit_workshop",
            wait,
        )


@unit_of_work
def join(
    workshop: Workshop,
    token: str | None,
    display_name: Any = None,
    *,
    address: str | None = None,
) -> Participant:
    """Let a phone in, or recognise it again by its token; a name is needed in named mode.

    A new participant (no known token) counts towards the join limits of ``address`` (the
    client's, as the proxy configuration gives it) and of the workshop; beyond them the join
    is refused with ``JoinThrottled`` and nothing is stored. A phone recognised again is not
    counted.
    """
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
        _admit_new(workshop, address)
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
