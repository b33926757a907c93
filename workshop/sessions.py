"""Signed-cookie sessions that remember the cookies they verified recently, and who is logged in.

Flask-SocketIO opens the session for every Socket.IO event (it builds a request context from
the connection's handshake), so a phone voting in a large room would have its cookie's
signature checked and its content decoded on every vote: about a tenth of the server's time
under load. The cookie of a connection never changes, so the verified content is kept for a
minute (bounded, least recently used first out) and handed out as a fresh copy.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, Request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from .extensions import db
from .models import Facilitator


class RememberingSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, with the decoded content of recent cookies cached.

    Only a cookie whose signature verified is cached, keyed by its exact text; a changed or
    forged cookie is a different key and is verified as usual. An entry lives ``ttl`` seconds,
    so a cookie's expiry (``PERMANENT_SESSION_LIFETIME``) is honoured to within that.
    """

    def __init__(self, size: int = 8192, ttl: float = 60.0) -> None:
        self._size = size
        self._ttl = ttl
        self._cache: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return super().open_session(app, request)
        key = (str(app.secret_key), value)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(key)
                return self.session_class(copy.deepcopy(hit[1]))
        session = super().open_session(app, request)
        if session is not None and len(session):  # a verified cookie with content
            with self._lock:
                self._cache[key] = (now + self._ttl, copy.deepcopy(dict(session)))
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return session


def current_facilitator(*, end_stale: bool = False) -> Facilitator | None:
    """The facilitator of this request's session, if that session is still valid.

    Serves HTTP requests and Socket.IO events alike (Flask-SocketIO opens the handshake's
    session for each event). Logging out bumps ``session_version``; a session signed with an
    older one is no longer the facilitator's. ``end_stale`` also removes such a session's login
    (HTTP only: a Socket.IO handler's session changes never reach the cookie).
    """
    facilitator_id = session.get("facilitator_id")
    facilitator = db.session.get(Facilitator, facilitator_id) if facilitator_id else None
    if facilitator is not None and session.get("fv") != facilitator.session_version:
        if end_stale:
            session.pop("facilitator_id", None)
            session.pop("fv", None)
        return None
    return facilitator
