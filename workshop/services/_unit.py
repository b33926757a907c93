"""The one unit of work every writer runs in: lock, change, bump seq, audit, commit or roll back.

A public service function is decorated with ``@unit_of_work``. Inside it, the function checks,
changes the ORM objects, advances the workshop's ``seq`` (``bump``) and adds its audit entry
(``audit.audit``) to the session; when it returns, the decorator commits everything as one
transaction. Any exception rolls it all back, so a refused change leaves nothing half-done.
A unit called from inside another (``create_from_template`` → ``create_workshop``) joins the
outer one, which alone commits.

Locks: in this process one writer commits at a time (``WRITE_LOCK``), so threads queue here
instead of in SQLite's busy handler, whose sleeps (up to 100 ms each) would stall
acknowledgements under load. ``exclusive=True`` holds it for the whole unit (a read-decide-write
that must not interleave with another writer of this process); ``writing()`` holds it for a
short write section and commits before letting go (the vote path). ``lock_workshop`` adds the
database's own lock for writers in other processes.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..domain import DomainError
from ..models import Workshop, db

P = ParamSpec("P")
T = TypeVar("T")

WRITE_LOCK = threading.RLock()

_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("inside_unit", default=False)
_after: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "after_commit", default=None
)


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the outermost unit has committed (at once outside any unit).

    For work that must not run inside a transaction, e.g. scrubbing the database file after an
    erasure; a unit that rolls back drops it.
    """
    pending = _after.get()
    if pending is None:
        callback()
    elif callback not in pending:
        pending.append(callback)


class CommitThenRaise(Exception):
    """Raised inside a unit to keep what it wrote and still refuse: commit, then raise ``error``.

    A failed login is the case: its record must be stored although the login is refused.
    """

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


class Retry(Exception):
    """Raised inside a unit when a concurrent writer won a race: roll back and run it again.

    ``error`` is raised instead once the unit's attempts are used up.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _commit() -> None:
    with WRITE_LOCK:
        db.session.commit()


def unit_of_work(
    fn: Callable[P, T] | None = None, *, exclusive: bool = False, attempts: int = 1
) -> Any:
    """Make a service function one unit of work (see the module's docstring).

    ``attempts`` > 1 runs the function again, from a fresh read, after a unique constraint
    refused a row a concurrent writer stored at the same moment (or after ``Retry``); the
    function's own checks then see that writer's result and decide again.
    """

    def decorate(function: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            if _inside.get():
                return function(*args, **kwargs)
            token = _inside.set(True)
            after = _after.set([])
            try:
                for attempt in range(1, attempts + 1):
                    _after.get().clear()  # type: ignore[union-attr]
                    try:
                        if exclusive:
                            # Check a connection out before queuing for the lock: a holder of
                            # the lock that waited for the pool, while the queue behind it held
                            # every connection, would wait for ever.
                            db.session.connection()
                        with WRITE_LOCK if exclusive else contextlib.nullcontext():
                            try:
                                result = function(*args, **kwargs)
                            except CommitThenRaise as kept:
                                # Still holding the lock: a unit that wrote keeps the database's
                                # write lock until it commits, so it must commit before another
                                # writer of this process may start.
                                _commit()
                                raise kept.error from None
                            _commit()
                        for callback in _after.get() or []:
                            callback()
                        return result
                    except (IntegrityError, sqlite3.IntegrityError, Retry) as conflict:
                        db.session.rollback()
                        if attempt == attempts:
                            if isinstance(conflict, Retry):
                                raise conflict.error from None
                            raise
                    except BaseException:
                        db.session.rollback()
                        raise
                raise AssertionError("unreachable")
            finally:
                _after.reset(after)
                _inside.reset(token)

        return run

    return decorate(fn) if fn is not None else decorate


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Hold the process's write lock for the block and commit before releasing it.

    For a unit that reads without the lock and writes only at its end (the vote path): the
    transaction holds the database's write lock from its first write, so it must commit
    before another writer of this process may start writing.
    """
    with WRITE_LOCK:
        try:
            yield
            db.session.commit()
        except BaseException:
            db.session.rollback()  # before another writer of this process may write
            raise


def bump(workshop: Workshop) -> None:
    """Advance the workshop's sequence number; every broadcast carries it.

    In SQL (``seq = seq + 1`` at flush), so two processes changing one workshop at the same
    moment never hand out the same number; the new value is read back after the commit.
    """
    workshop.seq = Workshop.seq + 1


def lock_workshop(workshop_id: int) -> None:
    """Lock the workshop's row until commit and read everything afresh after it.

    Two requests that read and then decide (e.g. both open a vote round) would otherwise both
    decide on the same state. On PostgreSQL the second waits here for the first to commit and
    then sees its result. ``NO KEY UPDATE`` still lets rows that merely refer to the workshop
    (participants joining, audit entries) be written meanwhile. SQLite has no row locks: a
    write (of the unchanged seq) opens the transaction and takes the database's write lock
    now, so every read that follows sees the latest commit and no other process can commit
    until this one has. (A plain read would not: without a write, each SELECT sees whatever
    was committed when it ran, so a phase read before another process's commit and its rounds
    read after it could both look open.)
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(Workshop)
            .where(Workshop.id == workshop_id)
            .values(seq=Workshop.seq)
            .execution_options(synchronize_session=False)
        )
    else:
        db.session.execute(
            sa.select(Workshop.id).where(Workshop.id == workshop_id).with_for_update(key_share=True)
        )
    db.session.expire_all()
