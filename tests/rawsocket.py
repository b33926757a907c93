"""A WebSocket client on a plain TCP socket that reads only when told to, for the transport tests.

Every library client reads in a thread of its own; an attacker's client need not, and that is
what ``tests/test_transport_limits.py`` needs: a socket that sends but never drains.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from typing import Any


class RawWebSocket:
    """One Engine.IO WebSocket connection to ``127.0.0.1:port``, frames sent and read by hand."""

    def __init__(self, port: int, cookie: str = "", *, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # small, so the kernel does not hide that the client never reads
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        origin = f"http://127.0.0.1:{port}"
        request = (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            + (f"Cookie: {cookie}\r\n" if cookie else "")
            + "\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head.decode(errors="replace"))

    def send(self, data: str | bytes) -> None:
        """Send one masked frame: text for ``str``, binary for ``bytes``."""
        payload = data.encode() if isinstance(data, str) else data
        opcode = 0x1 if isinstance(data, str) else 0x2
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        # A zero mask leaves the payload as it is (valid, and no Python loop over 100 KB frames).
        self.sock.sendall(header + b"\0\0\0\0" + payload)

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def receive(self) -> str | bytes:
        """Read one (unfragmented) frame from the server."""
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        payload = self._read(length)
        if first & 0x0F == 0x8:
            raise ConnectionError("close frame")
        return payload.decode() if first & 0x0F == 0x1 else payload

    def connect(self, auth: dict[str, Any]) -> str:
        """Engine.IO's open, then Socket.IO's connect with ``auth``; return the connect answer."""
        opening = self.receive()
        assert isinstance(opening, str) and opening.startswith("0"), opening
        self.send("40" + json.dumps(auth))
        while True:
            answer = self.receive()
            if isinstance(answer, str) and answer.startswith("4"):
                return answer

    def call(self, event: str, payload: dict[str, Any], ack_id: int = 1) -> Any:
        """Emit ``event`` and read until its acknowledgement (answering pings on the way)."""
        self.send(f"42{ack_id}" + json.dumps([event, payload]))
        prefix = f"43{ack_id}["
        while True:
            frame = self.receive()
            if frame == "2":
                self.send("3")
            elif isinstance(frame, str) and frame.startswith(prefix):
                return json.loads(frame[len(prefix) - 1 :])[0]

    def is_closed_by_server(self, timeout: float) -> bool:
        """Read (and discard) until the server closes the connection, or ``timeout`` passes."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    return True
        except TimeoutError:
            return False
        except OSError:
            return True  # reset

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
