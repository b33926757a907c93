"""Several workers on 127.0.0.1: Debian's redis-server, ``python run.py`` × N, nginx in front.

Used by ``tests/test_cluster.py`` and ``bench/cluster.py``. Every process gets its config and
data in one temporary folder and free loopback ports; ``Cluster.stop()`` ends them all (also when
starting failed half-way). The nginx site is the shipped ``deploy/nginx.conf``: the upstream's
servers, the listen address and the TLS lines are substituted, everything else (``ip_hash``,
the WebSocket upgrade, timeouts, buffering, forwarded headers) is used as it ships.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "deploy" / "nginx.conf"
PASSWORD = "kluster-lösenord-4"
SECRET = "cluster-secret-shared-by-all-workers"


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct free ports: all held open at once, so none is handed out twice."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def shipped_site() -> str:
    """The nginx site configuration that ships in deploy/nginx.conf."""
    return SITE.read_text()


def site_for(
    workers: list[int],
    *,
    listen: str,
    tls: tuple[Path, Path] | None = None,
    balance: str | None = None,
) -> str:
    """The shipped site with these worker ports, listening on ``listen`` (plain or TLS).

    ``balance`` replaces ``ip_hash;`` (e.g. ``""`` for round robin, when every client comes
    from 127.0.0.1 and uses WebSocket only, which needs no stickiness).
    """
    site = shipped_site()
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in workers)
    site, n = re.subn(r"(    server 127\.0\.0\.1:\d+[^\n]*\n)+", servers, site, count=1)
    assert n == 1, "deploy/nginx.conf's upstream lists no 127.0.0.1 servers"
    if balance is not None:
        site = site.replace("    ip_hash;\n", f"    {balance}\n" if balance else "")
    # The port-80 server only redirects to https.
    site = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", site, count=1, flags=re.S)
    if tls is None:
        site = re.sub(r"    listen 443 ssl;\n(    listen \[::\]:443 ssl;\n)?", "", site)
        site = re.sub(r"    ssl_[^\n]*\n", "", site)
        site = site.replace("    server_name ", f"    listen {listen};\n    server_name ", 1)
        site = site.replace("add_header Strict-Transport-Security", "# add_header HSTS")
    else:
        site = re.sub(r"    listen \[::\]:443 ssl;\n", "", site)
        site = site.replace("    listen 443 ssl;\n", f"    listen {listen} ssl;\n")
        site = re.sub(r"ssl_certificate +[^;]+;", f"ssl_certificate {tls[0]};", site)
        site = re.sub(r"ssl_certificate_key +[^;]+;", f"ssl_certificate_key {tls[1]};", site)
    return site


def nginx_conf(folder: Path, site: str, *, extra_http: str = "") -> Path:
    """A whole nginx.conf around ``site``: pid, logs and temp files in ``folder``.

    As root nginx's workers would switch to an unprivileged user that cannot write the
    temporary folder; ``user`` keeps them as root here (a non-root nginx ignores it).
    """
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = (
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'nginx-error.log'} warn;\n"
        "events { worker_connections 8192; }\n"
        "http {\n"
        f"    access_log off;\n{temp}{extra_http}"
        + "".join(f"    {line}\n" if line else "\n" for line in site.splitlines())
        + "}\n"
    )
    path = folder / "nginx.conf"
    path.write_text(conf)
    return path


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def redis_binary() -> str:
    return shutil.which("redis-server") or "/usr/bin/redis-server"


def redis_command(port: int, folder: Path) -> list[str]:
    """A redis-server on 127.0.0.1:``port`` keeping nothing on disk (its folder: ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        redis_binary(),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(folder),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--protected-mode", "yes",
    ]  # fmt: skip


