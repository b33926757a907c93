"""Several server processes on one database: the set-up the concurrency tests share.

Each job runs in a forked process with an app of its own on the test's database; they start
together at a barrier and report back through a queue.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from flask import Flask

from workshop import create_app

TIMEOUT = 120  # seconds for all workers together; normally a few
FORK = multiprocessing.get_context("fork")


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
