"""Who is connected where, and the one helper that pushes state to every audience."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext

from . import services, state
from .domain import DomainError
from .extensions import socketio

AUDIENCES = ("facilitator", "screen", "people")


def room(workshop_id: int, audience: str, locale: str | None = None) -> str:
    """Name the room of one audience in one workshop, e.g. ``ws:3:people``.

    With ``locale``, the room of those who read that language, e.g. ``ws:3:people:en``: state
    carries translated labels, so each language gets its own copy.
    """
    return f"ws:{workshop_id}:{audience}" + (f":{locale}" if locale else "")


@dataclass(frozen=True)
class Connection:
    workshop_id: int
    role: str  # "facilitator", "screen" or "people"
    participant_id: int | None = None
    facilitator_id: int | None = None
    locale: str = "sv"  # the language the client's page was rendered in


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


def locales_of(workshop_id: int) -> list[str]:
    """Return the languages the connected clients of a workshop read, configured ones first."""
    with _lock:
        present = {c.locale for c in _connections.values() if c.workshop_id == workshop_id}
    configured = list(current_app.config.get("LANGUAGES") or ["sv"])
    return [c for c in configured if c in present] + sorted(present - set(configured))


def push_state(workshop_id: int) -> None:
    """Send the current snapshot to the facilitator, presenter and phones of a workshop.

    Call only after the change is committed. Phones and presenter get the public snapshot; the
    facilitator's console gets the full one. Each language's room gets the snapshot with its
    labels (phase, voting method, results text) translated for it.
    """
    workshop = services.get_workshop(workshop_id)
    online = online_count(workshop_id)
    for locale in locales_of(workshop_id):
        with force_locale(locale):
            public = state.public_state(workshop)
            public["people"]["online"] = online
            socketio.emit("state", public, to=room(workshop_id, "screen", locale))
            socketio.emit("state", public, to=room(workshop_id, "people", locale))
            full = state.facilitator_state(workshop)
            full["people"]["online"] = online
            socketio.emit("state", full, to=room(workshop_id, "facilitator", locale))


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
