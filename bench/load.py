"""Load benchmark: many phones on one workshop of the real server, on 127.0.0.1 only.

    .venv/bin/pip install -e ".[production,bench]"
    .venv/bin/python bench/load.py --clients 100 500 1000 2000 --mode threading gevent

For each mode and number of clients it starts ``python run.py`` (ASYNC_MODE=<mode>) on a
temporary database, joins every phone over HTTP (its own cookie), connects them with
python-socketio's asyncio client (spread over worker processes), opens a vote and:

1. sends acknowledged votes at ``--rate`` votes/s for ``--seconds`` (each phone changes its
   vote, with ``vote_id`` and a rising ``rev``), measuring ack latency and the time from
   sending a vote to the presenter receiving a ``state`` or ``count`` push that includes it
   (``seq`` ≥ the ack's);
2. compares the acks with the database: an acknowledged revision missing is *lost*, a second
   row or answer for a phone is *duplicated*;
3. saturates the server (``--inflight`` votes in flight) for the ack throughput; ballots
   acknowledged with the same ``seq`` were written by one batch of the group commit (seq
   advances once per batch), which gives the mean batch size;
4. the reveal: with every phone still connected the facilitator moves the goal to
   ``resultat``; each phone records when it first receives a ``state`` whose ``results`` is
   set (CLOCK_MONOTONIC is system-wide, so the client processes' times compare with the
   orchestrator's), and so does the presenter: reveal → 50 %, 95 %, 100 % of the phones;
5. starts a bare python-socketio server in the same async mode whose handler only acks, and
   saturates it the same way with the same number of clients, for the throughput ratio.

``--pin`` puts the server and the bare server on CPU 0 and the client processes (and this
orchestrator, which runs the presenter) on CPU 1, so the clients' load does not hide the
server's headroom. Server RSS (peak, sampled every 0.1 s) and CPU (during the paced votes) come
from psutil. A hard timeout (``--timeout``) ends everything. Nothing leaves the loopback
interface.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import random
import re
import resource
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PASSWORD = "bench-lösenord-1"
TARGETS = (
    "Targets (issue 17): ack throughput ≥ 0.5 × bare at 100/1000/2000 clients; 2000 clients at "
    "200 votes/s: p95 ack < 100 ms, presenter p95 < 300 ms; reveal to 95 % of 2000 phones < 1 s, "
    "100 % < 2 s; 5000 phones: 0 lost/dup, server RSS < 600 MB; 0 lost/dup in every run."
)
SERVER_CPUS = {0}  # --pin: the server (and the bare server) here,
CLIENT_CPUS = {1}  # the client processes and the orchestrator here


def raise_nofile() -> None:
    """Allow as many open files as the hard limit lets (a socket per phone)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def child_setup(cpus: set[int] | None) -> Callable[[], None]:
    """A ``preexec_fn``: many open files, and the CPUs ``cpus`` only (None: any)."""

    def setup() -> None:
        raise_nofile()
        if cpus:
            os.sched_setaffinity(0, cpus)

    return setup


class PeakRss:
    """The peak of the summed RSS of some processes, sampled every 0.1 s in a thread."""

    def __init__(self, procs: list[Any]) -> None:
        self.procs = procs
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self) -> int:
        total = 0
        for proc in self.procs:
            try:
                total += proc.memory_info().rss
            except Exception:  # noqa: BLE001 - a process that ended counts nothing more
                pass
        self.peak = max(self.peak, total)
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.sample()

    def stop(self) -> float:
        """Stop sampling; return the peak in MB."""
        self._stop.set()
        self._thread.join(timeout=2)
        self.sample()
        return self.peak / 2**20


