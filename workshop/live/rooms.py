"""Who is connected where, and the one helper that pushes state to every audience.

The registry of this worker's sockets (with Redis, mirrored in ``cluster.Cluster``), the
per-connection event rate limit, and the coalesced ``push_state`` after a commit.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale

from .. import services
from ..domain import DomainError
from ..extensions import socketio
from . import snapshots
from .cluster import BUSY, COVERED, Cluster

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


# Per socket of a phone typing a proposal: (workshop id, goal id). Only a count leaves here.
_typing: dict[str, tuple[int, int]] = {}


def set_typing(sid: str, workshop_id: int, goal_id: int, typing: bool) -> bool:
    """Record that a phone started or stopped typing a proposal; return whether that changed.

    Kept on this worker only: with Redis (several workers) the console counts the phones of
    the worker that pushes, not of all of them.
    """
    with _lock:
        before = _typing.get(sid)
        if typing:
            _typing[sid] = (workshop_id, goal_id)
        else:
            _typing.pop(sid, None)
        return _typing.get(sid) != before


def typing_count(workshop_id: int, goal_id: int | None) -> int:
    """How many people (not sockets: one person may have two tabs) type a proposal for a goal."""
    if goal_id is None:
        return 0
    with _lock:
        people = {
            _connections[sid].participant_id
            for sid, where in _typing.items()
            if where == (workshop_id, goal_id) and sid in _connections
        }
    return len(people)


def register(sid: str, connection: Connection) -> None:
    with _lock:
        _connections[sid] = connection
    cluster = current_cluster()
    if cluster is not None:
        cluster.register(sid, connection)


def forget(sid: str) -> Connection | None:
    """Drop a connection, on this worker or (with Redis) on any; return it if it was local."""
    with _lock:
        _buckets.pop(sid, None)
        _buckets.pop(f"{sid}:state", None)  # state:get's own bucket (live/events.py)
        _typing.pop(sid, None)
        gone = _connections.pop(sid, None)
    cluster = current_cluster()
    if cluster is not None:
        cluster.forget(sid)
    return gone


def connection(sid: str) -> Connection | None:
    """The connection of a socket on this worker (every handler runs where its socket is)."""
    with _lock:
        return _connections.get(sid)


def sids_of_participant(participant_id: int) -> list[str]:
    cluster = current_cluster()
    if cluster is not None:
        return cluster.sids(f"part:{participant_id}")
    with _lock:
        return [sid for sid, c in _connections.items() if c.participant_id == participant_id]


def _disconnect(sids: list[str]) -> int:
    # With Redis, python-socketio hands a socket of another worker to that worker.
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
        forget(sid)
    return len(sids)


def disconnect_participants(workshop_id: int, *, everyone: bool = False) -> int:
    """Close the phones' sockets of a workshop (all its sockets with ``everyone``)."""
    cluster = current_cluster()
    if cluster is not None:
        return _disconnect(cluster.sids(f"ws:{workshop_id}:{'sids' if everyone else 'people'}"))
    with _lock:
        sids = [
            sid
            for sid, c in _connections.items()
            if c.workshop_id == workshop_id and (everyone or c.role == "people")
        ]
    return _disconnect(sids)


def disconnect_facilitator(facilitator_id: int) -> int:
    """Close every console (and logged-in presenter) socket of a facilitator who logged out."""
    cluster = current_cluster()
    if cluster is not None:
        return _disconnect(cluster.sids(f"fac:{facilitator_id}"))
    with _lock:
        sids = [sid for sid, c in _connections.items() if c.facilitator_id == facilitator_id]
    return _disconnect(sids)


def online_count(workshop_id: int) -> int:
    """Count the connected phones of a workshop (on every worker, with Redis)."""
    cluster = current_cluster()
    if cluster is not None:
        return cluster.online(workshop_id)
    with _lock:
        return sum(
            1 for c in _connections.values() if c.workshop_id == workshop_id and c.role == "people"
        )


def locales_of(workshop_id: int) -> list[str]:
    """Return the languages the connected clients of a workshop read, configured ones first."""
    cluster = current_cluster()
    if cluster is not None:
        present = cluster.locales(workshop_id)
    else:
        with _lock:
            present = {c.locale for c in _connections.values() if c.workshop_id == workshop_id}
    return _ordered_locales(present)


def _ordered_locales(present: set[str]) -> list[str]:
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
# Per (workshop, language): the shape of the last full snapshot sent to phones and presenter.
_pushed_shape: dict[tuple[int, str], str] = {}
_push_lock = threading.RLock()


def forget_pushes() -> None:
    """Forget what was pushed (seq and shape per workshop): a test database starts ids again."""
    with _push_lock:
        _pushed_seq.clear()
        _pushed_shape.clear()


def wait_for_pushes(timeout: float) -> bool:
    """Wait until no coalesced push is pending or running (at most ``timeout`` seconds); True
    if none is. A test's teardown calls it so no push task queries a database being dropped."""
    deadline = time.monotonic() + timeout
    while True:
        with _lock:
            if not _flushing:
                return True
        if time.monotonic() > deadline:
            return False
        socketio.sleep(0.02)


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
    cluster = current_cluster()
    with _lock:
        _dirty.add(workshop_id)
        if workshop_id in _flushing:
            return
        _flushing.add(workshop_id)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if cluster is not None:
        socketio.start_background_task(_flush_cluster, app, cluster, workshop_id, interval)
    else:
        socketio.start_background_task(_flush, app, workshop_id, interval)


