"""Group commit: writes that arrive together share one transaction and one durable commit.

A writer hands its prepared write to ``GroupCommit.submit``. When no batch is being written it
leads: it lets the writers that are ready run once (a yield, not a delay), takes every write
queued by then (at most ``max_batch``), applies them in one transaction and hands each writer
its own result. Writers that arrive meanwhile queue; when the leader is done the first of them
leads the next batch. A lone write is written at once; under load the commit's cost (an fsync
on SQLite with ``synchronous=FULL``, a round trip and a WAL flush on PostgreSQL) is shared by
the batch. Every writer still returns only after the commit that holds its write.

``window`` (seconds, default 0) lets a leader wait up to that long for more writes before it
writes, for a database whose commit is slow compared with the wait; the batch is written as soon
as it is full, whichever comes first.

Threads and gevent greenlets both work: the locks and events are ``threading``'s, which gevent
patches in production.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Slot(Generic[Item, Result]):
    __slots__ = ("done", "error", "item", "lead", "result")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lead = False  # woken to lead the next batch rather than with a result

    def outcome(self) -> Result:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit(Generic[Item, Result]):
    """Batch concurrent writes into one transaction each (see the module's docstring).

    ``apply`` gets the batch's items and returns one result per item, in order: a value, or an
    exception for that writer to raise. If ``apply`` itself raises, every writer of the batch
    raises what ``on_failure`` makes of that error (by default the error itself).
    """

    def __init__(
        self,
        apply: Callable[[Sequence[Item]], Sequence[Result | BaseException]],
        *,
        max_batch: int = 256,
        window: float = 0.0,
        on_failure: Callable[[BaseException], BaseException] | None = None,
    ) -> None:
        self.apply = apply
        self.max_batch = max_batch
        self.window = window
        self.on_failure = on_failure or (lambda error: error)
        self._lock = threading.Lock()
        self._queue: list[_Slot[Item, Result]] = []
        self._leading = False
        # Read by the benchmark: how many batches were written, holding how many writes.
        self.batches = 0
        self.writes = 0
        self.largest = 0

    def submit(self, item: Item) -> Result:
        """Write ``item`` in the next batch; return its result once that batch has committed."""
        slot: _Slot[Item, Result] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
        if not lead:
            slot.done.wait()
            if not slot.lead:
                return slot.outcome()
        self._lead(slot)
        return slot.outcome()

    def _lead(self, own: _Slot[Item, Result]) -> None:
        batch: list[_Slot[Item, Result]] = []
        try:
            self._gather()
            with self._lock:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
            try:
                results = list(self.apply([slot.item for slot in batch]))
                if len(results) != len(batch):
                    raise AssertionError("one result per write")
            except BaseException as error:  # every writer of the batch learns of it
                failure = self.on_failure(error)
                results = [error if i == 0 else failure for i in range(len(batch))]
            for slot, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    slot.error = result
                else:
                    slot.result = result
            self.batches += 1
            self.writes += len(batch)
            self.largest = max(self.largest, len(batch))
        finally:
            # Hand over before waking anyone, whatever happened: a lost hand-over would leave
            # the queue waiting for ever.
            with self._lock:
                if not batch and own in self._queue:  # interrupted before taking the batch
                    self._queue.remove(own)
                successor = self._queue[0] if self._queue else None
                self._leading = successor is not None
                if successor is not None:
                    successor.lead = True
            for slot in batch[1:]:
                slot.done.set()
            if successor is not None:
                successor.done.set()

    def _gather(self) -> None:
        """Let writers that are ready join the batch: one yield, then at most ``window``."""
        time.sleep(0)
        if self.window <= 0:
            return
        deadline = time.monotonic() + self.window
        while len(self._queue) < self.max_batch and time.monotonic() < deadline:
            time.sleep(min(0.0005, self.window))
