"""Målverkstad: a live dialogue tool for drafting ambition levels for a committee's goals."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, Response, current_app, request, session
from flask_migrate import Migrate

from . import config as config_module
from .extensions import babel, compress, csrf, db, socketio
from .sessions import RememberingSessionInterface

COMPRESS_MIMETYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
]


def select_locale() -> str:
    """Use the language the person chose, else the browser's, else Swedish."""
    chosen = session.get("lang") if request else None
    if chosen in ("sv", "en"):
        return chosen
    return request.accept_languages.best_match(["sv", "en"]) or "sv"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, synchronous: str = "NORMAL") -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the projector read while phones write; the timeout waits out a writer.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # NORMAL (in WAL): a commit survives the server process dying (kill -9) but not a power
    # cut or OS crash, and costs no fsync; FULL also survives those, at one fsync per commit.
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def content_security_policy(host: str) -> str:
    """Allow only this origin: no inline script or style, no framing, no foreign connections.

    ``connect-src 'self'`` covers ws:/wss: to the same host in current browsers; the explicit
    ws://host and wss://host are for older phone browsers (CSP level 2) that do not.
    """
    sockets = f" ws://{host} wss://{host}" if _HOST.match(host or "") else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{sockets}; font-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


def security_headers(response: Response) -> Response:
    """Add the security headers every response carries."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(request.host))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault(
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    )
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The first migration: the schema that ``db.create_all()`` made before there were migrations.
BASELINE = "0001"


def database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL, also for the ``postgres://`` URLs hosting services hand out."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def alembic_config(connection: sa.Connection | None = None) -> Any:
    """The Alembic configuration of ``migrations/`` (``connection``: migrate that one)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


_HEAD: list[str | None] = []


def schema_head() -> str | None:
    """The newest migration's revision (read once per process)."""
    if not _HEAD:
        from alembic.script import ScriptDirectory

        _HEAD.append(ScriptDirectory.from_config(alembic_config()).get_current_head())
    return _HEAD[0]


def _adopt_unversioned(connection: sa.Connection) -> None:
    """Bring a database made by ``create_all`` (before migrations) to the baseline and stamp it.

    That is what each start of the older versions did: create the missing tables and add the
    nullable or defaulted columns added since (e.g. ``facilitator.session_version``).
    """
    from alembic import command
    from alembic.script import ScriptDirectory

    baseline = ScriptDirectory.from_config(alembic_config()).get_revision(BASELINE).module
    metadata = baseline.schema()
    metadata.create_all(connection, checkfirst=True)
    inspector = sa.inspect(connection)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=connection.dialect)
            default = ""
            if column.server_default is not None:
                default = f" DEFAULT {column.server_default.arg}"
                default += "" if column.nullable else " NOT NULL"
            connection.execute(
                sa.text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{default}')
            )
    command.stamp(alembic_config(connection), BASELINE)


