"""Limits below Socket.IO's handlers: what one socket may make the server hold, parse and log.

python-engineio keeps every packet for a client in a per-socket queue until the client takes it
(the WebSocket writer, or the next polling GET); the queue has no bound, so a client that answers
pings but never reads made the server hold every push (+44 MB in 60 s). python-socketio keeps a
BINARY_EVENT's attachments in memory until as many arrived as it announced, outside the size and
rate limits (+98 MB in 3.6 s). A malformed frame ended in a full traceback in the log.

``guard_transport`` installs, on one server instance (no library module is patched):

- a send queue per socket that counts its bytes and packets; past the bound the socket is closed
  and its TCP connection shut down (which also frees a writer blocked on a full send buffer);
- a wrap of Engine.IO's ``message`` handler: binary packets and attachments are refused (the
  socket closed) before python-socketio buffers them, every frame spends a token of a bucket per
  socket, and a frame python-socketio cannot parse closes the socket with one short log line;
- a WebSocket wrapper that ends the connection on a frame Engine.IO cannot decode or one over
  ``MAX_MESSAGE_SIZE`` (counted while it arrives, not after it was read whole), and a log filter
  for the polling transport's decoding errors, so those are one short line too (rate-limited).

Engine.IO's own control packets (ping, pong, upgrade, noop) spend no frame token; an answer the
server queues for them counts against the send queue's bound like any other.
"""

from __future__ import annotations

import functools
import logging
import socket as stdlib_socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from engineio import packet as eio_packet

log = logging.getLogger(__name__)
LOG_EVERY = 10.0  # seconds between two lines of one kind: a loop of bad frames cannot fill the log
JOIN_TIMEOUT = 2.0  # seconds a closing socket waits for its client to take its last packets
PACKET_OVERHEAD = 64  # bytes counted per queued packet on top of its data (the Packet object)
# A Socket.IO packet whose type is BINARY_EVENT (5) or BINARY_ACK (6); no client here sends one.
BINARY_TYPES = ("5", "6")
# Engine.IO's own log calls that would otherwise carry a traceback of a client's bad input.
NOISY_MESSAGES = frozenset(
    {"post request handler error", "message handler error", "Unknown receive error"}
)

_last_logged: dict[str, float] = {}
_log_lock = threading.Lock()
_request = threading.local()  # the raw socket of the WebSocket request this thread serves


def log_short(kind: str, message: str, *args: Any) -> bool:
    """Log one warning line of this kind at most every LOG_EVERY seconds; True if it was logged."""
    with _log_lock:
        now = time.monotonic()
        if now - _last_logged.get(kind, -LOG_EVERY) < LOG_EVERY:
            return False
        _last_logged[kind] = now
    log.warning(message, *args)
    return True


def packet_size(item: Any) -> int:
    """Estimate the memory a queued Engine.IO packet holds, without encoding it."""
    data = getattr(item, "data", None)
    size = len(data) if isinstance(data, str | bytes) else 0
    return size + PACKET_OVERHEAD


def bounded_queue_class(base: type) -> type:
    """Subclass the async driver's queue class (``queue.Queue``, gevent's ``JoinableQueue``)."""

    class BoundedSendQueue(base):  # type: ignore[misc, valid-type]
        """A socket's send queue that calls ``on_overflow`` once past its bound, then drops."""

        def __init__(
            self, max_bytes: int, max_packets: int, on_overflow: Callable[[Any], None]
        ) -> None:
            super().__init__()
            self.max_bytes, self.max_packets = max_bytes, max_packets
            self.on_overflow = on_overflow
            self.pending_bytes = 0
            self.pending_packets = 0
            self.overflowed = False
            self.raw_socket: Any = getattr(_request, "raw_socket", None)
            self.counter_lock = threading.Lock()

        def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
            # None ends the writer or the poll; a CLOSE packet tells the client why: both pass.
            closing = item is None or getattr(item, "packet_type", None) == eio_packet.CLOSE
            if self.overflowed and not closing:
                return
            size = packet_size(item) if item is not None else 0
            with self.counter_lock:
                self.pending_bytes += size
                self.pending_packets += 1
                over = not closing and (
                    self.pending_bytes > self.max_bytes or self.pending_packets > self.max_packets
                )
                if over:
                    self.overflowed = True
            if over:
                self.drain()
                self.on_overflow(self)
                return
            super().put(item, block, timeout)

        def get(self, block: bool = True, timeout: float | None = None) -> Any:
            item = super().get(block, timeout)
            with self.counter_lock:
                self.pending_bytes -= packet_size(item) if item is not None else 0
                self.pending_packets -= 1
            return item

        def join(self) -> None:
            # Closing a socket waits for its client to take the last packets; one that never
            # reads (or a polling client that sent a bad packet and never polls) held the thread
            # that closed it forever. Wait JOIN_TIMEOUT at most.
            if hasattr(self, "all_tasks_done"):  # queue.Queue
                deadline = time.monotonic() + JOIN_TIMEOUT
                with self.all_tasks_done:
                    while self.unfinished_tasks:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            return
                        self.all_tasks_done.wait(left)
            else:  # gevent's JoinableQueue takes a timeout
                super().join(timeout=JOIN_TIMEOUT)

        def drain(self) -> None:
            """Drop what the client never took, so its memory is freed now."""
            while True:
                try:
                    self.get(block=False)
                except Exception:  # noqa: BLE001 - the driver's Empty: nothing left
                    break
                self.task_done()

    return BoundedSendQueue


