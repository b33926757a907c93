"""The session cookie is verified once and remembered; a forged or expired one still fails."""

from __future__ import annotations

import datetime as dt
import time

from flask import Flask, session
from flask.testing import FlaskClient

from workshop.sessions import RememberingSessionInterface


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _read(app: Flask, cookie: str) -> dict:
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        return {k: v for k, v in session.items() if k != "_permanent"}


def test_the_app_uses_the_remembering_interface(app: Flask) -> None:
    assert isinstance(app.session_interface, RememberingSessionInterface)


def test_a_logged_in_facilitator_is_recognised_on_every_request(
    app: Flask, client: FlaskClient, auth
) -> None:
    auth.login()
    for _ in range(3):  # the first read verifies the cookie, the others come from memory
        assert client.get("/f/").status_code == 200
    auth.logout()
    response = client.get("/f/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_changing_a_remembered_session_does_not_change_the_next_read(
    app: Flask, client: FlaskClient
) -> None:
    client.get("/sprak/en")
    cookie = _cookie(client)
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        assert session["lang"] == "en"
        session["lang"] = "sv"
        session["p"] = {"1": "x"}
    assert _read(app, cookie) == {"lang": "en"}


def test_a_forged_cookie_is_refused_even_after_the_real_one_was_remembered(
    app: Flask, client: FlaskClient
) -> None:
    client.get("/sprak/en")
    cookie = _cookie(client)
    assert _read(app, cookie) == {"lang": "en"}
    payload, _, signature = cookie.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _read(app, forged) == {}
    other_key = Flask(__name__)
    other_key.secret_key = "another key"
    other_key.session_interface = app.session_interface  # shared cache, different key
    assert _read(other_key, cookie) == {}


def test_an_expired_cookie_is_refused_once_its_memory_ran_out(
    app: Flask, client: FlaskClient
) -> None:
    app.session_interface = RememberingSessionInterface(ttl=0.05)
    client.get("/sprak/en")
    cookie = _cookie(client)
    assert _read(app, cookie) == {"lang": "en"}
    app.permanent_session_lifetime = dt.timedelta(seconds=0)
    time.sleep(1.1)  # itsdangerous counts whole seconds
    assert _read(app, cookie) == {}


def test_memory_is_bounded(app: Flask) -> None:
    interface = RememberingSessionInterface(size=3)
    app.session_interface = interface
    with app.test_client() as client:
        for lang in ("en", "sv", "en", "sv", "en"):
            client.get(f"/sprak/{lang}")
            client.delete_cookie("session")
            client.get(f"/sprak/{lang}")
            _read(app, _cookie(client))
    assert len(interface._cache) <= 3
