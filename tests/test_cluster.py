"""Several workers: Redis as Socket.IO's message queue, nginx with ip_hash in front.

``tests/cluster.py`` starts Debian's redis-server, three ``python run.py`` gevent workers on one
database of the suite's backend (a SQLite file, or PostgreSQL with ``--database=postgresql``;
``PUSH_INTERVAL`` 0.25 s) and nginx with the shipped site (deploy/nginx.conf), all on 127.0.0.1.
Every client here talks to nginx only.

Where a client lands: nginx's ``ip_hash`` hashes the first three bytes of the client's IPv4
address, so every client from 127.0.0.1 would reach the same worker. Linux routes all of
127.0.0.0/8 to the loopback interface, so each "device" here binds its sockets to its own
source address 127.0.<n>.1 (a different /24 each) and ip_hash spreads them like phones on
different networks; nginx's ``X-Upstream`` header (added for the test) tells which worker
answered, and devices are picked so that every worker has some. The same address and so the
same worker serve a device's HTTP requests, its Socket.IO polling requests (which need the
sticky session) and its WebSocket.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import socketio

from .builders import emit_ack
from .cluster import (
    PASSWORD,
    Cluster,
    http,
    nginx_binary,
    redis_binary,
)
from .conftest import apply_count

pytestmark = pytest.mark.skipif(
    not (os.path.exists(redis_binary()) and os.path.exists(nginx_binary())),
    reason="needs Debian's redis-server and nginx (scripts/test.sh installs them)",
)
INTERVAL = 0.25
HEARTBEAT = 0.5  # seconds: a killed worker's sockets are forgotten after ~3 of these


class Device:
    """One phone or laptop: its own source address (so its worker), cookies and sockets."""

    def __init__(self, cluster: Cluster, source: str) -> None:
        self.cluster = cluster
        self.source = source
        self.http = http(source)
        self.worker = self.http.get(f"{cluster.url}/healthz", timeout=10).headers["X-Upstream"]
        self.sockets: list[socketio.Client] = []
        self.secret = secrets.token_urlsafe(24)  # a phone's ballot key
        self.live: Live | None = None

    def form(self, path: str, data: dict[str, str], page: str | None = None) -> Any:
        html = self.http.get(self.cluster.url + (page or path), timeout=10).text
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        response = self.http.post(
            self.cluster.url + path,
            data={**data, "csrf_token": match.group(1) if match else ""},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, (path, response.status_code, response.text[:500])
        return response

    def connect(self, transport: str, **auth: Any) -> Live:
        options: dict[str, Any] = {}
        if transport == "websocket":
            # websocket-client takes an open socket: one from this device's source address.
            raw = socket.create_connection(
                ("127.0.0.1", self.cluster.port), timeout=10, source_address=(self.source, 0)
            )
            options["websocket_extra_options"] = {"socket": raw}
        polling = transport == "polling"
        client = socketio.Client(reconnection=False, http_session=self.http, **options)
        live = Live(client)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        client.connect(
            self.cluster.url,
            # As a browser, with an Origin that Engine.IO checks against the host it sees through
            # nginx (websocket-client sends it by itself: http://<host:port> of the URL).
            headers={"Cookie": cookie, **({"Origin": self.cluster.url} if polling else {})},
            auth=auth,
            transports=[transport],
            wait_timeout=15,
        )
        assert client.transport() == transport
        self.sockets.append(client)
        return live

    def close(self) -> None:
        for client in self.sockets:
            try:
                client.disconnect()
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.http.close()


class Live:
    """A Socket.IO client that keeps every push with its arrival time, as the state it makes:
    a full ``state`` as it is, a compact ``count`` applied onto the state before it (as the
    pages do; for another shape the page fetches the state, here from another thread, since
    this client's handlers run on its reading thread)."""

    def __init__(self, client: socketio.Client, state_get: dict[str, Any] | None = None) -> None:
        self.client = client
        self.state_get = state_get or {}
        self.pushes: list[tuple[float, dict[str, Any]]] = []
        self.events: list[str] = []
        self.disconnected = threading.Event()
        self.state: dict[str, Any] | None = None  # what the page shows, kept past a clear()
        client.on("state", self._state)
        client.on("count", self._count)
        client.on("removed", lambda *_: self.events.append("removed"))
        client.on("disconnect", lambda *_: self.disconnected.set())

    def _state(self, state: dict[str, Any]) -> None:
        self.state = state
        self.pushes.append((time.monotonic(), state))

    def _count(self, count: dict[str, Any]) -> None:
        merged = apply_count(self.state, count)
        if merged is not None:
            self._state(merged)
            return

        def fetch() -> None:
            self.state = self.client.call("state:get", self.state_get, timeout=15)["state"]

        threading.Thread(target=fetch, daemon=True).start()

    def do(self, event: str, **payload: Any) -> dict[str, Any]:
        return emit_ack(self.client, event, **payload)

    def latest(self) -> dict[str, Any] | None:
        return self.pushes[-1][1] if self.pushes else None


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, databases: Any) -> Iterator[Cluster]:
    """The cluster on a fresh database of the suite's backend (SQLite file or PostgreSQL)."""
    folder = tmp_path_factory.mktemp("cluster")
    url = databases.new(folder)
    running = Cluster(
        folder,
        workers=3,
        push_interval=INTERVAL,
        env={"DATABASE_URL": url, "REDIS_HEARTBEAT": str(HEARTBEAT)},
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
        databases.drop(url)


@pytest.fixture
def devices(cluster: Cluster) -> Iterator[Callable[[int], list[Device]]]:
    """Hand out devices, ``per_worker`` on each worker, from unused source addresses."""
    opened: list[Device] = []
    next_net = [1]  # source addresses 127.0.<n>.1: each its own /24 for ip_hash

    def make(per_worker: int) -> list[Device]:
        wanted = {f"127.0.0.1:{port}": per_worker for port in cluster.ports}
        chosen: list[Device] = []
        while any(wanted.values()):
            assert next_net[0] < 250, "ip_hash put no client on some worker"
            device = Device(cluster, f"127.0.{next_net[0]}.1")
            next_net[0] += 1
            opened.append(device)
            if wanted.get(device.worker, 0) > 0:
                wanted[device.worker] -= 1
                chosen.append(device)
        return chosen

    yield make
    for device in opened:
        device.close()


def test_clients_on_different_workers_share_one_workshop(
    cluster: Cluster, devices: Callable[[int], list[Device]]
) -> None:
    workshop, code = cluster.banner()
    laptops = devices(1)  # one per worker: console, presenter by key, and a second console
    phones = devices(3)  # three phones per worker
    assert len({d.worker for d in phones}) == 3

    laptops[0].form("/login", {"username": "samtalsledare", "password": PASSWORD})
    fac = laptops[0].connect("websocket", workshop=workshop, role="facilitator")
    screen_key = re.search(
        r"/skarm/([\w-]+)", laptops[0].http.get(f"{cluster.url}/f/{workshop}", timeout=10).text
    )
    assert screen_key, "the console page links the presenter view"
    screen = laptops[1].connect("polling", workshop=workshop, role="screen", key=screen_key[1])
    for n, phone in enumerate(phones):
        phone.form(f"/j/{code}", {"name": ""})
        phone.live = phone.connect(
            "polling" if n % 3 == 0 else "websocket", workshop=workshop, role="people"
        )
    lives = [p.live for p in phones]
    assert all(lives)
    audiences: list[Live] = [fac, screen, *lives]  # type: ignore[list-item]

    # The online count is the whole cluster's, whichever worker answers.
    state = fac.do("state:get")["state"]
    assert state["people"]["online"] == len(phones)
    assert phones[1].live.do("state:get")["state"]["people"]["online"] == len(phones)
    for phone in phones:  # each phone's first state:get with its secret binds it, as the page does
        phone.live.do("state:get", secret=phone.secret)  # type: ignore[union-attr]

    def everyone_sees(check: Callable[[dict[str, Any]], bool], what: str) -> None:
        try:
            wait_until(
                lambda: all(a.latest() is not None and check(a.latest()) for a in audiences),
                what,
            )
        except AssertionError:
            late = [
                (n, a.client.transport(), [(s["seq"], s.get("prev_seq")) for _, s in a.pushes])
                for n, a in enumerate(audiences)
                if a.latest() is None or not check(a.latest())  # type: ignore[arg-type]
            ]
            raise AssertionError(f"{what}: not seen by {late}\n{cluster.logs()}") from None

    # Every phase change reaches every worker's clients.
    fac.do("workshop:start")
    everyone_sees(lambda s: s["workshop"]["status"] == "pagar", "the start")
    goal = fac.do("state:get")["state"]["goal"]["id"]
    fac.do("phase:set", goal_id=goal, phase="forslag")
    everyone_sees(lambda s: s["goal"]["phase"] == "forslag", "the proposal phase")
    proposals = []
    for n in range(2):
        ack = phones[n].live.do(
            "proposal:add",
            goal_id=goal,
            client_id=f"kluster-{n}",
            secret=phones[n].secret,
            proposal={"kind": "ambitionsniva", "what": f"Förslag {n} från arbetare {n}"},
        )
        proposals.append(ack["proposal"]["id"])
    fac.do("proposal:publish", ids=proposals, published=True)
    everyone_sees(lambda s: len(s["proposals"]) == 2, "both proposals")
    fac.do("timer:set", action="start", seconds=120)  # a deadline in the database, no task
    everyone_sees(lambda s: s["timer"]["ends_at"] is not None, "the timer")
    ends = {a.latest()["timer"]["ends_at"] for a in audiences}  # type: ignore[index]
    assert len(ends) == 1
    fac.do("phase:set", goal_id=goal, phase="rostning", method="betyg")
    everyone_sees(lambda s: s["goal"]["phase"] == "rostning", "the vote")
    round_id = fac.do("state:get")["state"]["vote"]["round_id"]
    time.sleep(2 * INTERVAL)  # the last push of the set-up is out

    # A burst of votes on every worker: ~3 s, each phone changing its vote ~8 times a second.
    for a in audiences:
        a.pushes.clear()
    seconds = 3.0
    started = time.monotonic()
    errors: list[Any] = []
    last_grade: dict[int, int] = {}

    def vote(n: int, phone: Device) -> None:
        rev = 0
        while time.monotonic() - started < seconds:
            rev += 1
            grade = 1 + (n + rev) % 5
            ack = phone.live.client.call(
                "vote:cast",
                {
                    "round_id": round_id,
                    "secret": phone.secret,
                    "answers": {str(p): grade for p in proposals},
                    "vote_id": secrets.token_hex(8),
                    "rev": rev,
                },
                timeout=15,
            )
            if not ack.get("ok"):
                errors.append(ack)
                return
            last_grade[n] = grade
            time.sleep(0.12)

    threads = [threading.Thread(target=vote, args=(n, p)) for n, p in enumerate(phones)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    assert not errors, errors[:3]
    final_seq = fac.do("state:get")["state"]["seq"]
    everyone_sees(lambda s: s["seq"] == final_seq, "the trailing push")
    time.sleep(2 * INTERVAL)

    # Coalesced once for the cluster: at most one push per interval (plus the leading and the
    # trailing one), not one per interval per worker; and one chain of prev_seq.
    bound = elapsed / INTERVAL + 3
    for a in audiences:
        assert 2 <= len(a.pushes) <= bound, (len(a.pushes), bound)
    pushes = [state for _at, state in screen.pushes]
    print(f"{len(pushes)} pushes in {elapsed:.2f} s of votes, bound {bound:.1f}")
    for before, after in zip(pushes, pushes[1:], strict=False):
        assert after["prev_seq"] == before["seq"], "a push the screen did not get"
    assert len(pushes) < 2 * (elapsed / INTERVAL), "pushed once per worker"
    # "X av Y" and the tally are right everywhere.
    everyone_sees(
        lambda s: s["vote"]["answered"] == len(phones) and s["vote"]["total"] == len(phones),
        "every answer counted",
    )
    tally = fac.latest()["live_tally"]  # type: ignore[index]
    assert tally["ballots"] == len(phones)
    expected = sum(last_grade.values()) / len(phones)
    for entry in tally["proposals"]:
        assert entry["score"] == pytest.approx(expected, abs=1e-3)

    # The reveal reaches everyone, with the same result.
    fac.do("phase:set", goal_id=goal, phase="resultat")
    everyone_sees(lambda s: s["results"] is not None, "the reveal")
    assert {a.latest()["results"]["ballots"] for a in audiences} == {len(phones)}  # type: ignore[index]

    # A phone that goes away is no longer counted, on any worker.
    phones[-1].live.client.disconnect()
    wait_until(
        lambda: fac.do("state:get")["state"]["people"]["online"] == len(phones) - 1,
        "the online count to drop",
    )

    # Removing a participant closes their phone wherever it is connected (the phones joined
    # in this order, so their participant ids are in this order too).
    ids = sorted(p["id"] for p in fac.do("state:get")["state"]["participants"])
    assert len(ids) == len(phones)
    n, victim = next((n, p) for n, p in enumerate(phones[:-1]) if p.worker != laptops[0].worker)
    fac.do("participant:update", id=ids[n], removed=True)
    assert victim.live.disconnected.wait(20), "the removed phone stayed connected"
    assert "removed" in victim.live.events


def test_logout_closes_the_consoles_on_every_worker(
    cluster: Cluster, devices: Callable[[int], list[Device]]
) -> None:
    workshop, _code = cluster.banner()
    laptops = devices(1)
    for laptop in laptops:
        laptop.form("/login", {"username": "samtalsledare", "password": PASSWORD})
    consoles = [
        laptop.connect("websocket", workshop=workshop, role="facilitator") for laptop in laptops
    ]
    for console in consoles:
        console.do("state:get")
    laptops[0].form("/logout", {}, page=f"/f/{workshop}")
    for console in consoles:
        assert console.disconnected.wait(20), "a console on another worker stayed connected"


def test_presence_survives_a_redis_flush_and_forgets_a_killed_worker(
    cluster: Cluster, devices: Callable[[int], list[Device]]
) -> None:
    """Last with this cluster: one of its workers is killed (SIGKILL, no clean-up of its own)."""
    workshop, code = cluster.banner()
    laptop, *phones = devices(1)
    laptop.form("/login", {"username": "samtalsledare", "password": PASSWORD})
    console = laptop.connect("websocket", workshop=workshop, role="facilitator")
    before = console.do("state:get")["state"]["people"]["online"]
    for phone in phones:
        phone.form(f"/j/{code}", {"name": ""})
        phone.live = phone.connect("websocket", workshop=workshop, role="people")
    assert console.do("state:get")["state"]["people"]["online"] == before + len(phones)

    # Redis loses everything (as in a restart without persistence): each worker registers its
    # sockets again at its next heartbeat.
    store = redis.Redis(port=cluster.redis_port)
    store.flushall()
    store.close()
    wait_until(
        lambda: console.do("state:get")["state"]["people"]["online"] == before + len(phones),
        "the workers to register their sockets again",
        timeout=10 * HEARTBEAT + 5,
    )

    doomed = cluster.ports.index(int(phones[0].worker.rsplit(":", 1)[1]))
    cluster.workers[doomed].kill()
    cluster.workers[doomed].wait(timeout=10)
    wait_until(
        lambda: console.do("state:get")["state"]["people"]["online"] == before + len(phones) - 1,
        "the killed worker's phone to be forgotten",
        timeout=10 * HEARTBEAT + 5,
    )