def raw_socket_of(environ: dict[str, Any]) -> Any:
    """The TCP socket of a WebSocket request: gevent-websocket's handler, or Werkzeug's."""
    websocket = environ.get("wsgi.websocket")
    if websocket is not None:
        return getattr(getattr(websocket, "handler", None), "socket", None)
    return environ.get("werkzeug.socket")


def shut_down(raw: Any) -> None:
    """End a TCP connection at once, even with a send blocked on it (that send then fails)."""
    try:
        raw.shutdown(stdlib_socket.SHUT_RDWR)
    except (OSError, AttributeError):
        pass  # already closed


def take_frame_token(eio_socket: Any, rate: float, burst: float) -> bool:
    """Spend one token of the socket's frame bucket; False when it sends faster than allowed."""
    now = time.monotonic()
    bucket = getattr(eio_socket, "frame_bucket", None)
    if bucket is None:
        bucket = eio_socket.frame_bucket = [burst, now]
    bucket[0] = min(burst, bucket[0] + (now - bucket[1]) * rate)
    bucket[1] = now
    if bucket[0] < 1:
        return False
    bucket[0] -= 1
    return True


def checked_websocket_class(base: type, max_size: int) -> type:
    """Subclass the driver's WebSocket wrapper so a frame Engine.IO cannot decode ends the socket.

    Engine.IO decodes a frame outside any ``try`` (and the upgrade's first frames unchecked for
    size), so a bad one escaped to the HTTP server as a traceback and left the writer thread to
    fail on a closed socket. Read here, it ends the connection as a client's close would.
    """

    try:
        from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
    except ImportError:  # pragma: no cover - simple-websocket is a dependency
        SimpleWebSocketWSGI = None  # noqa: N806

    class CheckedWebSocket(base):  # type: ignore[misc, valid-type]
        def __init__(self, handler: Any, server: Any, **kwargs: Any) -> None:
            if SimpleWebSocketWSGI is not None and issubclass(base, SimpleWebSocketWSGI):
                # simple-websocket closes a message as soon as it grows past this while
                # arriving; Engine.IO checks the size only after it was read whole (+85 MB
                # for one 60 MB frame).
                kwargs.setdefault("max_message_size", max_size)
            super().__init__(handler, server, **kwargs)

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            websocket = environ.get("wsgi.websocket")  # gevent-websocket's, already upgraded
            if websocket is not None:
                bound_gevent_websocket(websocket, max_size)
            return super().__call__(environ, start_response)

        def close(self) -> None:
            try:
                super().close()
            except OSError:  # the client reset the connection first: nothing is left to close
                pass  # (simple-websocket lets this escape Engine.IO's writer as a traceback)

        def wait(self) -> Any:
            data = super().wait()
            if data is None:
                return None
            if len(data) > max_size:
                log_short("malformed", "closed a socket that sent a frame over the size limit")
                return None
            try:
                eio_packet.Packet(encoded_packet=data)
            except Exception as exc:  # noqa: BLE001 - whatever a stranger's bytes raise
                log_short("malformed", "malformed frame refused (%s)", type(exc).__name__)
                return None
            return data

    return CheckedWebSocket


class BoundedRead:
    """A gevent-websocket connection's payload reader that refuses past ``max_size`` per message."""

    def __init__(self, read: Callable[[int], bytes], max_size: int) -> None:
        self.read, self.max_size, self.received = read, max_size, 0

    def __call__(self, length: int) -> bytes:
        self.received += length
        if self.received > self.max_size:
            from geventwebsocket.exceptions import WebSocketError

            log_short("malformed", "closed a socket that sent a frame over the size limit")
            raise WebSocketError("message too large")  # receive() then closes the socket
        return self.read(length)


def bound_gevent_websocket(websocket: Any, max_size: int) -> None:
    """Make a gevent-websocket connection refuse a message longer than ``max_size`` bytes.

    Its ``read_frame`` reads the whole payload a frame's header announces (+120 MB for one 60 MB
    frame) and ``read_message`` joins fragments without a limit. The payload reads go through
    ``raw_read``, counted per message here: the class (slots, no ``__dict__``) gets a subclass of
    the same layout whose ``read_message`` starts each message's count at 0.
    """
    websocket.raw_read = BoundedRead(websocket.raw_read, max_size)
    websocket.__class__ = bounded_websocket_class()


