"""Who is connected where, and the one helper that pushes state to every audience."""

from __future__ import annotations

import threading
import time
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
        _buckets.pop(sid, None)
        return _connections.pop(sid, None)


def connection(sid: str) -> Connection | None:
    with _lock:
        return _connections.get(sid)


def sids_of_participant(participant_id: int) -> list[str]:
    with _lock:
        return [sid for sid, c in _connections.items() if c.participant_id == participant_id]


def disconnect_participants(workshop_id: int, *, everyone: bool = False) -> int:
    """Close the phones' sockets of a workshop (all its sockets with ``everyone``)."""
    with _lock:
        sids = [
            sid
            for sid, c in _connections.items()
            if c.workshop_id == workshop_id and (everyone or c.role == "people")
        ]
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
        forget(sid)
    return len(sids)


def disconnect_facilitator(facilitator_id: int) -> int:
    """Close every console (and logged-in presenter) socket of a facilitator who logged out."""
    with _lock:
        sids = [sid for sid, c in _connections.items() if c.facilitator_id == facilitator_id]
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
        forget(sid)
    return len(sids)


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


# Per connection: [tokens left, time of the last refill] of its event rate limit.
_buckets: dict[str, list[float]] = {}


def take_token(sid: str, rate: float, burst: int) -> bool:
    """Spend one token of a connection's bucket (``rate`` per second, ``burst`` at most).

    Return False when the bucket is empty, i.e. the connection sends faster than allowed.
    """
    if rate <= 0:
        return True
    now = time.monotonic()
    with _lock:
        bucket = _buckets.get(sid)
        if bucket is None:
            bucket = _buckets[sid] = [float(burst), now]
        bucket[0] = min(float(burst), bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if bucket[0] < 1:
            return False
        bucket[0] -= 1
        return True


# Coalesced pushes: workshops with a change not yet pushed, those with a flusher running, and
# the seq of the last push per workshop (sent along as ``prev_seq`` so clients see a gap).
_dirty: set[int] = set()
_flushing: set[int] = set()
_pushed_seq: dict[int, int] = {}
_push_lock = threading.RLock()


def push_state(workshop_id: int) -> None:
    """Have the current snapshot sent to the facilitator, presenter and phones of a workshop.

    Call only after the change is committed. With ``PUSH_INTERVAL`` > 0 (the default, 0.25 s)
    the push is coalesced: the first change goes out at once from a background task, and
    changes arriving while it waits go out together, at most once per interval (leading and
    trailing edge), so the cost per vote does not grow with the number of listeners. With 0
    every change is pushed synchronously, before the caller's acknowledgement.
    """
    interval = float(current_app.config.get("PUSH_INTERVAL", 0.25) or 0)
    if interval <= 0:
        send_state(workshop_id)
        return
    with _lock:
        _dirty.add(workshop_id)
        if workshop_id in _flushing:
            return
        _flushing.add(workshop_id)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(_flush, app, workshop_id, interval)


def _flush(app: Any, workshop_id: int, interval: float) -> None:
    """Push a workshop's state while it has changes, then wait; stop when clean.

    The wait is ``interval``, or twice what the last push took if that is longer: with many
    people in the room building the snapshots takes a while, and pushes must leave the server
    time for the votes themselves (at most a third of it goes to pushing).
    """
    while True:
        with _lock:
            if workshop_id not in _dirty:
                _flushing.discard(workshop_id)
                return
            _dirty.discard(workshop_id)
        started = time.monotonic()
        try:
            with app.app_context():
                send_state(workshop_id)
        except DomainError:
            pass  # the workshop was deleted meanwhile: nobody to tell
        except Exception:  # a failed push must not stop the later ones
            app.logger.exception("push of workshop %s failed", workshop_id)
        socketio.sleep(max(interval, 2 * (time.monotonic() - started)))


def send_state(workshop_id: int) -> None:
    """Send the current snapshot to every audience of a workshop now.

    Phones and presenter get the public snapshot; the facilitator's console gets the full
    one. Each language's room gets the snapshot with its labels (phase, voting method, results
    text) translated for it. Every snapshot carries ``prev_seq``, the seq of the previous push.
    """
    with _push_lock:
        workshop = services.get_workshop(workshop_id)
        online = online_count(workshop_id)
        prev_seq = _pushed_seq.get(workshop_id)
        _pushed_seq[workshop_id] = workshop.seq
        for locale in locales_of(workshop_id):
            with force_locale(locale):
                public = state.public_state(workshop)
                public["people"]["online"] = online
                public["prev_seq"] = prev_seq
                socketio.emit("state", public, to=room(workshop_id, "screen", locale))
                socketio.emit("state", public, to=room(workshop_id, "people", locale))
                socketio.sleep(0)  # let waiting handlers (acks) run between the snapshots
                full = state.facilitator_state(workshop)
                full["people"]["online"] = online
                full["prev_seq"] = prev_seq
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
