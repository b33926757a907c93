"""Several workers: the live state they share through Redis (``REDIS_URL``).

Each socket lives on one worker, but the questions asked about sockets span the cluster: how
many phones are online, which languages are read, which sockets belong to a participant or a
facilitator (to disconnect them, wherever they are). Redis holds, under REDIS_PREFIX:

  sid:<sid>                    "workshop role locale participant facilitator host"
  ws:<id>:sids / ws:<id>:people  sets of sids (all of a workshop / its phones)
  ws:<id>:locs, ws:<id>:loc:<l>  the languages seen, and the sids reading each
  part:<id> / fac:<id>           sets of sids of a participant / a facilitator
  host:<host>, hosts, alive:<host>  each worker's sids and its heartbeat, so the sockets of a
                                 worker that died are forgotten by the others (within ~40 s)
  seq:<id>                       the seq of the last push (``prev_seq``), swapped atomically
  gen:<id> / pushed:<id>         changes announced (INCR after commits) / covered by a push
  push:<id>                      the push lock: whoever holds it pushes, at most once per interval
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..extensions import socketio

if TYPE_CHECKING:  # rooms imports this module; the type is all that is needed here
    from .rooms import Connection


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
    """The live state that several workers share through Redis.

    ``local`` returns a copy of this worker's own connections (sid → Connection): the
    heartbeat compares it with what Redis holds for this worker.
    """

    def __init__(
        self,
        url: str,
        prefix: str,
        heartbeat: float = 10.0,
        *,
        local: Callable[[], Mapping[str, Connection]],
    ) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix.rstrip(":") + ":"
        self.host = uuid.uuid4().hex
        self._claim = self.redis.register_script(_CLAIM)
        self._done = self.redis.register_script(_DONE)
        self._push_meta = self.redis.register_script(_PUSH_META)
        self._heartbeat_started = False
        self.heartbeat = heartbeat  # seconds; a worker counts as gone after three missed
        self.local = local

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
        local = self.local()
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


# What claim() answers: the change was covered already, the push lock is ours, or it is busy.
COVERED, LOCKED, BUSY = 0, 1, 2