def progress(what: str) -> None:
    """A line on stderr as each phase starts (a 5,000-phone run takes minutes)."""
    print(f"   {time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- The bare python-socketio server (a subprocess of this script) ---------------------------


def bare_server(mode: str, port: int) -> None:
    """Serve python-socketio alone: ``vote`` is acknowledged with a small dict, nothing else."""
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    import socketio

    sio = socketio.Server(async_mode=mode, max_http_buffer_size=128 * 1024)

    @sio.on("vote")
    def vote(sid: str, data: Any) -> dict[str, Any]:
        return {"ok": True, "changed": False, "rev": 1}

    app = socketio.WSGIApp(sio)
    if mode == "gevent":
        from gevent import pywsgi
        from geventwebsocket.handler import WebSocketHandler

        server = pywsgi.WSGIServer((HOST, port), app, handler_class=WebSocketHandler, log=None)
        server.serve_forever()
    else:
        import logging

        from werkzeug.serving import run_simple

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        run_simple(HOST, port, app, threaded=True)


# --- Clients in worker processes --------------------------------------------------------------


async def _connect_all(
    url: str,
    phones: list[dict[str, Any]],
    workshop: int | None,
    revealed: list[float | None],
    dropped: set[int],
) -> list[Any]:
    """Connect every phone (25 at a time); ``revealed[i]``: when phone i first saw results.

    ``dropped`` collects the phones whose connection ended without being asked to (e.g. the
    Engine.IO client gives up when the server's ping is over 5 s late).
    """
    import socketio

    clients: list[Any] = [None] * len(phones)
    gate = asyncio.Semaphore(25)

    async def one(i: int, phone: dict[str, Any]) -> None:
        client = socketio.AsyncClient(reconnection=False)

        def on_state(state: dict[str, Any]) -> None:
            if revealed[i] is None and state.get("results") is not None:
                revealed[i] = time.monotonic()

        client.on("state", on_state)
        client.on("disconnect", lambda *reason: dropped.add(i))
        async with gate:
            try:
                await client.connect(
                    url,
                    headers={"Cookie": phone["cookie"]} if phone.get("cookie") else {},
                    auth={"workshop": workshop, "role": "people"} if workshop else None,
                    transports=["websocket"],
                    wait_timeout=30,
                )
                if workshop:  # as the phone page does: its first state:get binds the secret
                    await client.call("state:get", {"secret": phone["secret"]}, timeout=30)
                clients[i] = client
            except Exception:  # noqa: BLE001 - counted as not connected
                pass

    await asyncio.gather(*(one(i, p) for i, p in enumerate(phones)))
    return clients


async def _paced(
    clients: list[Any],
    phones: list[dict[str, Any]],
    job: dict[str, Any],
) -> dict[str, Any]:
    """Send ``job['count']`` votes evenly spaced from ``job['start']`` (monotonic clock)."""
    round_id, proposals = job["round_id"], job["proposals"]
    interval = 1.0 / job["rate"]
    live = [i for i, c in enumerate(clients) if c is not None]
    results: list[dict[str, Any]] = []
    tasks = []

    async def send(i: int) -> None:
        phone = phones[i]
        phone["rev"] = phone.get("rev", 0) + 1
        grade = random.randint(1, 5)
        payload = {
            "round_id": round_id,
            "secret": phone["secret"],
            "answers": {str(p): grade for p in proposals},
            "vote_id": secrets.token_hex(8),
            "rev": phone["rev"],
        }
        sent = time.monotonic()
        try:
            ack = await clients[i].call("vote:cast", payload, timeout=10)
        except Exception as exc:  # noqa: BLE001 - an unacknowledged vote
            results.append({"i": i, "sent": sent, "error": type(exc).__name__})
            return
        results.append(
            {
                "i": i,
                "sent": sent,
                "acked": time.monotonic(),
                "ok": bool(ack.get("ok")),
                "code": ack.get("code"),
                "seq": ack.get("seq"),
                "stored": not (ack.get("duplicate") or ack.get("stale")),
                "rev": payload["rev"],
                "vote_id": payload["vote_id"],
                "answers": payload["answers"],
            }
        )

    for n in range(job["count"]):
        at = job["start"] + job["offset"] + n * interval
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(send(live[n % len(live)])))
    await asyncio.gather(*tasks)
    return {"votes": results}


async def _saturate(
    clients: list[Any], phones: list[dict[str, Any]], job: dict[str, Any]
) -> dict[str, Any]:
    """Keep ``inflight`` acknowledged events going for ``seconds``; count the acks."""
    live = [i for i, c in enumerate(clients) if c is not None]
    deadline = job["start"] + job["seconds"]
    acked = 0
    turn = 0
    seqs: dict[int, int] = {}  # stored ballots per acknowledged seq, i.e. per batch
    refused: dict[str, int] = {}  # e.g. "rate": a phone past EVENT_RATE

    async def lane() -> None:
        nonlocal acked, turn
        while time.monotonic() < deadline:
            i = live[turn % len(live)]
            turn += 1
            phone = phones[i]
            if job["bare"]:
                event, payload = "vote", {"answers": {"1": 3}, "rev": 1}
            else:
                phone["rev"] = phone.get("rev", 0) + 1
                event = "vote:cast"
                payload = {
                    "round_id": job["round_id"],
                    "secret": phone["secret"],
                    "answers": {str(p): 3 for p in job["proposals"]},
                    "vote_id": secrets.token_hex(8),
                    "rev": phone["rev"],
                }
            try:
                ack = await clients[i].call(event, payload, timeout=10)
            except Exception:  # noqa: BLE001
                continue
            if not ack.get("ok"):
                code = str(ack.get("code"))
                refused[code] = refused.get(code, 0) + 1
            elif time.monotonic() <= deadline:
                acked += 1
                if ack.get("seq") is not None and not (ack.get("duplicate") or ack.get("stale")):
                    seqs[ack["seq"]] = seqs.get(ack["seq"], 0) + 1

    delay = job["start"] - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    await asyncio.gather(*(lane() for _ in range(job["inflight"])))
    return {"acked": acked, "seqs": seqs, "refused": refused}


