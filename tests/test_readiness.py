"""``/readyz``: 200 when every part answers, 503 naming the part that does not.

Redis is a real Debian ``redis-server`` on a free port (``tests/cluster.py`` starts it), and a
port where nothing listens stands for Redis being down. ``REDIS_URL`` is set on the app after it
was created: readiness reads it per request, and the app's Socket.IO message queue (which would
keep retrying a dead Redis for the rest of the session) stays out of it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from workshop import create_app
from workshop.resources import version

from .cluster import free_port, redis_binary, redis_command, wait_redis


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A running redis-server's URL, stopped after the test."""
    pytest.importorskip("redis")  # the "production" extra
    if not os.path.exists(redis_binary()):
        pytest.skip("needs Debian's redis-server (scripts/test.sh installs it)")
    port = free_port()
    log = tmp_path / "redis.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            redis_command(port, tmp_path / "redis"),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_redis(server, port, log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_ready_with_the_database_only(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "ok": True,
        "checked": ["database"],
        "failing": [],
        "version": version(),
    }


def test_ready_when_redis_answers(app: Flask, client: FlaskClient, redis_url: str) -> None:
    app.config["REDIS_URL"] = redis_url
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checked"] == ["database", "redis"]
    assert response.get_json()["ok"] is True


def test_not_ready_when_redis_is_down(app: Flask, client: FlaskClient) -> None:
    pytest.importorskip("redis")
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "ok": False,
        "checked": ["database", "redis"],
        "failing": ["redis"],
        "version": version(),
    }
    # Liveness is not readiness: the process and its database still answer.
    assert client.get("/healthz").status_code == 200


def test_not_ready_when_the_database_is_down() -> None:
    # PostgreSQL on a port where nothing listens; nothing at start may connect to it.
    url = f"postgresql://malverkstad@127.0.0.1:{free_port()}/malverkstad"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "MIGRATE_ON_START": False}
        | {"RETENTION_DAYS": 0, "TESTING": True}
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["database"]
    assert app.test_client().get("/healthz").status_code == 503
