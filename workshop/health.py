"""Readiness: the parts the app needs to serve, each asked with a short timeout.

``/healthz`` says the process is alive (and reaches its database); ``/readyz`` asks every part a
request may need: the database (``SELECT 1``) and, when ``REDIS_URL`` is set, Redis (``PING``),
which carries every live push between the workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from .extensions import db

TIMEOUT = 2.0  # seconds per part: a probe must answer before a load balancer gives up on it


def database_answers() -> bool:
    """Whether the app's database answers ``SELECT 1`` (app context)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        db.session.rollback()
        return False


def redis_answers(url: str, timeout: float = TIMEOUT) -> bool:
    """Whether the Redis at ``url`` answers ``PING``, on a connection of its own."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def readiness(config: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The parts checked and those of them that failed (app context)."""
    checks = {"database": database_answers}
    if config.get("REDIS_URL"):
        checks["redis"] = lambda: redis_answers(str(config["REDIS_URL"]))
    failing = [part for part, answers in checks.items() if not answers()]
    return list(checks), failing