async def _reveal_wait(
    clients: list[Any], revealed: list[float | None], job: dict[str, Any]
) -> dict[str, Any]:
    """Wait until every connected phone has seen the results, or the deadline; say when."""
    live = [i for i, c in enumerate(clients) if c is not None]
    while time.monotonic() < job["deadline"] and any(revealed[i] is None for i in live):
        await asyncio.sleep(0.01)
    return {"revealed": [revealed[i] for i in live]}


def worker(conn: Any, cpus: set[int] | None = None) -> None:
    """A client process: connect its phones, then run the jobs the orchestrator sends."""
    child_setup(cpus)()  # before any thread starts: threads inherit the affinity
    import logging

    # One line per dropped connection would flood the output; they are counted instead.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)

    async def main() -> None:
        clients: list[Any] = []
        phones: list[dict[str, Any]] = []
        revealed: list[float | None] = []
        dropped: set[int] = set()
        loop = asyncio.get_running_loop()
        while True:
            job = await loop.run_in_executor(None, conn.recv)
            kind = job["kind"]
            if kind == "connect":
                phones = job["phones"]
                revealed = [None] * len(phones)
                dropped = set()
                clients = await _connect_all(
                    job["url"], phones, job.get("workshop"), revealed, dropped
                )
                conn.send({"connected": sum(c is not None for c in clients)})
            elif kind == "paced":
                conn.send(await _paced(clients, phones, job))
            elif kind == "saturate":
                conn.send(await _saturate(clients, phones, job))
            elif kind == "reveal":
                conn.send(await _reveal_wait(clients, revealed, job))
            elif kind == "disconnect":
                lost = len(dropped)  # before: these disconnects are asked for
                await asyncio.gather(
                    *(c.disconnect() for c in clients if c is not None), return_exceptions=True
                )
                clients = []
                conn.send({"dropped": lost})
            elif kind == "stop":
                return

    asyncio.run(main())


