"""Sessions, forms and headers: CSRF, login lockout, logging out everywhere, CSP, same origin."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from workshop import create_app, services
from workshop.extensions import db, socketio
from workshop.models import LoginAttempt, Workshop, utcnow

from .conftest import PASSWORD, connect, table_rows

REPO = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_from(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, path
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no form token on {path}"
    return match.group(1)


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def login(client: FlaskClient, **data: str) -> Any:
    return client.post("/login", data={"username": "samtalsledare", "password": PASSWORD, **data})


# --- CSRF -----------------------------------------------------------------------------------


def test_every_post_form_in_the_templates_carries_a_token() -> None:
    """Put the hidden csrf_token input right inside every server-rendered POST form."""
    for template in sorted((REPO / "templates").glob("*.html")):
        text = template.read_text()
        for match in re.finditer(r"<form[^>]*method=\"post\"[^>]*>", text):
            following = text[match.end() : match.end() + 200]
            assert 'name="csrf_token" value="{{ csrf_token() }}"' in following, (
                f"{template.name}: {match.group(0)}"
            )


def test_login_without_a_token_is_refused(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    before = table_rows(csrf_app)
    response = login(client)
    assert response.status_code == 400
    assert "Ladda om sidan" in response.get_data(as_text=True)
    assert table_rows(csrf_app) == before
    assert client.get("/f/").status_code == 302  # not logged in

    response = login(client, csrf_token=token_from(client, "/login"))
    assert response.status_code == 302
    assert client.get("/f/").status_code == 200


def test_facilitator_forms_without_a_token_change_nothing(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    assert login(client, csrf_token=token_from(client, "/login")).status_code == 302
    with csrf_app.app_context():
        workshop_id = services.create_from_template().id
    attempts = [
        ("/f/ny-mall", {}),
        ("/f/ny", {"title": "Kapad", "goals": "Arbete; 1; Mål"}),
        (f"/f/{workshop_id}/redigera", {"title": "Kapad"}),
        (f"/f/{workshop_id}/status", {"action": "start"}),
        (f"/f/{workshop_id}/radera", {"confirm": "ja"}),
        (f"/f/{workshop_id}/radera-personuppgifter", {"confirm": "ja"}),
        ("/logout", {}),
    ]
    for path, data in attempts:
        before = table_rows(csrf_app)
        for bad in ({}, {"csrf_token": "förfalskad"}):
            response = client.post(path, data={**data, **bad})
            assert response.status_code == 400, path
            assert table_rows(csrf_app) == before, path
    assert client.get("/f/").status_code == 200  # the refused logout did not log out

    token = token_from(client, f"/f/{workshop_id}/redigera")
    response = client.post(
        f"/f/{workshop_id}/status", data={"action": "start", "csrf_token": token}
    )
    assert response.status_code == 302
    with csrf_app.app_context():
        assert db.session.get(Workshop, workshop_id).status == "pagar"


def test_joining_needs_the_token_of_the_join_page(csrf_app: Flask) -> None:
    with csrf_app.app_context():
        workshop = services.create_from_template()
        code = workshop.join_code
    phone = csrf_app.test_client()
    before = table_rows(csrf_app)
    assert phone.post(f"/j/{code}").status_code == 400
    assert phone.post("/", data={"code": code}).status_code == 400
    assert table_rows(csrf_app) == before
    response = phone.post(f"/j/{code}", data={"csrf_token": token_from(phone, f"/j/{code}")})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/w/{code}"


# --- Login lockout --------------------------------------------------------------------------


def test_login_locks_after_five_failures(app: Flask, client: FlaskClient) -> None:
    for _ in range(5):
        assert login(client, password="gissat").status_code == 401
    response = login(client)  # even the right password is refused while locked
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "För många misslyckade inloggningsförsök" in page
    assert "Försök igen om 15 minuter" in page
    assert client.get("/f/").status_code == 302

    # Another address is not locked out by this one.
    other = app.test_client()
    response = other.post(
        "/login",
        data={"username": "samtalsledare", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 302

    # The attempts are in the database: a restarted (or second) worker still refuses.
    second = create_app({**app.config, "PURGE_ON_START": False})
    assert login(second.test_client()).status_code == 429

    # 15 minutes later the lock has passed.
    with app.app_context():
        db.session.execute(
            sa.update(LoginAttempt).values(at=LoginAttempt.at - dt.timedelta(minutes=15))
        )
        db.session.commit()
    assert login(client).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == 0


def test_lock_minutes_count_down(app: Flask) -> None:
    now = utcnow()
    with app.app_context():
        for minutes_ago in (10, 9, 8, 7, 6):
            with pytest.raises(services.DomainError):
                services.login(
                    "samtalsledare", "fel", "1.2.3.4", now - dt.timedelta(minutes=minutes_ago)
                )
        with pytest.raises(services.LoginLocked) as locked:
            services.login("samtalsledare", PASSWORD, "1.2.3.4", now)
        assert locked.value.minutes == 5  # the oldest failure is 15 minutes old in 5 minutes
        assert services.login("samtalsledare", PASSWORD, "1.2.3.4", now + dt.timedelta(minutes=6))


def test_many_usernames_from_one_address_lock_it(app: Flask) -> None:
    with app.app_context():
        for n in range(services.LOGIN_MAX_FAILURES_PER_IP):
            with pytest.raises(services.DomainError) as failed:
                services.login(f"gissning{n}", "fel", "5.6.7.8")
            assert failed.value.code == "bad_login"
        with pytest.raises(services.LoginLocked):
            services.login("samtalsledare", PASSWORD, "5.6.7.8")


# --- Cookies and logging out ----------------------------------------------------------------


def test_session_cookie_flags(app: Flask, client: FlaskClient) -> None:
    cookie = login(client).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on the LAN; behind TLS it is set:


def test_session_cookie_is_secure_behind_tls(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://mal.example.se")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 's.db'}")
    app = create_app({"WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        services.create_facilitator("samtalsledare", PASSWORD)
    client = app.test_client()
    response = client.post(
        "/login",
        data={"username": "samtalsledare", "password": PASSWORD},
        base_url="https://mal.example.se",
    )
    assert "Secure" in response.headers["Set-Cookie"]
    assert "max-age" in response.headers["Strict-Transport-Security"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_logout_ends_every_session_and_socket(app: Flask, create_workshop: Any) -> None:
    workshop_id = create_workshop()
    laptop, tablet = app.test_client(), app.test_client()
    assert login(laptop).status_code == 302
    assert login(tablet).status_code == 302
    console = connect(app, laptop, workshop_id, "facilitator")
    other_console = connect(app, tablet, workshop_id, "facilitator")
    screen = connect(app, tablet, workshop_id, "screen")
    with app.app_context():
        key = db.session.get(Workshop, workshop_id).screen_key
    projector = connect(app, app.test_client(), workshop_id, "screen", key=key)
    assert console.is_connected() and other_console.is_connected() and screen.is_connected()

    assert laptop.post("/logout").status_code == 302
    assert not console.is_connected()
    assert not other_console.is_connected()
    assert not screen.is_connected()
    assert projector.is_connected()  # let in by the presenter key, not by the session
    assert laptop.get("/f/").status_code == 302
    assert tablet.get("/f/").status_code == 302  # the other browser is logged out too
    # The old cookie no longer opens a console either.
    assert not connect(app, tablet, workshop_id, "facilitator").is_connected()
    assert login(tablet).status_code == 302
    assert connect(app, tablet, workshop_id, "facilitator").is_connected()


def test_socket_of_an_ended_session_is_refused_per_event(
    app: Flask, client: FlaskClient, create_workshop: Any
) -> None:
    """A console socket that outlived its session (e.g. on another worker) gets no more events."""
    workshop_id = create_workshop()
    assert login(client).status_code == 302
    console = connect(app, client, workshop_id, "facilitator")
    with app.app_context():
        services.logout(db.session.scalar(sa.text("SELECT id FROM facilitator")))
    before = table_rows(app)
    ack = console.emit("workshop:close", {}, callback=True)
    assert ack["ok"] is False and ack["code"] == "login_required"
    assert table_rows(app) == before


# --- Headers and same origin ----------------------------------------------------------------


def test_security_headers(app: Flask, client: FlaskClient, create_workshop: Any) -> None:
    workshop_id = create_workshop()
    with app.app_context():
        code = db.session.get(Workshop, workshop_id).join_code
    login(client)
    for path in (
        "/",
        "/login",
        f"/j/{code}",
        f"/f/{workshop_id}",
        "/healthz",
        "/static/js/common.js",
    ):
        response = client.get(path)
        response.close()
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["img-src"] == "'self' data:"
        assert directives["connect-src"] == "'self' ws://localhost wss://localhost"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["base-uri"] == "'self'"
        assert directives["form-action"] == "'self'"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers


def test_csp_ignores_a_hostile_host_header(client: FlaskClient) -> None:
    csp = client.get("/", headers={"Host": "evil; script-src *"}).headers.get(
        "Content-Security-Policy", ""
    )
    assert "script-src *" not in csp


def test_templates_have_no_inline_script_or_style() -> None:
    """Keep the CSP honest: scripts only from files or as JSON data, no style attributes."""
    for template in sorted((REPO / "templates").glob("*.html")):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, f"{template.name}: {tag}"
        assert not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert "<style" not in text, template.name


def test_socketio_is_same_origin_only(app: Flask, client: FlaskClient) -> None:
    """Refuse a Socket.IO handshake from a page on another origin (cross-site WebSocket)."""
    assert app.extensions["socketio"].server.eio.cors_allowed_origins != "*"
    path = "/socket.io/?EIO=4&transport=polling"
    foreign = client.get(path, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 400
    foreign_ws = client.get(
        "/socket.io/?EIO=4&transport=websocket",
        headers={"Origin": "http://evil.example", "Upgrade": "websocket", "Connection": "Upgrade"},
    )
    assert foreign_ws.status_code == 400
    same = client.get(path, headers={"Origin": "http://localhost"})
    assert same.status_code == 200
    assert same.get_data(as_text=True).startswith("0{")
    assert socketio.server is app.extensions["socketio"].server
