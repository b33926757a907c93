"""Throttles: how often something may happen per key (a client address, a workshop).

Configured as ``"<count>/<seconds>"`` (``"20/600"``: 20 per 10 minutes; ``"0"`` or empty: no
limit). Without Redis each server process keeps a token bucket per key in memory (the bucket
refills continuously, so a burst of ``count`` is allowed and then one per ``seconds/count``);
with ``REDIS_URL`` set the workers share a fixed-window counter per key in Redis, so the limit
holds for the whole installation. The buckets live on the app, so two apps in one process (the
tests) never share them.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app

# Buckets kept at most per process before the full (idle) ones are dropped.
MAX_KEYS = 20_000


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: float

    @classmethod
    def parse(cls, text: Any) -> Limit | None:
        """Read ``"20/600"``; None for no limit (``"0"``, empty, or a count of 0)."""
        raw = str(text or "").strip()
        if not raw or raw == "0":
            return None
        count, _, seconds = raw.partition("/")
        limit = cls(int(count), float(seconds or 60))
        if limit.count <= 0 or limit.seconds <= 0:
            return None
        return limit


class Buckets:
    """Token buckets per key in this process (``take`` is thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[tuple[str, str], list[float]] = {}

    def take(self, name: str, key: str, limit: Limit) -> float:
        """Spend one token; return 0 when allowed, else the seconds until one is back."""
        now = time.monotonic()
        rate, capacity = limit.count / limit.seconds, float(limit.count)
        with self.lock:
            bucket = self.buckets.get((name, key))
            if bucket is None:
                if len(self.buckets) >= MAX_KEYS:
                    self.prune(now)
                bucket = self.buckets[(name, key)] = [capacity, now, rate, capacity]
            bucket[0] = min(capacity, bucket[0] + (now - bucket[1]) * rate)
            bucket[1:] = [now, rate, capacity]
            if bucket[0] < 1:
                return (1 - bucket[0]) / rate
            bucket[0] -= 1
            return 0.0

    def prune(self, now: float) -> None:
        """Forget the buckets that have refilled (as good as new), else the older half.

        Memory stays bounded even when the keys are endless (an attacker's IPv6 addresses).
        """
        items = self.buckets.items()
        full = [k for k, (tokens, at, rate, cap) in items if tokens + (now - at) * rate >= cap]
        for key in full:
            del self.buckets[key]
        if len(self.buckets) >= MAX_KEYS:
            by_age = sorted(self.buckets, key=lambda k: self.buckets[k][1])
            for key in by_age[: len(by_age) // 2]:
                del self.buckets[key]


_redis_clients: dict[tuple[str, int], Any] = {}
_redis_lock = threading.Lock()


def _redis(url: str) -> Any:
    import redis

    key = (url, os.getpid())
    with _redis_lock:
        if key not in _redis_clients:
            # Short timeouts: a Redis that does not answer must not hold a join for long.
            _redis_clients[key] = redis.Redis.from_url(
                url, socket_timeout=1, socket_connect_timeout=1
            )
        return _redis_clients[key]


def _take_redis(name: str, key: str, limit: Limit) -> float:
    """One fixed window per key in Redis: INCR, expiring with the window."""
    config = current_app.config
    now = time.time()
    window = math.floor(now / limit.seconds)
    prefix = str(config.get("REDIS_PREFIX") or "malverkstad")
    redis_key = f"{prefix}:throttle:{name}:{key}:{window}"
    pipe = _redis(str(config["REDIS_URL"])).pipeline()
    pipe.incr(redis_key)
    pipe.expire(redis_key, math.ceil(limit.seconds) + 1)
    used = int(pipe.execute()[0])
    if used <= limit.count:
        return 0.0
    return (window + 1) * limit.seconds - now


def take(name: str, key: str, setting: str) -> float:
    """Spend one of ``key``'s allowance under the limit configured as ``setting``.

    Return 0 when allowed, else the seconds to wait. No limit configured: always 0.
    """
    limit = Limit.parse(current_app.config.get(setting))
    if limit is None:
        return 0.0
    if current_app.config.get("REDIS_URL"):
        try:
            return _take_redis(name, key, limit)
        except Exception:  # Redis away: this process's own count is better than none
            current_app.logger.warning("throttle %s: Redis unreachable, counting locally", name)
    buckets = current_app.extensions.setdefault("malverkstad.throttles", Buckets())
    return buckets.take(name, key, limit)