class Workers:
    """The client processes (``cpus``: where they run, None: anywhere)."""

    def __init__(self, count: int, cpus: set[int] | None = None) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for _ in range(count):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker, args=(child, cpus), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def run(self, jobs: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        for pipe, job in zip(self.pipes, jobs, strict=True):
            pipe.send(job)
        out = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError("a client process did not answer in time")
            out.append(pipe.recv())
        return out

    def stop(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send({"kind": "stop"})
            except OSError:
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()


def shards(items: list[Any], n: int) -> list[list[Any]]:
    return [items[i::n] for i in range(n)]


# --- The real server --------------------------------------------------------------------------


# Every simulated phone joins from 127.0.0.1, thousands within seconds: the join limits
# (JOIN_LIMIT_PER_ADDRESS, JOIN_LIMIT_PER_WORKSHOP) and the join-code throttle per address
# (JOIN_CODE_BURST at JOIN_CODE_RATE) would refuse them, so they are off here.
NO_JOIN_LIMITS = {
    "JOIN_LIMIT_PER_ADDRESS": "0",
    "JOIN_LIMIT_PER_WORKSHOP": "0",
    "JOIN_CODE_BURST": "1000000",
    "JOIN_CODE_RATE": "1000000",
}


class Server:
    """``python run.py`` on a temporary database (``cpus``: where it runs, None: anywhere)."""

    def __init__(self, mode: str, instance: Path, cpus: set[int] | None = None) -> None:
        self.mode = mode
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.db = instance / "bench.db"
        self.log = instance / "server.log"
        env = {
            **os.environ,
            "ASYNC_MODE": mode,
            "DATABASE_URL": f"sqlite:///{self.db}",
            "INSTANCE_PATH": str(instance),
            "HOST": HOST,
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            "FACILITATOR_PASSWORD": PASSWORD,
            "SECRET_KEY": "bench-secret",
            "PYTHONUNBUFFERED": "1",
            **NO_JOIN_LIMITS,
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "run.py"],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=child_setup(cpus),
            )

    def banner(self) -> tuple[int, str]:
        text = self.log.read_text(errors="replace")
        return int(re.search(r"/f/(\d+)\b", text).group(1)), re.search(
            r"\(kod ([A-Z0-9]+)\)", text
        ).group(1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def wait_healthy(url: str, process: subprocess.Popen[bytes], path: str) -> None:
    import aiohttp

    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession(trust_env=False) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                async with http.get(url + path, timeout=aiohttp.ClientTimeout(total=2)) as r:
                    if r.status in (200, 400):
                        return
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start in 30 s")


def _cookies(response: Any, jar: dict[str, str]) -> None:
    for name, morsel in response.cookies.items():
        jar[name] = morsel.value


def _header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


async def login_and_join(server: Server, clients: int) -> tuple[str, list[dict[str, Any]]]:
    """Log the facilitator in and join ``clients`` phones; return the cookies."""
    import aiohttp

    _workshop, code = server.banner()
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    connector = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(
        trust_env=False, connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:

        async def form(path: str, data: dict[str, str]) -> dict[str, str]:
            jar: dict[str, str] = {}
            async with http.get(server.url + path) as response:
                _cookies(response, jar)
                match = token.search(await response.text())
            data = {**data, "csrf_token": match.group(1) if match else ""}
            async with http.post(
                server.url + path,
                data=data,
                headers={"Cookie": _header(jar)},
                allow_redirects=False,
            ) as response:
                _cookies(response, jar)
                if response.status != 302:
                    raise RuntimeError(f"POST {path}: {response.status}")
            return jar

        fac = await form("/login", {"username": "samtalsledare", "password": PASSWORD})
        jars = await asyncio.gather(*(form(f"/j/{code}", {"name": ""}) for _ in range(clients)))
    phones = [{"cookie": _header(jar), "secret": secrets.token_urlsafe(24)} for jar in jars]
    return _header(fac), phones


@dataclass
class Room:
    """The open vote, the facilitator's and the presenter's clients, what the presenter saw."""

    fac: Any
    screen: Any
    goal_id: int
    round_id: int
    proposals: list[int]
    seen: list[tuple[float, int]] = field(default_factory=list)  # pushes: (arrival, seq)
    revealed: list[float] = field(default_factory=list)  # the first push with results


async def open_vote(server: Server, fac_cookie: str) -> Room:
    """Start the workshop and a betyg vote; return the facilitator and presenter clients."""
    import socketio

    workshop, _code = server.banner()
    fac = socketio.AsyncClient(reconnection=False)
    await fac.connect(
        server.url,
        headers={"Cookie": fac_cookie},
        auth={"workshop": workshop, "role": "facilitator"},
        transports=["websocket"],
    )

    async def do(event: str, **payload: Any) -> dict[str, Any]:
        ack = await fac.call(event, payload, timeout=30)
        if not ack.get("ok"):
            raise RuntimeError(f"{event}: {ack}")
        return ack

    await do("workshop:start")
    goal = (await do("state:get"))["state"]["goal"]["id"]
    await do("phase:set", goal_id=goal, phase="forslag")
    proposals = []
    for n in range(2):
        ack = await do(
            "proposal:add",
            goal_id=goal,
            client_id=f"bench-{n}-{secrets.token_hex(4)}",
            proposal={"kind": "ambitionsniva", "what": f"Förslag {n}"},
        )
        proposals.append(ack["proposal"]["id"])
    await do("phase:set", goal_id=goal, phase="rostning", method="betyg")
    round_id = (await do("state:get"))["state"]["vote"]["round_id"]

    # The presenter: records when each push (``state`` or ``count``, both with seq) arrives,
    # and when the results first came.
    screen = socketio.AsyncClient(reconnection=False)
    room = Room(fac, screen, goal, round_id, proposals)

    def on_state(state: dict[str, Any]) -> None:
        now = time.monotonic()
        room.seen.append((now, state["seq"]))
        if not room.revealed and state.get("results") is not None:
            room.revealed.append(now)

    screen.on("state", on_state)
    screen.on("count", lambda count: room.seen.append((time.monotonic(), count["seq"])))
    await screen.connect(
        server.url,
        headers={"Cookie": fac_cookie},
        auth={"workshop": workshop, "role": "screen"},
        transports=["websocket"],
    )
    return room


def _read_round(db: Path | str, round_id: int) -> list[Any]:
    """Read a round's ballots in one snapshot.

    ``db`` is a SQLite file, or a database URL (e.g. PostgreSQL for bench/cluster.py).
    """
    if isinstance(db, str) and not db.startswith("sqlite"):
        import sqlalchemy as sa

        engine = sa.create_engine(db, poolclass=sa.NullPool)
        try:
            with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                rows = conn.execute(
                    sa.text("SELECT key, answers, rev, vote_id FROM ballot WHERE round_id = :r"),
                    {"r": round_id},
                ).all()
        finally:
            engine.dispose()
        return [(k, a if isinstance(a, str) else json.dumps(a), r, v) for k, a, r, v in rows]
    connection = sqlite3.connect(db, isolation_level=None)
    try:
        rows = connection.execute(
            "SELECT key, answers, rev, vote_id FROM ballot WHERE round_id = ?", (round_id,)
        ).fetchall()
    finally:
        connection.close()
    return rows


def check_database(
    db: Path | str, round_id: int, phones: list[dict[str, Any]], votes: list
) -> dict:
    """Compare what was acknowledged with what the database holds."""
    import hashlib

    last_acked: dict[int, dict[str, Any]] = {}
    for vote in votes:
        if vote.get("ok"):
            best = last_acked.get(vote["i"])
            if best is None or vote["rev"] > best["rev"]:
                last_acked[vote["i"]] = vote
    rows = _read_round(db, round_id)
    by_key: dict[str, list[Any]] = {}
    for row in rows:
        by_key.setdefault(row[0], []).append(row)
    lost = 0
    for i, vote in last_acked.items():
        key = hashlib.sha256(f"ballot:{round_id}:{phones[i]['secret']}".encode()).hexdigest()
        found = by_key.get(key)
        if not found or found[0][2] < vote["rev"]:
            lost += 1
        elif found[0][2] == vote["rev"] and (
            found[0][3] != vote["vote_id"] or json.loads(found[0][1]) != vote["answers"]
        ):
            lost += 1
    duplicated = sum(len(v) - 1 for v in by_key.values())
    return {"lost": lost, "duplicated": duplicated, "ballots": len(rows), "voters": len(last_acked)}


async def trailing_push(room: Room, answers: list[dict[str, Any]], limit: float = 15) -> None:
    """Wait (at most ``limit`` s) until the presenter has a push that includes every vote."""
    last = max((v["seq"] for a in answers for v in a["votes"] if v.get("seq")), default=None)
    deadline = time.monotonic() + limit
    while last is not None and time.monotonic() < deadline:
        if any(seq >= last for _, seq in room.seen):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)


def summarize_votes(
    answers: list[dict[str, Any]],
    parts: list[list[int]],
    seen: list[tuple[float, int]],
    start: float,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Gather the paced votes of every client process and measure them.

    Return the votes (each with its phone's index in the whole room, for the database check)
    and their figures: acknowledgement latency, the time until the presenter received a
    snapshot whose ``seq`` includes each vote (``seen``: its arrivals), and the pushes since
    ``start``.
    """
    votes = []
    for w, answer in enumerate(answers):
        for vote in answer["votes"]:
            vote["i"] = parts[w][vote["i"]]
            votes.append(vote)
    oks = [v for v in votes if v.get("ok")]
    latencies = [1000 * (v["acked"] - v["sent"]) for v in oks]
    failures = [v.get("code") or v.get("error") for v in votes if not v.get("ok")]
    arrivals = sorted(seen)
    presenter = []
    for vote in oks:
        first = next((t for t, seq in arrivals if seq >= vote["seq"]), float("inf"))
        presenter.append(1000 * (first - vote["sent"]))
    stored = [v["seq"] for v in oks if v.get("stored") and v.get("seq") is not None]
    return votes, {
        "votes_sent": len(votes),
        "votes_acked": len(oks),
        "not_acked": {k: failures.count(k) for k in set(failures)},
        "ack_p50": percentile(latencies, 50),
        "ack_p95": percentile(latencies, 95),
        "ack_p99": percentile(latencies, 99),
        "presenter_p50": percentile(presenter, 50),
        "presenter_p95": percentile(presenter, 95),
        "presenter_max": max(presenter) if presenter else float("nan"),
        "pushes": len([t for t, _ in arrivals if t >= start]),
        "batch_paced": len(stored) / max(len(set(stored)), 1),
    }


async def saturate(
    workers: Any, count: int, args: argparse.Namespace, **job: Any
) -> dict[str, float]:
    """Keep ``--inflight`` votes in flight from every worker for ``--saturate`` seconds.

    Return the acknowledgements per second (``throughput``) and the ballots per batch of the
    group commit (``batch_mean``, ``batch_max``: acks that share a seq came from one batch);
    ``job`` says what to send (``bare`` or the round and proposals of the real server).
    """
    start = time.monotonic() + 0.5
    jobs = [
        {
            "kind": "saturate",
            "start": start,
            "seconds": args.saturate,
            "inflight": max(1, args.inflight // args.workers),
            **job,
        }
        for _ in range(count)
    ]
    loop = asyncio.get_running_loop()
    answers = await loop.run_in_executor(None, workers.run, jobs, args.timeout)
    per_seq: dict[int, int] = {}
    refused: dict[str, int] = {}
    for answer in answers:  # one batch's acks may have gone to several client processes
        for seq, n in answer["seqs"].items():
            per_seq[seq] = per_seq.get(seq, 0) + n
        for code, n in answer["refused"].items():
            refused[code] = refused.get(code, 0) + n
    return {
        "saturate_refused": refused,
        "throughput": sum(a["acked"] for a in answers) / args.saturate,
        "batch_mean": sum(per_seq.values()) / len(per_seq) if per_seq else float("nan"),
        "batch_max": max(per_seq.values(), default=0),
    }


def reach(delays: list[float], total: int, share: float) -> float:
    """Milliseconds until ``share`` of ``total`` phones had it (inf: never, in the run)."""
    k = max(1, math.ceil(share * total))
    return 1000 * sorted(delays)[k - 1] if k <= len(delays) else float("inf")


async def reveal(workers: Any, count: int, room: Room, args: argparse.Namespace) -> dict:
    """The facilitator reveals (``phase:set`` to resultat): when did the phones get it?

    Every phone has recorded since it connected when its first ``state`` with results came;
    the client processes wait for all of their phones (at most ``--reveal-timeout``) and send
    the times, which share this process's monotonic clock.
    """
    loop = asyncio.get_running_loop()
    await asyncio.sleep(args.reveal_after)  # after the saturation's last acks
    start = time.monotonic()
    ack = await room.fac.call(
        "phase:set", {"goal_id": room.goal_id, "phase": "resultat"}, timeout=30
    )
    acked = time.monotonic()
    if not ack.get("ok"):
        raise RuntimeError(f"phase:set resultat: {ack}")
    deadline = start + args.reveal_timeout
    jobs = [{"kind": "reveal", "deadline": deadline}] * count
    answers = await loop.run_in_executor(None, workers.run, jobs, args.reveal_timeout + 30)
    while not room.revealed and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    times = [t for a in answers for t in a["revealed"]]
    delays = [t - start for t in times if t is not None]
    return {
        "reveal_ack": 1000 * (acked - start),
        "reveal_phones": len(times),
        "reveal_reached": len(delays),
        "reveal_p50": reach(delays, len(times), 0.50),
        "reveal_p95": reach(delays, len(times), 0.95),
        "reveal_p100": reach(delays, len(times), 1.0),
        "reveal_presenter": 1000 * (room.revealed[0] - start) if room.revealed else float("inf"),
    }


async def measure(mode: str, clients: int, args: argparse.Namespace) -> dict[str, Any]:
    import psutil

    result: dict[str, Any] = {"mode": mode, "clients": clients, "pinned": bool(args.pin)}
    server_cpus, client_cpus = (SERVER_CPUS, CLIENT_CPUS) if args.pin else (None, None)
    instance = Path(tempfile.mkdtemp(prefix=f"bench-{mode}-{clients}-"))
    server = Server(mode, instance, server_cpus)
    workers = Workers(args.workers, client_cpus)
    bare = None
    peak: PeakRss | None = None
    try:
        await wait_healthy(server.url, server.process, "/healthz")
        proc = psutil.Process(server.process.pid)
        peak = PeakRss([proc])
        result["server_pid"] = server.process.pid
        result["cpus"] = {  # what the pinning did, as the kernel has it
            "server": sorted(os.sched_getaffinity(server.process.pid)),
            "clients": sorted(os.sched_getaffinity(workers.procs[0].pid)),
            "orchestrator": sorted(os.sched_getaffinity(0)),
        }
        progress(f"server pid {server.process.pid}; joining {clients} phones")
        fac_cookie, phones = await login_and_join(server, clients)
        room = await open_vote(server, fac_cookie)
        workshop, _ = server.banner()
        loop = asyncio.get_running_loop()
        progress("connecting")
        started = time.monotonic()
        parts = shards(list(range(clients)), args.workers)
        answers = await loop.run_in_executor(
            None,
            workers.run,
            [
                {
                    "kind": "connect",
                    "url": server.url,
                    "workshop": workshop,
                    "phones": [phones[i] for i in part],
                }
                for part in parts
            ],
            args.timeout,
        )
        result["connected"] = sum(a["connected"] for a in answers)
        result["connect_s"] = time.monotonic() - started

        # 1. Paced votes.
        progress("paced votes")
        count = int(args.rate * args.seconds)
        start = time.monotonic() + 1.0
        cpu_before = proc.cpu_times()
        wall_before = time.monotonic()
        jobs = []
        for w in range(len(parts)):
            jobs.append(
                {
                    "kind": "paced",
                    "start": start,
                    "offset": w / args.rate,
                    "rate": args.rate / args.workers,
                    "count": count // args.workers,
                    "round_id": room.round_id,
                    "proposals": room.proposals,
                }
            )
        answers = await loop.run_in_executor(None, workers.run, jobs, args.timeout)
        await trailing_push(room, answers)
        cpu_after = proc.cpu_times()
        wall = time.monotonic() - wall_before
        result["cpu_pct"] = (
            100
            * ((cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system))
            / max(wall, 1e-9)
        )
        votes, summary = summarize_votes(answers, parts, room.seen, start)
        result.update(summary)
        # Per phone: the worker-local rev counters live in the workers; the DB check needs
        # only the votes (which carry rev and vote_id) and the secrets.
        result.update(check_database(server.db, room.round_id, phones, votes))

        # 2. Saturation: the server's acknowledged throughput and its batches.
        progress("saturation")
        result.update(
            await saturate(
                workers,
                len(parts),
                args,
                round_id=room.round_id,
                proposals=room.proposals,
                bare=False,
            )
        )
        # 3. The reveal, every phone still connected.
        progress("reveal")
        result.update(await reveal(workers, len(parts), room, args))
        result["rss_mb"] = peak.stop()
        answers = await loop.run_in_executor(
            None, workers.run, [{"kind": "disconnect"}] * len(parts), 120
        )
        result["dropped"] = sum(a["dropped"] for a in answers)
        for client in (room.fac, room.screen):
            await client.disconnect()
        server.stop()

        # 4. The bare python-socketio server, same mode, same clients, same saturation.
        progress("bare server")
        port = free_port()
        bare = subprocess.Popen(
            [sys.executable, __file__, "--bare-server", mode, str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(instance / "bare.log").open("wb"),
            preexec_fn=child_setup(server_cpus),
        )
        bare_url = f"http://{HOST}:{port}"
        await wait_healthy(bare_url, bare, "/socket.io/?EIO=4&transport=polling")
        answers = await loop.run_in_executor(
            None,
            workers.run,
            [{"kind": "connect", "url": bare_url, "phones": [{}] * len(part)} for part in parts],
            args.timeout,
        )
        result["bare_connected"] = sum(a["connected"] for a in answers)
        bare_sat = await saturate(workers, len(parts), args, bare=True)
        result["bare_throughput"] = bare_sat["throughput"]
        result["ratio"] = result["throughput"] / max(result["bare_throughput"], 1e-9)
        answers = await loop.run_in_executor(
            None, workers.run, [{"kind": "disconnect"}] * len(parts), 120
        )
        result["bare_dropped"] = sum(a["dropped"] for a in answers)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if peak is not None and "rss_mb" not in result:
            result["rss_mb"] = peak.stop()
        workers.stop()
        server.stop()
        if bare is not None and bare.poll() is None:
            bare.terminate()
            try:
                bare.wait(timeout=10)
            except subprocess.TimeoutExpired:
                bare.kill()
    return result


def fmt(value: Any, digits: int = 0) -> str:
    """A table cell: – for nothing or NaN, "never" for infinity, thousands with a comma."""
    if isinstance(value, float):
        if value != value:
            return "–"
        if value == float("inf"):
            return "never"
        return f"{value:,.{digits}f}"
    return "–" if value is None else str(value)


def connected_cell(r: dict[str, Any]) -> str:
    """Phones connected, in how long, and how many lost their connection before the end."""
    cell = fmt(r.get("connected"))
    if r.get("connect_s") is not None:
        cell += f" in {r['connect_s']:.0f} s"
    return cell + (f" ({r['dropped']} dropped)" if r.get("dropped") else "")


def reveal_cell(r: dict[str, Any]) -> str:
    """Reveal → 50/95/100 % of the phones (ms), and how many got it if not all."""
    cell = "/".join(fmt(r.get(k)) for k in ("reveal_p50", "reveal_p95", "reveal_p100"))
    if r.get("reveal_reached") is not None and r["reveal_reached"] < r["reveal_phones"]:
        cell += f" ({r['reveal_reached']} of {r['reveal_phones']})"
    return cell


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| mode | pinned | clients | connected (connect time) | ack p50/p95/p99 ms | "
        "presenter p50/p95/max ms | reveal → 50/95/100 % phones ms | reveal → presenter ms | "
        "lost/dup | server RSS MB | CPU % | acks/s | votes/batch | bare acks/s | ratio |"
    )
    columns = head.count("|") - 1
    lines = [head, "|" + "---|" * columns]
    for r in results:
        pinned = "yes" if r.get("pinned") else "no"
        if "error" in r and "throughput" not in r:
            lines.append(
                f"| {r['mode']} | {pinned} | {r['clients']} | {fmt(r.get('connected'))} | "
                f"failed: {r['error']} |" + " |" * (columns - 5)
            )
            continue
        cells = [
            r["mode"],
            pinned,
            str(r["clients"]),
            connected_cell(r),
            "/".join(fmt(r.get(k)) for k in ("ack_p50", "ack_p95", "ack_p99")),
            "/".join(fmt(r.get(k)) for k in ("presenter_p50", "presenter_p95", "presenter_max")),
            reveal_cell(r),
            fmt(r.get("reveal_presenter")),
            f"{fmt(r.get('lost'))}/{fmt(r.get('duplicated'))}",
            fmt(r.get("rss_mb")),
            fmt(r.get("cpu_pct")),
            fmt(r.get("throughput")),
            fmt(r.get("batch_mean"), 1),
            fmt(r.get("bare_throughput")),
            fmt(r.get("ratio"), 2),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for mode in args.mode:
        for clients in args.clients:
            print(f"== {mode}, {clients} clients, pinned: {bool(args.pin)} …", flush=True)
            result = await measure(mode, clients, args)
            print(json.dumps(result, default=str), flush=True)
            results.append(result)
    return results


def read_results(paths: list[str]) -> list[dict[str, Any]]:
    """The result lines (JSON objects) of earlier runs' output, in order."""
    results = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.startswith("{"):
                results.append(json.loads(line))
    return results


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the paced and saturated phases, shared with bench/cluster.py."""
    parser.add_argument("--rate", type=float, default=200.0, help="votes per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the paced phase")
    parser.add_argument("--saturate", type=float, default=5.0, help="length of the max phase")
    parser.add_argument("--inflight", type=int, default=64, help="votes in flight at most")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--timeout", type=float, default=1800.0, help="hard limit, seconds")
    parser.add_argument(
        "--reveal-timeout", type=float, default=30.0, help="how long phones may take to see it"
    )
    parser.add_argument(
        "--reveal-after",
        type=float,
        default=1.0,
        help="seconds from the saturation's end to the reveal (pushes may still be pending)",
    )


def prepare(args: argparse.Namespace) -> None:
    """Allow many sockets, and end the run cleanly on SIGTERM or at the hard timeout.

    With ``--pin`` this process (facilitator, presenter, log-ins) joins the clients' CPU.
    """
    raise_nofile()
    if getattr(args, "pin", False):
        os.sched_setaffinity(0, CLIENT_CPUS)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))  # runs the cleanups
    signal.signal(signal.SIGALRM, lambda *_: sys.exit("bench: hard timeout reached"))
    signal.alarm(int(args.timeout))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--bare-server":
        bare_server(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 500, 1000, 2000])
    parser.add_argument("--mode", nargs="+", default=["threading", "gevent"])
    add_load_arguments(parser)
    parser.add_argument(
        "--pin",
        action="store_true",
        help="server and bare server on CPU 0, client processes and this one on CPU 1",
    )
    parser.add_argument(
        "--table",
        nargs="+",
        metavar="FILE",
        help="only print the table of the JSON lines in these files (a run's output)",
    )
    args = parser.parse_args()
    if args.table:
        print(table(read_results(args.table)))
        return
    prepare(args)
    results = asyncio.run(run_all(args))
    print()
    print(table(results))
    print(TARGETS)


if __name__ == "__main__":
    main()
