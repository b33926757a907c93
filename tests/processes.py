"""Server processes for the tests: the real server started as the README does, and several
forked workers on one database (the set-up the concurrency tests share).

Each forked job runs with an app of its own on the test's database; they start together at a
barrier and report back through a queue.
"""

from __future__ import annotations

import json
import multiprocessing
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from flask import Flask

from workshop import create_app

TIMEOUT = 120  # seconds for all workers together; normally a few
FORK = multiprocessing.get_context("fork")
REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30  # seconds for run.py to migrate, seed and answer /healthz
STOP_TIMEOUT = 10  # seconds after SIGTERM before the server is killed


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    try:
        with opener.open(f"{url}/healthz", timeout=2) as response:
            return json.load(response).get("status") == "ok"
    except (OSError, urllib.error.URLError, ValueError):
        return False


def start_run_py(
    env: dict[str, str],
    log: Path,
    url: str,
    *,
    command: list[str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``python run.py`` as the README does (or ``command`` in ``cwd``), its output
    appended to ``log``; return once ``url``/healthz answers ok (fail with the output if it
    exits or takes START_TIMEOUT)."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command or [sys.executable, "run.py"],
            cwd=cwd or REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not _healthy(url):
        output = log.read_text(errors="replace")
        if process.poll() is not None:
            raise AssertionError(f"run.py exited with {process.returncode}:\n{output}")
        if time.monotonic() > deadline:
            stop_process(process)
            raise AssertionError(f"run.py did not answer /healthz in {START_TIMEOUT} s:\n{output}")
        time.sleep(0.1)
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT; return once the process is gone."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def worker_app(url: str) -> Flask:
    """An app of its own for a worker process, on the database at ``url``."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test",
            "PUBLIC_URL": "http://mote.example:5000",
            "PURGE_ON_START": False,
            "PUSH_INTERVAL": 0,
        }
    )


def run_workers(target: Any, jobs: list[Any]) -> list[Any]:
    """Run ``target(url, job, barrier, results)`` in one process per job; collect the results."""
    results = FORK.Queue()
    barrier = FORK.Barrier(len(jobs))
    processes = [FORK.Process(target=target, args=(*job, barrier, results)) for job in jobs]
    for process in processes:
        process.start()
    collected = []
    try:
        for _ in processes:
            collected.append(results.get(timeout=TIMEOUT))
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    errors = [item for item in collected if item[0] == "error"]
    assert not errors, "\n".join(error[1] for error in errors)
    return [item[1] for item in collected]
