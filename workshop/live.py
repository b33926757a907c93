"""Who is connected where, and the one helper that pushes state to every audience."""

from __future__ import annotations

import os
import threading
import time
import uuid
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
    cluster = _cluster()
    if cluster is not None:
        cluster.register(sid, connection)


def forget(sid: str) -> Connection | None:
    """Drop a connection, on this worker or (with Redis) on any; return it if it was local."""
    with _lock:
        _buckets.pop(sid, None)
        gone = _connections.pop(sid, None)
    cluster = _cluster()
    if cluster is not None:
        cluster.forget(sid)
    return gone


def connection(sid: str) -> Connection | None:
    """The connection of a socket on this worker (every handler runs where its socket is)."""
    with _lock:
        return _connections.get(sid)


def sids_of_participant(participant_id: int) -> list[str]:
    cluster = _cluster()
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
    cluster = _cluster()
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
    cluster = _cluster()
    if cluster is not None:
        return _disconnect(cluster.sids(f"fac:{facilitator_id}"))
    with _lock:
        sids = [sid for sid, c in _connections.items() if c.facilitator_id == facilitator_id]
    return _disconnect(sids)


def online_count(workshop_id: int) -> int:
    """Count the connected phones of a workshop (on every worker, with Redis)."""
    cluster = _cluster()
    if cluster is not None:
        return cluster.online(workshop_id)
    with _lock:
        return sum(
            1 for c in _connections.values() if c.workshop_id == workshop_id and c.role == "people"
        )


def locales_of(workshop_id: int) -> list[str]:
    """Return the languages the connected clients of a workshop read, configured ones first."""
    cluster = _cluster()
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
    cluster = _cluster()
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

    Phones and presenter get the public snapshot; the facilitator's console gets the full
    one. Each language's room gets the snapshot with its labels (phase, voting method, results
    text) translated for it. Every snapshot carries ``prev_seq``, the seq of the previous push.
    """
    with _push_lock:
        workshop = services.get_workshop(workshop_id)
        cluster = _cluster()
        if cluster is not None:  # the previous push of any worker; one round trip to Redis
            prev_seq, online, present = cluster.push_meta(workshop_id, workshop.seq)
            locales = _ordered_locales(present)
        else:
            online = online_count(workshop_id)
            prev_seq = _pushed_seq.get(workshop_id)
            _pushed_seq[workshop_id] = workshop.seq
            locales = locales_of(workshop_id)
        with state.one_push():  # tallies and lists once, labels per language
            for locale in locales:
                with force_locale(locale):
                    public = state.public_state(workshop)
                    public["people"]["online"] = online
                    public["prev_seq"] = prev_seq
                    socketio.emit("state", public, to=room(workshop_id, "screen", locale))
                    socketio.emit("state", public, to=room(workshop_id, "people", locale))
                    socketio.sleep(0)  # let waiting handlers (acks) run between the snapshots
                    full = state.facilitator_state(workshop, public)
                    full["prev_seq"] = prev_seq
                    socketio.emit("state", full, to=room(workshop_id, "facilitator", locale))


# --- Several workers: shared state in Redis (REDIS_URL) ----------------------------------------
#
# Each socket lives on one worker, but the questions asked about sockets span the cluster: how
# many phones are online, which languages are read, which sockets belong to a participant or a
# facilitator (to disconnect them, wherever they are). Redis holds, under REDIS_PREFIX:
#
#   sid:<sid>                    "workshop role locale participant facilitator host"
#   ws:<id>:sids / ws:<id>:people  sets of sids (all of a workshop / its phones)
#   ws:<id>:locs, ws:<id>:loc:<l>  the languages seen, and the sids reading each
#   part:<id> / fac:<id>           sets of sids of a participant / a facilitator
#   host:<host>, hosts, alive:<host>  each worker's sids and its heartbeat, so the sockets of a
#                                  worker that died are forgotten by the others (within ~40 s)
#   seq:<id>                       the seq of the last push (``prev_seq``), swapped atomically
#   gen:<id> / pushed:<id>         changes announced (INCR after commits) / covered by a push
#   push:<id>                      the push lock: whoever holds it pushes, at most once per interval


# Announce this worker's pending change (optional), then: covered already by a push (0), or
# the push lock taken (1, with every change announced so far), or the lock held elsewhere (2,
# with its milliseconds left). KEYS: gen, pushed, lock; ARGV: announce, wanted, token, ms.
_CLAIM = """
local wanted = tonumber(ARGV[2])
if ARGV[1] == '1' then wanted = redis.call('INCR', KEYS[1]) end
local pushed = tonumber(redis.call('GET', KEYS[2]) or '0')
if pushed >= wanted then return {0, wanted, 0} end
if redis.call('SET', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[4]) then
    return {1, wanted, tonumber(redis.call('GET', KEYS[1]) or '0')}
