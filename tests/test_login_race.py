"""The login lockout holds when many attempts arrive at the same moment.

Each attempt counts the failures before it and records itself as one while holding the write
lock; only the password check runs outside it (services/accounts.py).
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

import sqlalchemy as sa
from flask import Flask

from workshop import services
from workshop.extensions import db
from workshop.models import LoginAttempt

from .conftest import PASSWORD
from .processes import run_workers, worker_app


def burst(app: Flask, passwords: list[str], ip: str = "10.0.0.7") -> list[Any]:
    """Send the logins from as many threads at once; return each outcome (username or error)."""
    start = threading.Barrier(len(passwords))
    outcomes: list[Any] = [None] * len(passwords)

    def attempt(n: int) -> None:
        with app.app_context():
            start.wait()
            try:
                outcomes[n] = services.login("samtalsledare", passwords[n], ip).username
            except Exception as exc:  # the test looks at what each got
                outcomes[n] = exc

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(passwords))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def codes(outcomes: list[Any]) -> list[str]:
    return sorted("ok" if o == "samtalsledare" else getattr(o, "code", repr(o)) for o in outcomes)


def test_sixteen_wrong_logins_at_once_lock_after_five(app: Flask) -> None:
    outcomes = burst(app, ["fel-lösenord"] * 16)
    assert codes(outcomes) == ["bad_login"] * 5 + ["locked"] * 11
    # Locked now, also for the right password.
    assert codes(burst(app, [PASSWORD])) == ["locked"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == 5


def test_forty_logins_at_once_lock_and_fail_for_no_other_reason(app: Flask) -> None:
    outcomes = burst(app, ["fel"] * 39 + [PASSWORD])
    found = codes(outcomes)
    # Every answer is a login, a wrong password or the lockout: no database lock, no error.
    assert len(outcomes) == 40 and set(found) <= {"ok", "bad_login", "locked"}
    # The right password clears the failures before it, if it came before the fifth; so at most
    # 4 + 5 wrong ones are checked and every other attempt meets the lock (before: all 39).
    assert found.count("bad_login") <= 9
    assert found.count("locked") >= 30


def test_a_login_in_time_still_clears_the_failures_before_it(app: Flask) -> None:
    assert codes(burst(app, ["fel"] * 3)) == ["bad_login"] * 3
    assert burst(app, [PASSWORD]) == ["samtalsledare"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == 0


def _login_worker(url: str, barrier: Any, results: Any) -> None:  # pragma: no cover - child
    """One server process of several: eight wrong logins at once, at the same moment as the
    other process's."""
    try:
        app = worker_app(url)
        with app.app_context():
            db.engine.dispose()  # connections of its own, none inherited from the parent
        barrier.wait(timeout=60)
        results.put(("ok", codes(burst(app, ["fel-lösenord"] * 8))))
    except BaseException:  # noqa: BLE001 - reported to the parent
        results.put(("error", traceback.format_exc()))


def test_the_lockout_holds_across_server_processes(app: Flask, database_url: str) -> None:
    """Two worker processes on one database, 16 wrong logins at the same moment: five are
    checked, the rest meet the lock (each process's own lock alone would let ten through)."""
    with app.app_context():
        db.engine.dispose()  # the forked workers must not inherit this process's connections
    outcomes = run_workers(_login_worker, [(database_url,)] * 2)
    found = sorted(code for outcome in outcomes for code in outcome)
    assert found == ["bad_login"] * 5 + ["locked"] * 11
    assert codes(burst(app, [PASSWORD])) == ["locked"]
