"""Målverkstad: a live dialogue tool for drafting ambition levels for a committee's goals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, request, session

from . import config as config_module
from .extensions import babel, compress, db, socketio

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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the projector read while phones write; the timeout waits out a writer.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


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
    # Import the handlers before init_app: registered earlier, Flask-SocketIO keeps them and
    # installs them on every app's server; registered after, only the first app would get them.
    from . import events  # noqa: F401

    socketio.init_app(
        app,
        async_mode=app.config.get("ASYNC_MODE", "threading"),
        cors_allowed_origins=app.config.get("CORS_ORIGINS"),
        max_http_buffer_size=64 * 1024,
    )

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
            db.engine.dispose()
        db.create_all()

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

    @app.cli.command("create-ks2019")
    def create_ks2019() -> None:
        """Create a new workshop from the built-in "KS mål 2019" template."""
        workshop = services.create_from_template()
        click.echo(f"Skapade dialog {workshop.id} med kod {workshop.join_code}.")


__all__ = ["create_app"]
