"""Målverkstad: a live dialogue tool for drafting ambition levels for a committee's goals."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, Response, current_app, request, session

from . import config as config_module
from .extensions import babel, compress, csrf, db, socketio

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


def _add_missing_columns() -> None:
    """Add columns that newer models have to tables an older version created.

    ``create_all`` makes missing tables but never alters existing ones; this covers the
    nullable or defaulted columns added since (e.g. ``facilitator.session_version``).
    """
    inspector = sa.inspect(db.engine)
    present_tables = set(inspector.get_table_names())
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            if table.name not in present_tables:
                continue
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                kind = column.type.compile(dialect=db.engine.dialect)
                default = ""
                if column.server_default is not None:
                    default = f" DEFAULT {column.server_default.arg}"
                elif column.default is not None and isinstance(column.default.arg, int | str):
                    default = f" DEFAULT {column.default.arg!r}"
                connection.execute(
                    sa.text(
                        f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{default}'
                    )
                )


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

    db.init_app(app)
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
    from . import events  # noqa: F401

    socketio.init_app(
        app,
        async_mode=app.config.get("ASYNC_MODE", "threading"),
        cors_allowed_origins=app.config.get("CORS_ORIGINS"),
        max_http_buffer_size=int(app.config.get("MAX_MESSAGE_SIZE", 128 * 1024)),
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
        db.create_all()
        _add_missing_columns()
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
