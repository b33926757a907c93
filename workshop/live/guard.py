"""Refuse event packets that a client names like the server's own lifecycle events.

python-socketio dispatches an EVENT packet by its name, so a client that emits ``disconnect``
or ``connect`` would run the server's own handlers: the connection forgotten and registered
again while the socket stays open (a refilled rate bucket, a removed phone or a logged-out
console still receiving pushes). Only the transport may trigger those handlers; an event
packet with such a name is dropped here, before dispatch, with one short log line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

# The names python-socketio itself gives to the lifecycle handlers (socketio.base_client's
# reserved_events), which a server must never take from a client's event packet.
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect"})

log = logging.getLogger(__name__)
LOG_EVERY = 10.0  # seconds: a client sending such packets in a loop cannot fill the log
_last_logged = [-LOG_EVERY]
_log_lock = threading.Lock()


def _log_refusal(name: str) -> None:
    with _log_lock:
        now = time.monotonic()
        if now - _last_logged[0] < LOG_EVERY:
            return
        _last_logged[0] = now
    log.warning("refused a client event named %r (reserved for the server)", name)


def is_reserved(data: Any) -> bool:
    """Tell whether an event packet's data (``[name, *args]``) names a reserved event."""
    return isinstance(data, list) and bool(data) and data[0] in RESERVED_EVENTS


def refuse_reserved_events(server: Any) -> None:
    """Wrap a python-socketio server's event dispatch so reserved names never reach a handler.

    The server has no option for this; its per-packet hook ``_handle_event`` is the one place
    every event passes (both transports, the test client too), so it is wrapped on the instance.
    """
    handle: Callable[..., Any] = server._handle_event

    def guarded(eio_sid: str, namespace: str | None, id: int | None, data: Any) -> Any:
        if is_reserved(data):
            _log_refusal(data[0])
            return None
        return handle(eio_sid, namespace, id, data)

    server._handle_event = guarded
