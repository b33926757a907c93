"""Join codes cannot be guessed at full speed: GET /j/<code>, /qr and the start page's form.

Before the throttle one client made 414 guesses/s on ``/j`` and 499/s on ``/qr`` (which also
answered for closed workshops). Now each address has a bucket (``JOIN_CODE_BURST``, refilled at
``JOIN_CODE_RATE`` per second) and gets 429 with a short Swedish page past it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from workshop import create_app, services
from workshop.extensions import db
from workshop.models import Workshop

from .test_transport_limits import Server, http

MESSAGE = "För många försök från din adress. Vänta en stund och försök igen."


def code_of(app: Flask, workshop_id: int) -> str:
    with app.app_context():
        return db.session.get(Workshop, workshop_id).join_code


def small(app: Flask, burst: int = 5) -> None:
    """A small bucket that does not refill within the test."""
    app.config.update(JOIN_CODE_BURST=burst, JOIN_CODE_RATE=0.001)


def test_after_the_burst_join_codes_answer_429_and_normal_use_is_unaffected(
    app: Flask, create_workshop: Any
) -> None:
    small(app, burst=4)  # the POST that joins is not counted here
    code = code_of(app, create_workshop())
    phone = app.test_client()
    # A phone's normal use: open the join page, see the QR code, join.
    assert phone.get(f"/j/{code}").status_code == 200
    assert phone.get(f"/qr/{code}.svg").status_code == 200
    assert phone.post(f"/j/{code}", data={"name": "Ada"}).status_code == 302
    assert phone.get(f"/j/{code}").status_code == 302  # joined: on to the room
    assert phone.get("/j/AAAAAA").status_code == 404  # a wrong code: the fourth request counted
    for url in ("/j/AAAAAA", f"/j/{code}", "/qr/AAAAAA.svg", f"/qr/{code}.svg"):
        refused = phone.get(url)
        assert refused.status_code == 429, url
        assert MESSAGE in refused.get_data(as_text=True)
        assert refused.headers["Retry-After"].isdigit()
    assert phone.post("/", data={"code": "AAAAAA"}).status_code == 429
    # The room itself, and other addresses, are not throttled.
    assert phone.get(f"/w/{code}").status_code == 200
    other = app.test_client()
    other_address = {"REMOTE_ADDR": "127.0.0.2"}
    assert other.get(f"/j/{code}", environ_overrides=other_address).status_code == 200


def test_the_429_page_is_translated(app: Flask, create_workshop: Any) -> None:
    small(app, burst=1)
    client = app.test_client()
    client.get("/j/AAAAAA", headers={"Accept-Language": "en"})
    refused = client.get("/j/AAAAAA", headers={"Accept-Language": "en"})
    assert refused.status_code == 429
    assert "Too many attempts from your address. Wait a moment and try again." in refused.text


def test_the_qr_code_is_not_served_for_a_closed_workshop(app: Flask, create_workshop: Any) -> None:
    workshop_id = create_workshop()
    code = code_of(app, workshop_id)
    client = app.test_client()
    assert client.get(f"/qr/{code}.svg").status_code == 200
    with app.app_context():
        services.close_workshop(workshop_id)
    assert client.get(f"/qr/{code}.svg").status_code == 404
    assert client.get("/qr/AAAAAA.svg").status_code == 404


@pytest.fixture
def proxied(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "PUBLIC_URL": "http://mote.example:5000",
            "WTF_CSRF_ENABLED": False,
            "PUSH_INTERVAL": 0,
            "PROXY_FIX": 1,
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_behind_the_proxy_the_forwarded_client_address_counts(proxied: Flask) -> None:
    small(proxied, burst=2)
    client = proxied.test_client()

    def get(forwarded: str) -> int:
        return client.get("/j/AAAAAA", headers={"X-Forwarded-For": forwarded}).status_code

    assert [get("198.51.100.7") for _ in range(3)] == [404, 404, 429]
    assert get("198.51.100.8") == 404  # another phone behind the same proxy
    # A client cannot pick its address: only the hop the proxy added is trusted.
    assert get("203.0.113.1, 198.51.100.7") == 429


def test_guesses_per_second_against_the_running_server(tmp_path: Path, database_url: str) -> None:
    server = Server(tmp_path, database_url, "threading", JOIN_CODE_BURST="10", JOIN_CODE_RATE="2")
    try:
        session = http()
        answers: dict[str, list[int]] = {}
        for route in ("/j/AAAAAA", "/qr/AAAAAA.svg"):
            start = time.monotonic()
            statuses = []
            while time.monotonic() - start < 2.0:
                statuses.append(session.get(server.url + route, timeout=5).status_code)
            answers[route] = statuses
            time.sleep(5.5)  # refill: the bucket is one per address for both routes
        for route, statuses in answers.items():
            answered = sum(status == 404 for status in statuses)
            print(f"{route}: {len(statuses)} requests in 2 s, {answered} answered, rest 429")
            assert set(statuses) <= {404, 429}
            assert answered <= 10 + 2 * 2 + 1  # the burst and two per second
            assert statuses.count(429) > 0
    finally:
        server.stop()
