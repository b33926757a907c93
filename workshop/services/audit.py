"""The audit trail: who acts (``acting_as``) and the entry each facilitator action adds."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.audit import AUDIT_ACTIONS
from ..models import (
    AuditEntry,
    db,
    utcnow,
)
from ._unit import unit_of_work

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a facilitator (id and username) or the system (id None)."""

    username: str
    facilitator_id: int | None = None


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("actor", default=None)


@contextlib.contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Attribute the service calls inside the block to ``actor`` in the audit trail.

    Views and Socket.IO handlers wrap a facilitator's calls in this; a participant's calls run
    without an actor and are never recorded (their identity must not sit next to their votes).
    """
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def audit(
    workshop_id: int | None,
    action: str,
    details: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEntry | None:
    """Add an audit entry to the session, to be committed with the action it records.

    Without an ``actor`` the one of ``acting_as`` is used; with neither, nothing is recorded.
    """
    who = actor or _actor.get()
    if who is None:
        return None
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        workshop_id=workshop_id,
        at=utcnow(),
        actor=who.username[:80],
        facilitator_id=who.facilitator_id,
        action=action,
        details=dict(details or {}),
    )
    db.session.add(entry)
    return entry


@unit_of_work
def audit_now(
    workshop_id: int | None, action: str, details: Mapping[str, Any] | None = None
) -> None:
    """Record an action that changes nothing else (e.g. an export) and commit it."""
    audit(workshop_id, action, details)