@functools.cache
def bounded_websocket_class() -> type:
    """gevent-websocket's WebSocket whose ``read_message`` restarts its ``BoundedRead``'s count."""
    from geventwebsocket.websocket import WebSocket

    class BoundedWebSocket(WebSocket):  # type: ignore[misc]
        __slots__ = ()

        def read_message(self) -> Any:
            self.raw_read.received = 0
            return super().read_message()

    return BoundedWebSocket


class ShortTracebacks(logging.Filter):
    """Turn Engine.IO's tracebacks of a client's bad input into one rate-limited short line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage() in NOISY_MESSAGES:
            error = record.exc_info[1]
            name = type(error).__name__
            log_short("malformed", "malformed packet refused (%s)", name)
            log.debug("malformed packet", exc_info=record.exc_info)
            return False  # the short line above (or none, within LOG_EVERY) replaces it
        return True


def guard_transport(
    server: Any, *, max_queue_bytes: int, max_queue_packets: int, rate: float, burst: float
) -> None:
    """Install the limits on a python-socketio server (see the module's docstring).

    ``rate`` and ``burst`` are the frames per second and the burst one socket may send, of any
    kind; a frame beyond them is dropped unread.
    """
    eio = server.eio
    queue_class = bounded_queue_class(eio._async["queue"])

    def close_soon(queue: Any) -> None:
        # Called from whoever sent the push; close in a task of its own so no handler (a push in
        # progress, a disconnect handler) runs inside that send.
        def close() -> None:
            for sid, eio_socket in list(eio.sockets.items()):
                if eio_socket.queue is queue:
                    log_short(
                        "overflow",
                        "closed a socket that does not read: more than %d bytes or %d packets "
                        "were waiting for it",
                        max_queue_bytes,
                        max_queue_packets,
                    )
                    eio_socket.close(wait=False, abort=True)
                    eio.sockets.pop(sid, None)
                    break
            if queue.raw_socket is not None:
                shut_down(queue.raw_socket)

        eio.start_background_task(close)

    def create_queue(*args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # not a socket's send queue
            return eio._async["queue"](*args, **kwargs)
        return queue_class(max_queue_bytes, max_queue_packets, close_soon)

    eio.create_queue = create_queue

    def close_socket(eio_sid: str) -> None:
        eio_socket = eio.sockets.get(eio_sid)
        if eio_socket is not None:
            # wait=False: the client may not be reading, and this runs in its reader. The TCP
            # connection goes too, or the reader would go on taking what the client streams.
            eio_socket.close(wait=False, abort=True)
            raw = getattr(eio_socket.queue, "raw_socket", None)
            if raw is not None:
                shut_down(raw)

    handle_message = server._handle_eio_message

    def guarded_message(eio_sid: str, data: Any) -> None:
        eio_socket = eio.sockets.get(eio_sid)
        if eio_socket is not None and not take_frame_token(eio_socket, rate, burst):
            log_short("frame-rate", "dropped frames from a socket over its frame rate")
            return
        if isinstance(data, bytes) or (isinstance(data, str) and data[:1] in BINARY_TYPES):
            log_short("binary", "refused a binary Socket.IO packet; the socket is closed")
            close_socket(eio_sid)
            return
        try:
            handle_message(eio_sid, data)
        except Exception as exc:  # noqa: BLE001 - a client's frame python-socketio cannot parse
            log_short("malformed", "malformed packet refused (%s)", type(exc).__name__)
            log.debug("malformed packet", exc_info=True)
            close_socket(eio_sid)

    # Both names: Engine.IO calls its registered handler, the test client the server's method.
    server._handle_eio_message = guarded_message
    eio.on("message", guarded_message)

    handle_request = eio.handle_request

    def remembering_request(environ: dict[str, Any], start_response: Any) -> Any:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if query.get("transport") != ["websocket"]:
            return handle_request(environ, start_response)
        raw = raw_socket_of(environ)
        sid = (query.get("sid") or [None])[0]
        if sid is not None and sid in eio.sockets:  # an upgrade: the queue exists already
            eio.sockets[sid].queue.raw_socket = raw
        _request.raw_socket = raw  # for the queue of a socket this request creates
        try:
            return handle_request(environ, start_response)
        finally:
            _request.raw_socket = None

    eio.handle_request = remembering_request
    if eio._async.get("websocket") is not None:
        # A copy of the driver's table for this server alone (the module's stays as it is).
        websocket = checked_websocket_class(eio._async["websocket"], eio.max_http_buffer_size)
        eio._async = {**eio._async, "websocket": websocket}
    if not any(isinstance(f, ShortTracebacks) for f in eio.logger.filters):
        eio.logger.addFilter(ShortTracebacks())  # Engine.IO's logger is shared by every app
