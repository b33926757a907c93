"""A throwaway PostgreSQL server for the tests, and a fresh database per test.

Debian's ``postgresql`` package provides the binaries (``/usr/lib/postgresql/<n>/bin``); the
server runs from a temporary data directory on a free local port, never the system cluster.
``initdb`` refuses root, so as root (CI) the server runs as the package's ``postgres`` user.
Durability settings are off: the data is thrown away, and fsyncs would dominate the suite.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import sqlalchemy as sa


def bindir() -> Path:
    """Find the server binaries: ``pg_config --bindir`` or Debian's versioned folders."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    try:
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        candidates.insert(0, found)
    except (OSError, subprocess.CalledProcessError):
        pass
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise RuntimeError(
        "PostgreSQL's server binaries (initdb, pg_ctl) were not found: "
        "apt-get install postgresql (scripts/test.sh does)"
    )


def _version(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """``initdb`` + ``pg_ctl start`` in a temporary folder; ``stop()`` removes everything."""

    TEMPLATE = "malverkstad_template"

    def __init__(self, *, durable: bool = False) -> None:
        # Tests run without fsync (nothing to keep); a benchmark wants PostgreSQL's defaults.
        self.durable = durable
        self.bin = bindir()
        self.root = Path(tempfile.mkdtemp(prefix="malverkstad-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._names = itertools.count(1)
        self.running = False

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{command[0]} failed:\n{result.stdout}{result.stderr}\n{log}")

    def start(self) -> PostgresServer:
        self._run(
            str(self.bin / "initdb"),
            "--pgdata",
            str(self.data),
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.root}",
                "-c listen_addresses=127.0.0.1",
                "-c max_connections=300",
                *(
                    []
                    if self.durable
                    else ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
                ),
            ]
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "start",
        )  # fmt: skip
        self.running = True
        return self

    def stop(self) -> None:
        """Stop the server (fast, the data is thrown away) and remove its folder."""
        try:
            if self.running:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
                self.running = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> sa.Engine:
        """An engine on the maintenance database, in autocommit (CREATE DATABASE needs it)."""
        return sa.create_engine(self.url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)

    def create_database(self, template: str | None = None) -> str:
        """Create an empty database (a copy of ``template`` if given); return its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        copy = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        engine = self.admin()
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f"CREATE DATABASE {name}{copy}"))
        finally:
            engine.dispose()
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = sa.make_url(url).database
        engine = self.admin()
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        finally:
            engine.dispose()