def _push_now(app: Any, workshop_id: int) -> float:
    """Send a workshop's state from a background task; return how long it took (seconds)."""
    started = time.monotonic()
    try:
        with app.app_context():
            send_state(workshop_id)
    except DomainError:
        pass  # the workshop was deleted meanwhile: nobody to tell
    except Exception:  # a failed push must not stop the later ones
        app.logger.exception("push of workshop %s failed", workshop_id)
    return time.monotonic() - started


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
        took = _push_now(app, workshop_id)
        socketio.sleep(max(interval, 2 * took))


def send_state(workshop_id: int) -> None:
    """Send the current snapshot to every audience of a workshop now.

    The facilitator's console gets the full snapshot first, then the presenter and the phones
    the public one. Each language's room gets the snapshot with its labels (phase, voting
    method, results text) translated for it. Every snapshot carries ``prev_seq``, the seq of
    the previous push. When only counts changed since this worker's last push (votes coming
    in: "X av Y", who is online), phones and presenter get the compact ``count`` instead:
    a few hundred bytes for every phone in the room, not the whole snapshot.
    """
    with _push_lock:
        workshop = services.get_workshop(workshop_id)
        cluster = current_cluster()
        if cluster is not None:  # the previous push of any worker; one round trip to Redis
            prev_seq, online, present = cluster.push_meta(workshop_id, workshop.seq)
            locales = _ordered_locales(present)
        else:
            online = online_count(workshop_id)
            prev_seq = _pushed_seq.get(workshop_id)
            _pushed_seq[workshop_id] = workshop.seq
            locales = locales_of(workshop_id)
        typing = typing_now(workshop)
        with snapshots.one_push():  # tallies and lists once, labels per language
            for locale in locales:
                with force_locale(locale):
                    public = snapshots.public_state(workshop)
                    public["people"]["online"] = online
                    public["prev_seq"] = prev_seq
                    snapshots.remember(workshop, "public", public)  # state:get answers from it
                    full = snapshots.facilitator_state(workshop, public)
                    full["people"]["typing"] = typing
                    snapshots.remember(workshop, "facilitator", full)
                    socketio.emit("state", full, to=room(workshop_id, "facilitator", locale))
                    public["shape"] = snapshots.shape(public)
                    key = (workshop_id, locale)
                    # Another worker may have pushed another shape since: a client applies a
                    # count only onto the shape it names, and otherwise fetches the state.
                    if _pushed_shape.get(key) == public["shape"]:
                        event, payload = "count", snapshots.count_of(public)
                    else:
                        event, payload = "state", public
                    _pushed_shape[key] = public["shape"]
                    socketio.emit(event, payload, to=room(workshop_id, "screen", locale))
                    socketio.emit(event, payload, to=room(workshop_id, "people", locale))
                    socketio.sleep(0)  # let waiting handlers (acks) run between languages


def typing_now(workshop: Any) -> int:
    """The console's "N skriver ett förslag", counted only while the goal takes proposals."""
    goal = next((g for g in workshop.goals if g.id == workshop.current_goal_id), None)
    if goal is None or goal.phase != snapshots.PROPOSALS_PHASE:
        return 0
    return typing_count(workshop.id, goal.id)


# --- Several workers: the shared state in Redis (see cluster.py) -----------------------------

_clusters: dict[tuple[str, str, int], Cluster] = {}


def local_connections() -> dict[str, Connection]:
    """A copy of this worker's connections (the cluster's heartbeat compares it with Redis)."""
    with _lock:
        return dict(_connections)


def current_cluster() -> Cluster | None:
    """The shared state when ``REDIS_URL`` is set (one client per worker process), else None."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    key = (url, str(current_app.config.get("REDIS_PREFIX") or "malverkstad"), os.getpid())
    with _lock:
        cluster = _clusters.get(key)
        if cluster is None:
            heartbeat = float(current_app.config.get("REDIS_HEARTBEAT") or 10)
            cluster = _clusters[key] = Cluster(url, key[1], heartbeat, local=local_connections)
    return cluster


def _flush_cluster(app: Any, cluster: Cluster, workshop_id: int, interval: float) -> None:
    """Coalesce across workers: at most one push per interval per workshop in the cluster.

    This worker's pending change is announced in Redis (a counter, bumped after the commit);
    the flusher then waits until a push by any worker has covered it, pushing itself whenever
    the lock is free. A trailing change is never lost, and a change another worker's push
    already covered is not pushed again. Redis is asked once per round (a script), not per
    step: under load every round trip waits behind the votes queued in the worker.
    """
    wanted = 0  # the newest change of this worker not yet known to be covered
    while True:
        with _lock:
            announce = workshop_id in _dirty
            _dirty.discard(workshop_id)
            if not announce and not wanted:
                _flushing.discard(workshop_id)
                return
        try:
            status, wanted, value = cluster.claim(workshop_id, announce, wanted)
        except Exception:  # Redis away: keep the change and try again
            app.logger.exception("coalesced push of workshop %s failed", workshop_id)
            with _lock:
                if announce:
                    _dirty.add(workshop_id)
            socketio.sleep(max(interval, 1.0))
            continue
        if status == COVERED:
            wanted = 0
            continue
        if status == BUSY:  # another worker pushed within the interval, or is pushing now
            # (while it pushes, the lock's expiry is the long safety one: look again soon).
            socketio.sleep(min(max(value / 1000, 0.01), interval))
            continue
        token, covered = value  # every change counted up to ``covered`` is committed
        took = _push_now(app, workshop_id)
        hold = max(interval, 2 * took) - took
        try:
            cluster.done(workshop_id, token, covered, hold)
        except Exception:  # the lock expires by itself; the next push records the rest
            app.logger.exception("recording the push of workshop %s failed", workshop_id)
        wanted = 0  # covered includes this worker's announcement
        socketio.sleep(hold)
