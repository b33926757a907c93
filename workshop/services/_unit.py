"""TODO docstring."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from ..models import (
    db,
)

T = TypeVar("T")


# One writer at a time in this process: threads queue here instead of in SQLite's busy
# handler, whose sleeps (up to 100 ms each) would stall acknowledgements under load.
WRITE_LOCK = threading.RLock()


def commit() -> None:
    try:
        with WRITE_LOCK:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def atomic(change: Callable[[], T]) -> T:
    """Run ``change`` and commit; roll back on any error so nothing is half-done."""
    try:
        result = change()
        with WRITE_LOCK:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result