def migrate_database() -> None:
    """Upgrade the app's database to the newest migration (``flask db upgrade`` does the same).

    A database from before migrations (tables but no ``alembic_version``) is stamped with the
    baseline first. Nothing runs when the database is already at head, the usual start.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    head = schema_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return
        tables = set(sa.inspect(connection).get_table_names())
        if current is None and "workshop" in tables and "alembic_version" not in tables:
            _adopt_unversioned(connection)
            connection.commit()
    # The configuration ``flask db`` uses, without its logging set-up (the app has its own).
    config = current_app.extensions["migrate"].migrate.get_config()
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def _message_queue(config: Any) -> dict[str, Any]:
    """Socket.IO's options for Redis as message queue when ``REDIS_URL`` is set, else none."""
    if not config.get("REDIS_URL"):
        return {}
    prefix = config.get("REDIS_PREFIX") or "malverkstad"
    return {"message_queue": config["REDIS_URL"], "channel": f"{prefix}:socketio"}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app."""
    app = Flask(
        __name__,
        instance_path=os.path.abspath(os.environ["INSTANCE_PATH"])
        if os.environ.get("INSTANCE_PATH")
        else None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config_module.from_environment(instance))
    if test_config:
        app.config.update(test_config)
    app.session_interface = RememberingSessionInterface()

    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    # `flask --app workshop db upgrade` (and the rest of Flask-Migrate's commands).
    Migrate(app, db, directory=str(MIGRATIONS))
    babel.init_app(app, locale_selector=select_locale)
    # Text responses go out compressed (the phone page must stay small on a weak network).
    # Socket.IO never reaches Flask's after_request (Engine.IO answers it before Flask, with its
    # own compression) and the DOCX export is not a listed type, so neither is touched here.
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESS_MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    compress.init_app(app)
    # Every state-changing form carries a token; Socket.IO (answered before Flask) is guarded by
    # its same-origin check and the session cookie instead.
    csrf.init_app(app)
    app.after_request(security_headers)
    # Import the handlers before init_app: registered earlier, Flask-SocketIO keeps them and
    # installs them on every app's server; registered after, only the first app would get them.
    from . import live  # noqa: F401 - importing the package registers the handlers

    socketio.init_app(
        app,
        async_mode=app.config.get("ASYNC_MODE", "threading"),
        cors_allowed_origins=app.config.get("CORS_ORIGINS"),
        max_http_buffer_size=int(app.config.get("MAX_MESSAGE_SIZE", 128 * 1024)),
        # Several workers: Socket.IO's emits and disconnects reach every worker through Redis.
        **_message_queue(app.config),
    )
    if app.config.get("PROXY_FIX"):
        # Outside Socket.IO's middleware, so Engine.IO and Flask both see the client's scheme.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            synchronous = str(app.config.get("SQLITE_SYNCHRONOUS") or "NORMAL").upper()
            if synchronous not in ("NORMAL", "FULL", "EXTRA"):
                raise ValueError(f"SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA: {synchronous}")
            sa.event.listen(
                db.engine,
                "connect",
                lambda connection, record: _sqlite_pragmas(connection, record, synchronous),
            )
            db.engine.dispose()
        # MIGRATE_ON_START=0: upgrades only by `flask --app workshop db upgrade`, by the operator.
        if app.config.get("MIGRATE_ON_START", os.environ.get("MIGRATE_ON_START", "1") != "0"):
            migrate_database()
        if app.config.get("RETENTION_DAYS") and app.config.get("PURGE_ON_START", True):
            from . import services

            services.purge_expired(int(app.config["RETENTION_DAYS"]))

    from .views import register_blueprints

    register_blueprints(app)
    register_commands(app)
    return app


def register_commands(app: Flask) -> None:
    from . import services
    from .domain import DomainError

    @app.cli.command("create-facilitator")
    @click.argument("username")
    @click.password_option()
    def create_facilitator(username: str, password: str) -> None:
        """Add a facilitator account."""
        try:
            services.create_facilitator(username, password)
        except DomainError as exc:
            message = exc.message % exc.params if exc.params else exc.message
            raise click.ClickException(message) from None
        click.echo(f"Samtalsledaren {username} är skapad.")

    @app.cli.command("purge")
    @click.option("--days", type=int, default=None, help="Override RETENTION_DAYS.")
    def purge(days: int | None) -> None:
        """Erase participant data of workshops older than RETENTION_DAYS."""
        limit = days if days is not None else int(app.config["RETENTION_DAYS"])
        erased = services.purge_expired(limit)
        click.echo(f"Gallrade deltagaruppgifter i {len(erased)} dialoger äldre än {limit} dagar.")

    @app.cli.command("create-ks2019")
    def create_ks2019() -> None:
        """Create a new workshop from the built-in "KS mål 2019" template."""
        workshop = services.create_from_template()
        click.echo(f"Skapade dialog {workshop.id} med kod {workshop.join_code}.")


__all__ = ["create_app"]