def wait_redis(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Wait until the redis-server ``process`` answers PING (20 s at most)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("redis-server did not answer in 20 s")


def http(source: str | None = None) -> requests.Session:
    """A requests session (never through a proxy), optionally from a source address."""
    session = requests.Session()
    session.trust_env = False
    if source:
        adapter = _SourceAdapter(source)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


class _SourceAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    session = http()
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url} exited:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                if session.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
    finally:
        session.close()
    raise RuntimeError(f"no answer from {url} in {timeout} s:\n{log.read_text(errors='replace')}")


class Cluster:
    """redis-server, ``workers`` gevent workers on one SQLite file, and nginx in front."""

    def __init__(
        self,
        folder: Path,
        workers: int = 3,
        *,
        push_interval: float = 0.25,
        balance: str | None = None,
        env: dict[str, str] | None = None,
        raise_nofile: Any = None,
    ) -> None:
        self.folder = folder
        self.count = workers
        self.balance = balance
        self.raise_nofile = raise_nofile
        self.redis_port, self.port, *self.ports = free_ports(workers + 2)
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = folder / "cluster.db"
        self.env = {
            **os.environ,
            "ASYNC_MODE": "gevent",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DATABASE_URL": os.environ.get("CLUSTER_DATABASE_URL") or f"sqlite:///{self.db}",
            "INSTANCE_PATH": str(folder / "instance"),
            "HOST": "127.0.0.1",
            "PUBLIC_URL": self.url,
            "FACILITATOR_PASSWORD": PASSWORD,
            "SECRET_KEY": SECRET,
            "PUSH_INTERVAL": str(push_interval),
            "PROXY_FIX": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.redis: subprocess.Popen[bytes] | None = None
        self.nginx: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    def _spawn(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> Any:
        with log.open("ab") as out:
            process = subprocess.Popen(
                args,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=self.raise_nofile,
            )
        self.processes.append(process)
        return process

    def start(self) -> Cluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.redis = self._spawn(
            redis_command(self.redis_port, self.folder / "redis"), self.folder / "redis.log"
        )
        wait_redis(self.redis, self.redis_port, self.folder / "redis.log")
        # The first worker creates the database and the "KS mål 2019" dialogue; the others
        # start once it answers, so two workers never create them at the same time.
        for n, port in enumerate(self.ports):
            env = {**self.env, "PORT": str(port)}
            log = self.folder / f"worker-{n}.log"
            worker = self._spawn([sys.executable, "run.py"], log, env)
            self.workers.append(worker)
            if n == 0:
                wait_http(f"http://127.0.0.1:{port}/healthz", worker, log)
        for n, port in enumerate(self.ports):
            wait_http(
                f"http://127.0.0.1:{port}/healthz", self.workers[n], self.folder / f"worker-{n}.log"
            )
        site = site_for(self.ports, listen=f"127.0.0.1:{self.port}", balance=self.balance)
        # Which worker answered, so the test can tell where each client landed.
        conf = nginx_conf(
            self.folder, site, extra_http="    add_header X-Upstream $upstream_addr always;\n"
        )
        err = self.folder / "nginx-error.log"
        check = subprocess.run(
            [nginx_binary(), "-t", "-c", str(conf), "-p", str(self.folder), "-e", str(err)],
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self.nginx = self._spawn(
            [nginx_binary(), "-c", str(conf), "-p", str(self.folder), "-e", str(err)]
            + ["-g", "daemon off;"],
            self.folder / "nginx.log",
        )
        wait_http(f"{self.url}/healthz", self.nginx, self.folder / "nginx-error.log")

    def banner(self) -> tuple[int, str]:
        """The workshop id and join code the first worker printed."""
        text = (self.folder / "worker-0.log").read_text(errors="replace")
        workshop = re.search(r"/f/(\d+)\b", text)
        code = re.search(r"\(kod ([A-Z0-9]+)\)", text)
        assert workshop and code, text
        return int(workshop.group(1)), code.group(1)

    def worker_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[n]}"

    def logs(self) -> str:
        parts = []
        for path in sorted(self.folder.glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        """End nginx, the workers and redis-server (each by its own process id)."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
