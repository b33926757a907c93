"""What one socket can make the server hold or log, against ``python run.py`` on 127.0.0.1.

Each test starts the real server as a subprocess (threading, and gevent with gevent-websocket
as in production) and attacks it from a hand-made WebSocket client (``tests/rawsocket.py``)
that reads only when told to. Memory is the server process's resident set (``/proc``).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .processes import free_port, start_run_py, stop_process
from .rawsocket import RawWebSocket

PASSWORD = "transport-lösenord-7"
MB = 1024 * 1024


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only, never through a proxy
    return session


class Server:
    """``python run.py`` on a free loopback port, its output in ``log``."""

    def __init__(self, instance: Path, database_url: str, mode: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = instance / "server.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            "FACILITATOR_PASSWORD": PASSWORD,
            "SECRET_KEY": "transport-secret",
            "PYTHONUNBUFFERED": "1",
            "ASYNC_MODE": mode,
            **env,
        }
        self.process = start_run_py(self.env, self.log, self.url)
        banner = self.text()
        self.workshop_id = int(re.search(r"/f/(\d+)\b", banner).group(1))
        self.code = re.search(r"\(kod ([A-Z0-9]+)\)", banner).group(1)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def rss(self) -> int:
        """The server's resident memory in bytes."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024

    def stop(self) -> None:
        stop_process(self.process)

    def facilitator_cookie(self) -> str:
        session = http()
        page = session.get(f"{self.url}/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = session.post(
            f"{self.url}/login",
            data={"username": "samtalsledare", "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text
        return "; ".join(f"{c.name}={c.value}" for c in session.cookies)

    def facilitator_socket(self, **options: int) -> RawWebSocket:
        ws = RawWebSocket(self.port, self.facilitator_cookie(), **options)
        answer = ws.connect({"workshop": self.workshop_id, "role": "facilitator"})
        assert answer.startswith("40{") and '"sid"' in answer, answer
        return ws


@pytest.fixture(params=["threading", "gevent"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def servers(tmp_path: Path, database_url: str) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def start(servers: list[Server], tmp_path: Path, url: str, mode: str, **env: str) -> Server:
    server = Server(tmp_path, url, mode, **env)
    servers.append(server)
    return server


def fill(ws: RawWebSocket, proposals: int = 30) -> int:
    """Start the dialogue and add long proposals, so the console's state is ~100 KB; its size."""
    assert ws.call("workshop:start", {})["ok"]
    goal_id = ws.call("state:get", {})["state"]["goal"]["id"]
    assert ws.call("phase:set", {"goal_id": goal_id, "phase": "forslag"})["ok"]
    text = "Åäö" * 200  # each letter is six bytes in Socket.IO's JSON
    for n in range(proposals):
        proposal = {"kind": "ambitionsniva", "what": text, "rationale": text}
        ack = ws.call(
            "proposal:add",
            {"goal_id": goal_id, "client_id": f"transport-{n}", "proposal": proposal},
        )
        assert ack["ok"], ack
    return len(json.dumps(ws.call("state:get", {})))


def test_a_socket_that_never_reads_is_closed_and_memory_stays_bounded(
    servers: list[Server], tmp_path: Path, database_url: str, mode: str
) -> None:
    # The attacker asks for the facilitator's state (its largest answer, ~230 KB here) as fast
    # as the rate limit lets it (the default 20/s), and never reads an answer.
    server = start(servers, tmp_path, database_url, mode, SEND_QUEUE_MAX_BYTES=str(1 * MB))
    filler = server.facilitator_socket()
    size = fill(filler)
    filler.close()
    ws = server.facilitator_socket(rcvbuf=4096)
    before = server.rss()
    peak = before
    closed = False
    deadline = time.monotonic() + 30  # closed after 1–11 s here (gevent's handlers queue up)
    n = 0
    try:
        while time.monotonic() < deadline:
            for _ in range(5):
                n += 1
                ws.send(f'42{n}["state:get",{{}}]')
            ws.send("3")  # a pong: the server gets its answer to pings, unread
            peak = max(peak, server.rss())
            time.sleep(0.02)
    except OSError:
        closed = True  # the server shut the connection down under the sender
    closed = closed or ws.is_closed_by_server(5)
    elapsed = 30 - (deadline - time.monotonic())
    ws.close()
    grown = peak - before
    print(
        f"{mode}: {n} requests of {size} B answers sent, closed after {elapsed:.1f} s, "
        f"RSS {before / MB:.1f} → peak {peak / MB:.1f} MB"
    )
    assert closed, "a socket that never reads must be disconnected"
    assert grown < 30 * MB, f"{grown / MB:.1f} MB held for one socket"
    assert "closed a socket that does not read" in server.text()
    assert "Traceback" not in server.text()
    # The server still answers.
    assert http().get(f"{server.url}/healthz", timeout=5).status_code == 200


def test_binary_event_announcing_1000_attachments_is_refused(
    servers: list[Server], tmp_path: Path, database_url: str, mode: str
) -> None:
    server = start(servers, tmp_path, database_url, mode)
    ws = server.facilitator_socket()
    before = server.rss()
    ws.send('451000-["state:get",{"_placeholder":true,"num":0}]')
    sent = 0
    attachment = b"\x00" * (100 * 1024)
    try:
        for _ in range(1000):
            ws.send(attachment)
            sent += 1
    except OSError:
        pass  # closed by the server, as it should be
    assert ws.is_closed_by_server(5)
    ws.close()
    grown = server.rss() - before
    print(f"{mode}: {sent} of 1000 × 100 KB attachments sent; RSS grew {grown / MB:.1f} MB")
    assert grown < 20 * MB, f"{grown / MB:.1f} MB buffered"
    assert "refused a binary Socket.IO packet" in server.text()
    assert "Traceback" not in server.text()


def test_500_malformed_frames_log_a_few_short_lines(
    servers: list[Server], tmp_path: Path, database_url: str, mode: str
) -> None:
    server = start(servers, tmp_path, database_url, mode)
    before = len(server.text())
    kinds = ["garbage", "4garbage", "42[", "4{}", "9", "40/x,{", "43abc", "4", "44x", "4-1[]", ""]
    for n in range(500):
        frame = kinds[n % len(kinds)]
        try:
            ws = RawWebSocket(server.port)
            ws.receive()  # Engine.IO's open packet
            if n % 2:
                ws.send("40")  # Socket.IO connected first (refused: no auth), or not
            ws.send(frame)
            ws.close()
        except OSError:
            pass
        if n % 10 == 0:  # the polling transport too
            opening = http().get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=5)
            sid = json.loads(opening.text[1:])["sid"]
            http().post(
                f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}",
                data=frame or "x",
                timeout=10,  # an unknown packet type closes the socket: 2 s at most (JOIN_TIMEOUT)
            )
    time.sleep(0.5)
    log = server.text()[before:]
    lines = [line for line in log.splitlines() if line and "/socket.io/" not in line]
    print(f"{mode}: {len(log)} bytes of log, {len(lines)} lines besides the access log")
    assert "Traceback" not in log
    assert len(lines) <= 5, lines
    assert all(len(line) < 200 for line in lines)


def test_the_access_log_has_no_sid(
    servers: list[Server], tmp_path: Path, database_url: str, mode: str
) -> None:
    # gevent is production's server; Werkzeug (threading) logs its requests too.
    server = start(servers, tmp_path, database_url, mode)
    session = http()
    opening = session.get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=5)
    sid = json.loads(opening.text[1:])["sid"]
    session.post(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}", data="40")
    session.get(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}", timeout=5)
    time.sleep(0.3)
    log = server.text()
    assert "transport=polling&sid=- HTTP/1.1" in log  # the lines are there, redacted
    assert log.count("sid=-") >= 2
    assert sid not in log


def test_a_frame_over_the_size_limit_is_refused_while_it_arrives(
    servers: list[Server], tmp_path: Path, database_url: str, mode: str
) -> None:
    # Before: Engine.IO checked MAX_MESSAGE_SIZE after the WebSocket library had read the whole
    # frame (one 60 MB frame: +85 MB threading, +120 MB gevent).
    server = start(servers, tmp_path, database_url, mode)
    ws = RawWebSocket(server.port)
    ws.receive()  # Engine.IO's open packet
    before = server.rss()
    peak = before
    sender = threading.Thread(target=send_ignoring_errors, args=(ws, "4" + "x" * (40 * MB)))
    sender.start()
    deadline = time.monotonic() + 15
    while sender.is_alive() and time.monotonic() < deadline:
        peak = max(peak, server.rss())
        time.sleep(0.05)
    sender.join(15)
    ws.close()
    print(f"{mode}: one 40 MB frame, RSS grew {(peak - before) / MB:.1f} MB at most")
    assert peak - before < 10 * MB
    assert http().get(f"{server.url}/healthz", timeout=5).status_code == 200


def send_ignoring_errors(ws: RawWebSocket, data: str) -> None:
    try:
        ws.send(data)
    except OSError:
        pass  # the server closed the connection before the frame was through
