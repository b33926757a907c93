"""The live layer: Socket.IO rooms, the handlers, and the snapshots pushed after each change.

Importing the package registers the Socket.IO handlers (``events``); ``create_app`` imports it
before ``socketio.init_app`` so every app's server gets them. The other layers use the names
re-exported here.
"""

from . import events
from .events import error_payload
from .guard import refuse_reserved_events
from .rooms import (
    disconnect_facilitator,
    disconnect_participants,
    online_count,
    push_state,
    send_state,
)
from .transport import guard_transport

__all__ = [
    "disconnect_facilitator",
    "disconnect_participants",
    "error_payload",
    "events",
    "guard_transport",
    "refuse_reserved_events",
    "online_count",
    "push_state",
    "send_state",
]
