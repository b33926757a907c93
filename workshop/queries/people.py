"""Lists: workshops, and a workshop's participants without loading ORM objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa

from ..domain.enums import Role
from ..models import (
    Participant,
    Workshop,
    db,
)


def participant_for(workshop_id: int, token: str | None) -> Participant | None:
    if not token:
        return None
    participant = db.session.scalar(
        sa.select(Participant).filter_by(token=token, workshop_id=workshop_id)
    )
    return None if participant is None or participant.removed else participant


def eligible_ids(workshop: Workshop) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Participant.id).filter_by(
                workshop_id=workshop.id, role=Role.PARTICIPANT, removed=False, left=False
            )
        )
    )


def list_workshops() -> list[Workshop]:
    return list(db.session.scalars(sa.select(Workshop).order_by(Workshop.created_at.desc())))


class PersonRow(Protocol):
    """What the console lists of a participant (a row of ``participant_rows``)."""

    id: int
    display_name: str | None
    role: str
    left: bool


def participant_rows(workshop_id: int) -> Sequence[PersonRow]:
    """Return id, name, role and left of the workshop's participants, without loading objects."""
    p = Participant.__table__
    return db.session.execute(
        sa.select(p.c.id, p.c.display_name, p.c.role, p.c.left)
        .where(p.c.workshop_id == workshop_id, p.c.removed.is_(False))
        .order_by(p.c.id)
    ).all()  # type: ignore[return-value]


def participants(workshop: Workshop) -> list[Participant]:
    return list(
        db.session.scalars(
            workshop.participants.select().filter_by(removed=False).order_by(Participant.id)
        )
    )