end
return {2, wanted, redis.call('PTTL', KEYS[3])}
"""
# After a push: record what it covered, and keep the lock (if still ours) ``ms`` longer.
# KEYS: pushed, lock; ARGV: covered, token, ms.
_DONE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 0
"""
# What a push needs: the previous push's seq (swapped for this one's), phones online, and the
# languages in use. KEYS: seq, people, locs; ARGV: seq, prefix of the per-language sets.
_PUSH_META = """
local previous = redis.call('SET', KEYS[1], ARGV[1], 'GET')
local online = redis.call('SCARD', KEYS[2])
local present = {}
for _, locale in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    if redis.call('SCARD', ARGV[2] .. locale) > 0 then table.insert(present, locale) end
end
return {previous, online, present}
"""
LOCK_SAFETY_MS = 30_000  # a pusher that dies mid-push holds the lock at most this long


class Cluster:
    """The live state that several workers share through Redis."""

    def __init__(self, url: str, prefix: str, heartbeat: float = 10.0) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix.rstrip(":") + ":"
        self.host = uuid.uuid4().hex
        self._claim = self.redis.register_script(_CLAIM)
        self._done = self.redis.register_script(_DONE)
        self._push_meta = self.redis.register_script(_PUSH_META)
        self._heartbeat_started = False
        self.heartbeat = heartbeat  # seconds; a worker counts as gone after three missed

    def key(self, name: str) -> str:
        return self.prefix + name

    # Presence.

    def register(self, sid: str, c: Connection) -> None:
        self.start_heartbeat()
        k = self.key
        ws = c.workshop_id
        pipe = self.redis.pipeline()
        record = f"{ws} {c.role} {c.locale} {c.participant_id or 0} {c.facilitator_id or 0}"
        pipe.set(k(f"sid:{sid}"), f"{record} {self.host}")
        pipe.sadd(k(f"host:{self.host}"), sid)
        pipe.sadd(k(f"ws:{ws}:sids"), sid)
        if c.role == "people":
            pipe.sadd(k(f"ws:{ws}:people"), sid)
        pipe.sadd(k(f"ws:{ws}:locs"), c.locale)
        pipe.sadd(k(f"ws:{ws}:loc:{c.locale}"), sid)
        if c.participant_id:
            pipe.sadd(k(f"part:{c.participant_id}"), sid)
        if c.facilitator_id:
            pipe.sadd(k(f"fac:{c.facilitator_id}"), sid)
        pipe.execute()

    def forget(self, sid: str) -> None:
        k = self.key
        record = self.redis.get(k(f"sid:{sid}"))
        if record is None:
            return  # forgotten already (both the disconnecting worker and the owner forget)
        ws, _role, locale, participant, facilitator, host = record.split(" ")
        pipe = self.redis.pipeline()
        pipe.delete(k(f"sid:{sid}"))
        pipe.srem(k(f"host:{host}"), sid)
        pipe.srem(k(f"ws:{ws}:sids"), sid)
        pipe.srem(k(f"ws:{ws}:people"), sid)
        pipe.srem(k(f"ws:{ws}:loc:{locale}"), sid)
        if participant != "0":
            pipe.srem(k(f"part:{participant}"), sid)
        if facilitator != "0":
            pipe.srem(k(f"fac:{facilitator}"), sid)
        pipe.execute()

    def sids(self, name: str) -> list[str]:
        return sorted(self.redis.smembers(self.key(name)))

    def online(self, workshop_id: int) -> int:
        return int(self.redis.scard(self.key(f"ws:{workshop_id}:people")))

    def locales(self, workshop_id: int) -> set[str]:
        known = sorted(self.redis.smembers(self.key(f"ws:{workshop_id}:locs")))
        pipe = self.redis.pipeline()
        for locale in known:
            pipe.scard(self.key(f"ws:{workshop_id}:loc:{locale}"))
        return {locale for locale, n in zip(known, pipe.execute(), strict=True) if n}

    def start_heartbeat(self) -> None:
        if self._heartbeat_started:
            return
        self._heartbeat_started = True
        self.beat()
        socketio.start_background_task(self._heartbeat)

    def beat(self) -> None:
        """Say this worker is alive, and forget the sockets of workers that are not.

        Also repair this worker's own entries: after Redis was restarted (or this worker was
        taken for dead during a long stall) its sockets are registered again, and entries of
        sockets it no longer has are dropped.
        """
        k = self.key
        pipe = self.redis.pipeline()
        pipe.set(k(f"alive:{self.host}"), "1", px=int(3000 * self.heartbeat))
        pipe.sadd(k("hosts"), self.host)
        pipe.smembers(k(f"host:{self.host}"))
        registered = pipe.execute()[2]
        with _lock:
            local = dict(_connections)
        for sid in set(registered) - set(local):
            self.forget(sid)
        for sid in set(local) - set(registered):
            self.register(sid, local[sid])
        for host in self.redis.smembers(k("hosts")):
            if host != self.host and not self.redis.exists(k(f"alive:{host}")):
                for sid in self.redis.smembers(k(f"host:{host}")):
                    self.forget(sid)
                self.redis.delete(k(f"host:{host}"))
                self.redis.srem(k("hosts"), host)

    def _heartbeat(self) -> None:
        while True:
            socketio.sleep(self.heartbeat)
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - Redis away for a moment: try again later
                pass

    # Pushes.

    def push_meta(self, workshop_id: int, seq: int) -> tuple[int | None, int, set[str]]:
        """Swap in this push's seq; return the previous one, phones online, languages in use."""
        k = self.key
        previous, online, present = self._push_meta(
            keys=[
                k(f"seq:{workshop_id}"),
                k(f"ws:{workshop_id}:people"),
                k(f"ws:{workshop_id}:locs"),
            ],
            args=[seq, k(f"ws:{workshop_id}:loc:")],
        )
        return (int(previous) if previous is not None else None), int(online), set(present)

    def claim(self, workshop_id: int, announce: bool, wanted: int) -> tuple[int, int, Any]:
        """Announce a change (optional) and try to take the push lock; see ``_CLAIM``."""
        k = self.key
        token = uuid.uuid4().hex
        status, wanted, value = self._claim(
            keys=[k(f"gen:{workshop_id}"), k(f"pushed:{workshop_id}"), k(f"push:{workshop_id}")],
            args=[1 if announce else 0, wanted, token, LOCK_SAFETY_MS],
        )
        return int(status), int(wanted), (token, int(value)) if status == 1 else int(value)

    def done(self, workshop_id: int, token: str, covered: int, hold: float) -> None:
        """Record the changes a push covered; keep the lock ``hold`` seconds more."""
        self._done(
            keys=[self.key(f"pushed:{workshop_id}"), self.key(f"push:{workshop_id}")],
            args=[covered, token, max(1, int(hold * 1000))],
        )


_clusters: dict[tuple[str, str, int], Cluster] = {}


def _cluster() -> Cluster | None:
    """The shared state when ``REDIS_URL`` is set (one client per worker process), else None."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    key = (url, str(current_app.config.get("REDIS_PREFIX") or "malverkstad"), os.getpid())
    with _lock:
        cluster = _clusters.get(key)
        if cluster is None:
            heartbeat = float(current_app.config.get("REDIS_HEARTBEAT") or 10)
            cluster = _clusters[key] = Cluster(url, key[1], heartbeat)
    return cluster


COVERED, LOCKED, BUSY = 0, 1, 2


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
