"""Durable before acknowledged: kill the real server mid-vote and find every acked vote once.

``python run.py`` runs as a subprocess on a fresh database of the suite's backend (a SQLite file,
or a PostgreSQL database with ``--database=postgresql``). Phones vote as fast as the rate limit
allows, each vote with a ``vote_id`` and a rising ``rev``; the server is killed with
SIGKILL while votes are in flight, started again, and the database is read directly.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
import sqlalchemy as sa

from .processes import free_port, start_run_py, stop_process

PASSWORD = "hållbart-lösenord-7"
PHONES = 6


class Server:
    """``python run.py`` on a free port, with a temporary instance folder and database.

    ``command`` and ``cwd`` start another server the same way (``tests/test_wheel.py``: the
    installed ``malverkstad serve`` from a folder outside the checkout).
    """

    def __init__(
        self,
        instance: Path,
        database_url: str,
        env: dict[str, str] | None = None,
        *,
        command: list[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.command, self.cwd = command, cwd
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.log = instance / "server.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            "FACILITATOR_PASSWORD": PASSWORD,
            "SECRET_KEY": "durability-secret",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_run_py(
            self.env, self.log, self.url, command=self.command, cwd=self.cwd
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only, never through a proxy
    return session


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return match.group(1) if match else ""


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def close(client: socketio.Client) -> None:
    """Disconnect, and close the WebSocket even when the server died under it."""
    try:
        client.disconnect()
    except Exception:  # noqa: BLE001 - the server may be gone
        pass
    ws = getattr(client.eio, "ws", None)
    if ws is not None:
        ws.close()


def open_socket(server: Server, session: requests.Session, **auth: Any) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(
        server.url,
        headers={"Cookie": cookie_header(session)},
        auth=auth,
        transports=["websocket"],
        wait_timeout=10,
    )
    return client


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[Server]:
    """The production server; a test may pass extra environment (``indirect`` parameters)."""
    running = Server(tmp_path, database_url, getattr(request, "param", None))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def sessions() -> Iterator[list[requests.Session]]:
    """HTTP sessions (one per device), closed after the test."""
    opened: list[requests.Session] = []
    yield opened
    for session in opened:
        session.close()


# Killed with ballots written one at a time, and killed while batches are being written: a
# 50 ms group-commit window keeps a batch open or committing nearly all the time, so the kill
# lands inside one (the acks show batches: several phones' votes share one batch's seq).
@pytest.mark.parametrize(
    "server",
    [{}, {"VOTE_BATCH_WINDOW": "0.05"}],
    ids=["one-by-one", "mid-batch"],
    indirect=True,
)
def test_every_acknowledged_vote_survives_sigkill(
    server: Server, sessions: list[requests.Session]
) -> None:
    banner = server.log.read_text(errors="replace")
    workshop_id = int(re.search(r"/f/(\d+)\b", banner).group(1))
    code = re.search(r"\(kod ([A-Z0-9]+)\)", banner).group(1)

    facilitator = http()
    sessions.append(facilitator)
    page = facilitator.get(f"{server.url}/login").text
    response = facilitator.post(
        f"{server.url}/login",
        data={"username": "samtalsledare", "password": PASSWORD, "csrf_token": csrf(page)},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    phones = []
    for _ in range(PHONES):
        session = http()
        sessions.append(session)
        page = session.get(f"{server.url}/j/{code}").text
        response = session.post(
            f"{server.url}/j/{code}",
            data={"name": "", "csrf_token": csrf(page)},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text
        phones.append(session)

    fac = open_socket(server, facilitator, workshop=workshop_id, role="facilitator")
    assert fac.call("workshop:start", {}, timeout=10)["ok"]
    goal_id = fac.call("state:get", {}, timeout=10)["state"]["goal"]["id"]
    assert fac.call("phase:set", {"goal_id": goal_id, "phase": "forslag"}, timeout=10)["ok"]
    proposal_ids = []
    for n in range(2):
        ack = fac.call(
            "proposal:add",
            {
                "goal_id": goal_id,
                "client_id": f"durable-{n}-{secrets.token_hex(4)}",
                "proposal": {"kind": "ambitionsniva", "what": f"Förslag {n}"},
            },
            timeout=10,
        )
        assert ack["ok"], ack
        proposal_ids.append(ack["proposal"]["id"])
    ack = fac.call(
        "phase:set",
        {"goal_id": goal_id, "phase": "rostning", "method": "betyg"},
        timeout=10,
    )
    assert ack["ok"], ack
    round_id = fac.call("state:get", {}, timeout=10)["state"]["vote"]["round_id"]
    close(fac)

    # Each phone votes again and again (a changed vote each time) until the server dies.
    secrets_ = [secrets.token_urlsafe(24) for _ in phones]
    acked: list[dict[str, Any] | None] = [None] * len(phones)
    total = [0]
    seqs: list[int] = []
    lock = threading.Lock()
    dead = threading.Event()

    def vote(index: int) -> None:
        try:
            client = open_socket(server, phones[index], workshop=workshop_id, role="people")
            client.call("state:get", {"secret": secrets_[index]}, timeout=5)  # binds the secret
        except Exception:  # noqa: BLE001 - the server may already be gone
            return
        rev = 0
        while not dead.is_set():
            rev += 1
            payload = {
                "round_id": round_id,
                "secret": secrets_[index],
                "answers": {str(p): 1 + (rev + index + p) % 5 for p in proposal_ids},
                "vote_id": secrets.token_hex(8),
                "rev": rev,
            }
            try:
                ack = client.call("vote:cast", payload, timeout=5)
            except Exception:  # noqa: BLE001 - killed mid-flight: not acknowledged
                break
            if ack.get("ok") and not ack.get("stale") and not ack.get("duplicate"):
                with lock:
                    acked[index] = payload
                    total[0] += 1
                    seqs.append(ack["seq"])
            time.sleep(0.06)  # within the per-connection rate limit
        close(client)

    threads = [threading.Thread(target=vote, args=(i,), daemon=True) for i in range(len(phones))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while total[0] < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # SIGKILL while phones are sending
    dead.set()
    for thread in threads:
        thread.join(timeout=10)
    assert total[0] >= 60, "the phones' votes were not acknowledged in time"
    if server.env.get("VOTE_BATCH_WINDOW"):
        assert len(set(seqs)) < len(seqs), "no batch held more than one vote"

    server.start()
    engine = sa.create_engine(server.database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT key, answers, rev, vote_id FROM ballot WHERE round_id = :r"),
                {"r": round_id},
            ).all()
    finally:
        engine.dispose()
    by_key: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_key.setdefault(row[0], []).append(row)
    assert len(rows) == len(by_key)

    for index, payload in enumerate(acked):
        key = hashlib.sha256(f"ballot:{round_id}:{secrets_[index]}".encode()).hexdigest()
        if payload is None:
            continue
        assert len(by_key.get(key, [])) == 1, f"phone {index}: acknowledged vote missing"
        _key, answers, rev, vote_id = by_key[key][0]
        # The acknowledged revision, or one sent later whose ack the kill swallowed.
        assert rev >= payload["rev"], f"phone {index}: rev {rev} < acked {payload['rev']}"
        if rev == payload["rev"]:
            assert vote_id == payload["vote_id"]
            # SQLite hands the JSON column back as text, PostgreSQL as the decoded value.
            stored = json.loads(answers) if isinstance(answers, str) else answers
            assert stored == payload["answers"]

    # After the restart a phone resends its last acknowledged vote: a duplicate, not a new one.
    index = next(i for i, payload in enumerate(acked) if payload is not None)
    key = hashlib.sha256(f"ballot:{round_id}:{secrets_[index]}".encode()).hexdigest()
    stored_rev = by_key[key][0][2]
    client = open_socket(server, phones[index], workshop=workshop_id, role="people")
    resend = dict(acked[index])
    ack = client.call("vote:cast", resend, timeout=10)
    assert ack["ok"], ack
    assert ack["duplicate"] or (ack["stale"] and stored_rev > resend["rev"]), ack
    own = client.call("state:get", {"secret": secrets_[index]}, timeout=10)
    assert own["own"]["my_ballot_rev"] == stored_rev
    assert own["state"]["vote"]["answered"] == len(rows)
    close(client)
