"""The HTTP servers ``run.py`` starts, with an access log that never shows an Engine.IO sid.

A polling request carries its Engine.IO session id in the query (``/socket.io/?...&sid=...``);
whoever holds that id can send and receive as that socket until it closes, so the access log
shows ``sid=-`` instead. Production (gevent) is served by gevent's WSGI server with
gevent-websocket's handler, here with ``format_request`` redacted; Werkzeug (threading) gets a
log filter doing the same on its request lines.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from flask import Flask

SID = re.compile(r"([?&]sid=)[^&\s\"']*")


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
