"""Who is connected where, and the one helper that pushes state to every audience."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale, gettext

from . import services, state
from .domain import DomainError
from .extensions import socketio

AUDIENCES = ("facilitator", "screen", "people")


def room(workshop_id: int, audience: str) -> str:
    """Name the room of one audience in one workshop, e.g. ``ws:3:people``."""
    return f"ws:{workshop_id}:{audience}"


@dataclass(frozen=True)
class Connection:
    workshop_id: int
    role: str  # "facilitator", "screen" or "people"
    participant_id: int | None = None
    facilitator_id: int | None = None


_connections: dict[str, Connection] = {}
_lock = threading.Lock()


def register(sid: str, connection: Connection) -> None:
    with _lock:
        _connections[sid] = connection


def forget(sid: str) -> Connection | None:
    with _lock:
        return _connections.pop(sid, None)


def connection(sid: str) -> Connection | None:
    with _lock:
        return _connections.get(sid)


def sids_of_participant(participant_id: int) -> list[str]:
    with _lock:
        return [sid for sid, c in _connections.items() if c.participant_id == participant_id]


def online_count(workshop_id: int) -> int:
    with _lock:
        return sum(
            1 for c in _connections.values() if c.workshop_id == workshop_id and c.role == "people"
        )


def push_state(workshop_id: int) -> None:
    """Send the current snapshot to the facilitator, presenter and phones of a workshop.

    Call only after the change is committed. Phones and presenter get the public snapshot; the
    facilitator's console gets the full one.
    """
    workshop = services.get_workshop(workshop_id)
    public = state.public_state(workshop)
    public["people"]["online"] = online_count(workshop_id)
    socketio.emit("state", public, to=room(workshop_id, "screen"))
    socketio.emit("state", public, to=room(workshop_id, "people"))
    full = state.facilitator_state(workshop)
    full["people"]["online"] = public["people"]["online"]
    socketio.emit("state", full, to=room(workshop_id, "facilitator"))


def error_payload(exc: DomainError, locale: str | None = None) -> dict[str, Any]:
    """Translate a domain error into the acknowledgement a client shows to its person."""

    def render() -> dict[str, Any]:
        return {
            "ok": False,
            "code": exc.code,
            "error": gettext(exc.message, **exc.params),
            "fields": exc.field_messages(gettext),
        }

    if locale:
        with force_locale(locale):
            return render()
    return render()
