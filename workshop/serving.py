"""``malverkstad serve`` (and ``run.py``): the banner, the first facilitator and the KS mål 2019
dialogue, then the HTTP server, with an access log that never shows an Engine.IO sid.

A polling request carries its Engine.IO session id in the query (``/socket.io/?...&sid=...``);
whoever holds that id can send and receive as that socket until it closes, so the access log
shows ``sid=-`` instead. Production (gevent) is served by gevent's WSGI server with
gevent-websocket's handler, here with ``format_request`` redacted; Werkzeug (threading) gets a
log filter doing the same on its request lines.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

import qrcode
from flask import Flask

from . import queries, services
from .extensions import socketio
from .models import Workshop

log = logging.getLogger(__name__)
SID = re.compile(r"([?&]sid=)[^&\s\"']*")
# Where a generated first password goes when the output is not a terminal (a journal, a file).
PASSWORD_FILE = "forsta-losenordet.txt"


def redact_sid(text: str) -> str:
    """Replace the value of every ``sid=`` query parameter in a request line with ``-``."""
    return SID.sub(r"\1-", text)


class RedactSid(logging.Filter):
    """Redact sids in Werkzeug's request lines (``'"%s" %s %s'`` with the request line first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_sid(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_sid(record.msg)
        return True


def redact_werkzeug_log() -> None:
    """Install the filter on Werkzeug's logger (the threading server's access log)."""
    logging.getLogger("werkzeug").addFilter(RedactSid())


def serve_gevent(app: Flask, host: str, port: int, *, access_log: bool = True) -> None:
    """Serve ``app`` as Flask-SocketIO's ``run`` does in gevent mode, with a redacted access log.

    Flask-SocketIO's ``run`` fixes the handler class, so the server is built here the same way
    (gevent's WSGIServer, gevent-websocket's handler) with one method changed.
    """
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    class RedactingHandler(WebSocketHandler):  # type: ignore[misc]
        def format_request(self) -> str:
            return redact_sid(str(super().format_request()))

        def log_request(self) -> None:
            # gevent-websocket logs through its own logger; gevent's log is the access log here.
            if access_log and "101" not in str(self.status):
                self.server.log.write(self.format_request() + "\n")

    log: Any = sys.stdout if access_log else None
    server = pywsgi.WSGIServer((host, port), app, handler_class=RedactingHandler, log=log)
    server.serve_forever()


def write_password_file(instance: Path, password: str) -> Path:
    """Write a generated first password to a file only its owner can read (0600, created
    anew: an existing file is replaced, never widened); return its path."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / PASSWORD_FILE
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(password + "\n")
    return path


def banner(
    app: Flask,
    workshop: Workshop,
    password: str | None,
    *,
    terminal: bool = True,
    password_file: Path | None = None,
) -> str:
    """Describe where to go, for the facilitator and for the phones.

    Not on a terminal (``terminal=False``: a service's journal, a log file) the banner holds
    neither a generated password (it names ``password_file`` instead) nor the QR code's art.
    """
    public = app.config["PUBLIC_URL"]
    join = f"{public}/j/{workshop.join_code}"
    user = app.config["FACILITATOR_USERNAME"]
    if password and password_file is not None:
        login = (
            f"användarnamn {user}, lösenordet i {password_file} (bara läsbar för ägaren; "
            "radera filen när du har loggat in)"
        )
    elif password:
        login = f"användarnamn {user}, lösenord {password}  (visas bara den här gången)"
    elif app.config["FACILITATOR_PASSWORD"]:
        login = f"användarnamn {user}, lösenordet i FACILITATOR_PASSWORD"
    else:
        login = (
            f"användarnamn {user}, lösenordet som skrevs ut vid första starten "
            "(eller starta med FACILITATOR_PASSWORD=... för att sätta ett nytt)"
        )
    art = io.StringIO()
    if terminal:
        qr = qrcode.QRCode(border=1)
        qr.add_data(join)
        qr.print_ascii(out=art, invert=True)
    return "\n".join(
        [
            "",
            "Målverkstad är igång.",
            f"  Samtalsledare: {public}/login",
            f"    Logga in med {login}.",
            f"    Konsol för {workshop.title}: {public}/f/{workshop.id}",
            f"    Presentationsvy (projektor): {public}/f/{workshop.id}/skarm",
            f"  Deltagare går med på telefonen: {join}  (kod {workshop.join_code})",
            art.getvalue(),
        ]
    )


def purge_periodically(app: Flask, interval: float) -> None:
    """Run the retention purge every ``interval`` seconds for as long as the server runs.

    Each worker runs its own; two at once are harmless: ``purge_expired`` is one unit of work
    that erases only workshops not erased yet, and erasing is idempotent. A failure is logged
    and the next round comes as planned.
    """
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                erased = services.purge_expired(int(app.config["RETENTION_DAYS"]))
            if erased:
                log.info("retention purge erased the participants of %d dialogues", len(erased))
        except Exception:  # noqa: BLE001 - a database that is away now may be back next time
            log.exception("the retention purge failed; it runs again in %.0f s", interval)


def serve(app: Flask) -> None:
    """Ensure the first facilitator and the KS mål 2019 dialogue, print the banner, serve.

    ``ASYNC_MODE=gevent``: gevent's WSGI server (the caller has patched the standard library
    first, ``workshop.main``); otherwise Werkzeug with simple-websocket.
    """
    with app.app_context():
        password = services.ensure_first_facilitator(
            app.config["FACILITATOR_USERNAME"], app.config["FACILITATOR_PASSWORD"]
        )
        workshop = (
            next((w for w in queries.list_workshops() if w.dnr == "KS 2018/109"), None)
            or services.create_from_template()
        )
        # A journal or log file is read by more people than the one starting the server.
        terminal = sys.stdout.isatty()
        password_file = None
        if password and not terminal:
            password_file = write_password_file(Path(app.instance_path), password)
        text = banner(app, workshop, password, terminal=terminal, password_file=password_file)
        print(text, flush=True)
    if app.config["RETENTION_DAYS"] and app.config["PURGE_INTERVAL"] > 0:
        socketio.start_background_task(purge_periodically, app, app.config["PURGE_INTERVAL"])
    host, port = app.config["HOST"], app.config["PORT"]
    if app.config["ASYNC_MODE"] == "gevent":
        serve_gevent(app, host, port, access_log=app.config["ACCESS_LOG"])
    else:
        redact_werkzeug_log()
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)
