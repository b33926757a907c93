"""Fixtures: an app on a fresh database, HTTP clients, and Socket.IO clients per audience.

The database is SQLite by default; ``--database=postgresql`` (or ``TEST_DATABASE=postgresql``)
starts a throwaway PostgreSQL server for the session and gives each test its own database.
Either way the schema comes from the migrations, run once per session into a template that
each test copies (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL).
"""

from __future__ import annotations

import gc
import os
import secrets
import shutil
import weakref
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from workshop import create_app, services
from workshop.db import alembic_config
from workshop.extensions import db, socketio
from workshop.live import rooms
from workshop.models import Workshop

from .postgres import PostgresServer

PASSWORD = "rätt-lösenord-123"
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=BACKENDS,
        default=os.environ.get("TEST_DATABASE") or "sqlite",
        help="database the tests run on (default: $TEST_DATABASE or sqlite)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {config.getoption('--database')}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``sqlite_only`` (with their reason) on another database."""
    backend = config.getoption("--database")
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None and backend != "sqlite":
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


def migrate(url: str, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` on the database at ``url``."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


class Databases:
    """Hand out fresh databases of the session's backend: migrated copies, or bare ones."""

    def __init__(self, backend: str, root: Path) -> None:
        self.backend = backend
        self.root = root
        self.server: PostgresServer | None = None
        self.template = ""

    def start(self) -> Databases:
        if self.backend == "postgresql":
            self.server = PostgresServer().start()
            url = self.server.create_database()
            migrate(url)
            self.template = sa.make_url(url).database or ""
        else:
            path = self.root / "template.db"
            migrate(f"sqlite:///{path}")
            self.template = str(path)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def new(self, directory: Path, *, migrated: bool = True) -> str:
        """A URL of a fresh database at head (``migrated=False``: a bare, empty one)."""
        if self.server is not None:
            return self.server.create_database(self.template if migrated else None)
        path = directory / f"test-{secrets.token_hex(4)}.db"
        if migrated:
            shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        if self.server is not None:
            self.server.drop_database(url)


@pytest.fixture(scope="session")
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    """The session's database backend; a PostgreSQL server lives exactly as long as it."""
    backend = request.config.getoption("--database")
    started = Databases(backend, tmp_path_factory.mktemp("databases"))
    try:
        yield started.start()
    finally:
        started.stop()


# Every engine a test made, also those of apps a test creates itself: closed after the test, so
# no pooled PostgreSQL connection is left for the garbage collector (a ResourceWarning later).
_ENGINES: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


@sa.event.listens_for(sa.Engine, "engine_connect")
def _remember_engine(connection: sa.Connection) -> None:
    _ENGINES.add(connection.engine)


@pytest.fixture(autouse=True)
def _close_engines() -> Iterator[None]:
    yield
    for engine in list(_ENGINES):
        engine.dispose()
    _ENGINES.clear()


@pytest.fixture(autouse=True, scope="module")
def _collect_after_module() -> Iterator[None]:
    """A connection a module's tests left open (checked out past dispose, held by a dropped app)
    is collected at the module's end, so its ResourceWarning fails in that module, not in a
    random later one. Once per module: a collection per test made the suite ~60 ms a test slower."""
    yield
    gc.collect()


@pytest.fixture
def database_url(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest migration, dropped after the test."""
    url = databases.new(tmp_path)
    yield url
    databases.drop(url)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "PUBLIC_URL": "http://mote.example:5000",
            # Cheap hashing keeps the many logins fast; production uses scrypt.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # Form tokens are proved in tests/test_security.py; elsewhere tests post directly.
            "WTF_CSRF_ENABLED": False,
            # Push every change synchronously, so a test sees the state right after its action;
            # tests/test_live_load.py covers the coalesced pushes of production.
            "PUSH_INTERVAL": 0,
            # Every test phone joins from 127.0.0.1; tests/test_caps.py proves the join limit.
            "JOIN_LIMIT_PER_ADDRESS": "0",
        }
    )
    with app.app_context():
        services.create_facilitator("samtalsledare", PASSWORD)
    yield app
    # A coalesced push (PUSH_INTERVAL > 0) still running would open a connection after the
    # engine is disposed below, left to the garbage collector (psycopg's ResourceWarning).
    assert rooms.wait_for_pushes(10), "a live push was still running 10 s after the test"
    with app.app_context():
        # The connection registry lives in the process: sockets a test left open would count
        # for the next test's workshop 1 (ids start again in each test database).
        for sid in rooms.local_connections():
            rooms.forget(sid)
        rooms.forget_pushes()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class AuthActions:
    """Log a test client in and out as the facilitator."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str = "samtalsledare", password: str = PASSWORD) -> Any:
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self) -> Any:
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def create_workshop(app: Flask) -> Any:
    """Make a workshop from the KS mål 2019 template; ``start=True`` opens it."""

    def make(*, start: bool = True, anonymous: bool = True) -> int:
        with app.app_context():
            workshop = services.create_from_template()
            if not anonymous:
                services.update_workshop(workshop.id, workshop.title, anonymous=False)
            if start:
                services.start_workshop(workshop.id)
            return workshop.id

    return make


class Phone:
    """A participant's phone: its own cookie jar, its ballot secret and a Socket.IO client."""

    def __init__(self, app: Flask, workshop_id: int, name: str | None = None) -> None:
        self.app = app
        self.http = app.test_client()
        self.secret = secrets.token_urlsafe(24)
        self.workshop_id = workshop_id
        with app.app_context():
            self.code = db.session.get(Workshop, workshop_id).join_code
        response = self.http.post(f"/j/{self.code}", data={"name": name or ""})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.sio = connect(app, self.http, workshop_id, "people")
        # As the phone page does on every connect: this first state:get binds the secret.
        self.sio.emit("state:get", {"secret": self.secret}, callback=True)

    def emit(self, event: str, payload: dict[str, Any] | None = None) -> Any:
        return self.sio.emit(event, payload or {}, callback=True)

    def state(self) -> dict[str, Any]:
        ack = self.emit("state:get", {"secret": self.secret})
        assert ack["ok"], ack
        return ack

    def propose(self, goal_id: int, what: str, **fields: Any) -> Any:
        proposal = {"kind": "ambitionsniva", "what": what, **fields}
        return self.emit(
            "proposal:add",
            {
                "goal_id": goal_id,
                "client_id": secrets.token_hex(8),
                "proposal": proposal,
                "secret": self.secret,
            },
        )

    def vote(self, round_id: int, answers: dict[str, Any]) -> Any:
        return self.emit(
            "vote:cast", {"round_id": round_id, "secret": self.secret, "answers": answers}
        )


def connect(
    app: Flask, http: FlaskClient, workshop_id: int, role: str, **auth: Any
) -> SocketIOTestClient:
    return socketio.test_client(
        app, flask_test_client=http, auth={"workshop": workshop_id, "role": role, **auth}
    )


def received(client: SocketIOTestClient, name: str = "state") -> list[Any]:
    """Return the payloads of one event the client received since the last call."""
    return [item["args"][0] for item in client.get_received() if item["name"] == name]


COUNT_KEYS = ("seq", "prev_seq", "server_now", "plan", "people")


def apply_count(state: dict[str, Any] | None, count: dict[str, Any]) -> dict[str, Any] | None:
    """A compact ``count`` push applied onto the last full state, as ``MV.applyCount`` does:
    None when the state is not the one the count was made for (its shape differs)."""
    if state is None or state.get("shape") != count["shape"]:
        return None
    merged = {**state, **{key: count[key] for key in COUNT_KEYS}}
    if state.get("vote") and count.get("vote"):
        merged["vote"] = {**state["vote"], **count["vote"]}
    return merged


class Follower:
    """What a phone's or the presenter's page shows, from its pushes: a full ``state`` replaces
    it, a ``count`` updates it, and a count for another shape makes it fetch the state."""

    def __init__(self, client: SocketIOTestClient, state_get: dict[str, Any] | None = None):
        self.client, self.state_get = client, state_get or {}
        self.state: dict[str, Any] | None = None

    def collect(self) -> list[dict[str, Any]]:
        """The states the page went through since the last call."""
        seen = []
        for name, push in received_pushes(self.client):
            if name == "count":
                merged = apply_count(self.state, push)
                if merged is None:
                    merged = self.client.emit("state:get", self.state_get, callback=True)["state"]
                push = merged
            self.state = push
            seen.append(push)
        return seen


def received_pushes(client: SocketIOTestClient) -> list[tuple[str, Any]]:
    """Return the pushes (full ``state`` or compact ``count``) since the last call, in order."""
    return [
        (item["name"], item["args"][0])
        for item in client.get_received()
        if item["name"] in ("state", "count")
    ]


@pytest.fixture
def facilitator_socket(app: Flask, client: FlaskClient, auth: AuthActions) -> Any:
    def open_socket(workshop_id: int) -> SocketIOTestClient:
        auth.login()
        return connect(app, client, workshop_id, "facilitator")

    return open_socket


def table_rows(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """Return every row of every table, to prove that a refused request changed nothing."""
    import sqlalchemy as sa

    with app.app_context():
        db.session.remove()
        return {
            table.name: [
                dict(row._mapping)
                for row in db.session.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in db.metadata.sorted_tables
        }


class _AlertParser(HTMLParser):
    VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif ("role", "alert") in attrs and not any(name == "hidden" for name, _ in attrs):
            self.depth = 1
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.texts[-1] += data


def alerts(html: str) -> str:
    """Return the visible text of the page's role="alert" elements, i.e. its error messages."""
    parser = _AlertParser()
    parser.feed(html)
    return " ".join(" ".join(text.split()) for text in parser.texts if text.strip())
