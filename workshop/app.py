"""The app factory: configuration, extensions, blueprints, security headers, and start-up.

Creating the app configures it; starting it (``start``) creates what it keeps on disk and brings
the database up to date. ``create_app`` does both, except while a command line is only loading
the app to list or look up its commands (``flask --app workshop --help``, ``malverkstad
--help``): then nothing is created until a command runs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click
from flask import Flask, Response, current_app, request, session

from . import config as config_module
from . import db as database
from .extensions import babel, compress, csrf, socketio
from .resources import resource
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


def _message_queue(config: Any) -> dict[str, Any]:
    """Socket.IO's options for Redis as message queue when ``REDIS_URL`` is set, else none."""
    if not config.get("REDIS_URL"):
        return {}
    prefix = config.get("REDIS_PREFIX") or "malverkstad"
    return {"message_queue": config["REDIS_URL"], "channel": f"{prefix}:socketio"}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app."""
    app = Flask(
        "workshop",
        instance_path=os.path.abspath(os.environ["INSTANCE_PATH"])
        if os.environ.get("INSTANCE_PATH")
        else None,
        instance_relative_config=True,
        template_folder=str(resource("templates")),
        static_folder=str(resource("static")),
    )
    app.config.from_mapping(config_module.from_environment(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)
    app.session_interface = RememberingSessionInterface()

    database.init_database(app)
    with app.app_context():
        database.configure_engine(app)
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
    from . import live  # importing the package registers the handlers

    socketio.init_app(
        app,
        async_mode=app.config.get("ASYNC_MODE", "threading"),
        cors_allowed_origins=app.config.get("CORS_ORIGINS"),
        max_http_buffer_size=int(app.config.get("MAX_MESSAGE_SIZE", 128 * 1024)),
        # Several workers: Socket.IO's emits and disconnects reach every worker through Redis.
        **_message_queue(app.config),
    )
    live.refuse_reserved_events(socketio.server)
    live.guard_transport(
        socketio.server,
        max_queue_bytes=int(app.config.get("SEND_QUEUE_MAX_BYTES", 4 * 1024 * 1024)),
        max_queue_packets=int(app.config.get("SEND_QUEUE_MAX_PACKETS", 1000)),
        rate=float(app.config.get("FRAME_RATE", 40)),
        burst=float(app.config.get("FRAME_BURST", 80)),
    )
    if app.config.get("PROXY_FIX"):
        # Outside Socket.IO's middleware, so Engine.IO and Flask both see the client's scheme.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    from .cli import register_commands
    from .web import register_blueprints

    register_blueprints(app)
    register_commands(app)
    if not listing_commands():
        start(app)
    return app


def listing_commands() -> bool:
    """Whether a Click group is loading the app to list or look up its commands.

    ``flask``'s and ``malverkstad``'s groups load the app for ``--help`` and to find an app
    command, before they know whether anything will run; the app's own commands start it when
    they do run (``cli.py``). Anywhere else (gunicorn, ``serve``, ``flask run``, a
    command that loads the app itself, the tests) the app starts at once.
    """
    context = click.get_current_context(silent=True)
    return context is not None and isinstance(context.command, click.Group)


def start(app: Flask) -> None:
    """Create the instance folder and the secret key, migrate and purge, once per app.

    The retention purge waits for a schema at the newest migration: with ``MIGRATE_ON_START=0``
    an empty database gets its tables only from ``db upgrade``, which this start precedes.
    """
    if app.extensions.get("malverkstad.started"):
        return
    app.extensions["malverkstad.started"] = True
    instance = Path(app.instance_path)
    # Owner-only when created here: it holds the database and the secret key.
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.secret_key(instance)
    with app.app_context():
        database.migrate_on_start(app)
        if (
            app.config.get("RETENTION_DAYS")
            and app.config.get("PURGE_ON_START", True)
            and database.schema_is_current()
        ):
            from . import services

            services.purge_expired(int(app.config["RETENTION_DAYS"]))


__all__ = ["create_app", "listing_commands", "start"]
