"""BackgroundWriter: logs reads to the store in batches, off the inference path.

Policy, explicitly:

* ``submit()`` never blocks on the database: it appends to an in-memory queue under a lock and returns.
* The queue holds at most ``max_queue`` records. When a submit would exceed it (the database is slow or
  down), the **oldest** queued records are dropped, counted in ``stats().dropped`` and logged (a warning at
  most every 10 s). Newest reads win: they are the ones people ask about first.
* A thread takes up to ``batch_size`` records when that many are queued or ``flush_interval`` seconds after
  the first one arrived, and writes them with one :meth:`ReadStore.add` (one transaction).
* If the database is unreachable or fails (connection refused, locked, disk error), the batch goes back to
  the front of the queue and is retried with exponential backoff (``retry_min`` .. ``retry_max`` seconds);
  meanwhile the drop-oldest bound above applies. A URL that cannot be opened yet is retried the same way.
* A batch the database rejects for its content rather than its availability (a data error) is retried row
  by row; rows that still fail are dropped and counted in ``stats().rejected``.
* ``close(timeout)`` stops taking records, keeps writing (and retrying) until the queue is empty or
  ``timeout`` passes; whatever is still queued then is counted in ``stats().lost_on_close`` and logged.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import DataError, IntegrityError

from platewise.errors import InvalidInput, StoreError
from platewise.store.engine import resolve_url
from platewise.store.reads import ReadRecord
from platewise.store.store import ReadStore

__all__ = ["BackgroundWriter", "WriterStats"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriterStats:
    """Counters of a :class:`BackgroundWriter` (records, not batches, except ``failures``).

    ``pending`` counts every accepted record not yet written or dropped, the batch being written included.
    """

    submitted: int
    written: int
    pending: int
    dropped: int
    rejected: int
    lost_on_close: int
    failures: int
    last_error: str | None


class BackgroundWriter:
    """A bounded queue of :class:`ReadRecord` drained into a store by one background thread.

    Args:
        store_or_url: an open :class:`ReadStore` (left open on close), or a URL / path / None (opened, and
            re-tried while it cannot be, by the writer's thread; closed on close).
        max_queue: most records held in memory; beyond it the oldest are dropped.
        batch_size: most records per insert.
        flush_interval: seconds a record may wait for a batch to fill.
        retry_min: first retry delay after a failure, doubled up to ``retry_max``.
        retry_max: longest retry delay.
    """

    def __init__(
        self,
        store_or_url: ReadStore | str | None = None,
        *,
        max_queue: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        retry_min: float = 0.2,
        retry_max: float = 5.0,
    ) -> None:
        if max_queue < 1 or batch_size < 1 or flush_interval <= 0 or not 0 < retry_min <= retry_max:
            raise InvalidInput("max_queue and batch_size must be >= 1; flush_interval and retry delays > 0")
        self._store = store_or_url if isinstance(store_or_url, ReadStore) else None
        self._url = None if isinstance(store_or_url, ReadStore) else store_or_url
        self._owns_store = self._store is None
        if self._owns_store:
            resolve_url(self._url)  # a malformed URL is the caller's error now, not a retry loop later
        self.max_queue, self.batch_size, self.flush_interval = max_queue, batch_size, flush_interval
        self.retry_min, self.retry_max = retry_min, retry_max
        self._queue: collections.deque[ReadRecord] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False
        self._close_deadline = float("inf")
        self._inflight = 0  # records in the batch the thread is writing (0: idle)
        self._first_at: float | None = None
        self._last_drop_log = 0.0
        self._n = dict.fromkeys(("submitted", "written", "dropped", "rejected", "lost_on_close", "failures"), 0)
        self._last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="platewise-store-writer", daemon=True)
        self._thread.start()

    # -- producer side ---------------------------------------------------------------------------------

    def submit(self, records: Iterable[ReadRecord]) -> None:
        """Queues records for writing; returns at once. Drops the oldest queued ones beyond ``max_queue``.

        Raises:
            InvalidInput: an item is not a ReadRecord; StoreError: the writer is closed.
        """
        batch = list(records)
        for r in batch:
            if not isinstance(r, ReadRecord):
                raise InvalidInput(f"submit() takes ReadRecord items, got {type(r).__name__}")
        if not batch:
            return
        with self._cond:
            if self._closing:
                raise StoreError("the background writer is closed")
            self._queue.extend(batch)
            self._n["submitted"] += len(batch)
            if self._first_at is None:
                self._first_at = time.monotonic()
            self._drop_excess()
            self._cond.notify_all()

    def _drop_excess(self) -> None:
        excess = len(self._queue) - self.max_queue
        if excess <= 0:
            return
        for _ in range(excess):
            self._queue.popleft()
        self._n["dropped"] += excess
        now = time.monotonic()
        if now - self._last_drop_log >= 10.0:
            self._last_drop_log = now
            log.warning(
                "store writer queue full (%d): dropped the %d oldest reads (%d dropped in total); last error: %s",
                self.max_queue, excess, self._n["dropped"], self._last_error,
            )  # fmt: skip

    def flush(self, timeout: float | None = None) -> bool:
        """Waits until every submitted record is written (or dropped); False if ``timeout`` passed first."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if self._first_at is not None:
                self._first_at = 0.0  # write what is queued now, without waiting for the batch to fill
            self._cond.notify_all()
            while self._queue or self._inflight:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(0.05 if left is None else min(left, 0.05))
        return True

    def close(self, timeout: float = 10.0) -> WriterStats:
        """Stops accepting records, writes what is queued (retrying) for up to ``timeout`` s, stops the thread."""
        with self._cond:
            self._closing = True
            self._close_deadline = time.monotonic() + timeout
            self._cond.notify_all()
        self._thread.join(timeout + 5.0)
        with self._cond:
            if self._queue:
                lost = len(self._queue)
                self._n["lost_on_close"] += lost
                self._queue.clear()
                log.error("store writer closed with %d unwritten reads (last error: %s)", lost, self._last_error)
        if self._owns_store and self._store is not None:
            self._store.close()
        return self.stats()

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> WriterStats:
        with self._cond:
            return WriterStats(pending=len(self._queue) + self._inflight, last_error=self._last_error, **self._n)

    # -- the writer thread -----------------------------------------------------------------------------

    def _take_batch(self) -> list[ReadRecord] | None:
        """Blocks until a batch is due; None when closing and nothing is left (or the close deadline passed)."""
        with self._cond:
            while True:
                if self._closing and (not self._queue or time.monotonic() >= self._close_deadline):
                    return None
                if self._queue:
                    waited = time.monotonic() - (self._first_at or 0.0)
                    if self._closing or len(self._queue) >= self.batch_size or waited >= self.flush_interval:
                        n = min(self.batch_size, len(self._queue))
                        batch = [self._queue.popleft() for _ in range(n)]
                        self._first_at = time.monotonic() if self._queue else None
                        self._inflight = n
                        return batch
                    self._cond.wait(self.flush_interval - waited)
                else:
                    self._cond.wait(0.5)

    def _give_back(self, batch: list[ReadRecord], error: str) -> None:
        """A failed write: counted and its batch re-queued at the front in one step (stats never miss it)."""
        with self._cond:
            self._n["failures"] += 1
            self._last_error = error
            self._queue.extendleft(reversed(batch))
            self._inflight = 0
            self._first_at = self._first_at or time.monotonic()
            self._drop_excess()
            self._cond.notify_all()

    def _done(self, written: int, rejected: int = 0) -> None:
        with self._cond:
            self._n["written"] += written
            self._n["rejected"] += rejected
            self._inflight = 0
            self._cond.notify_all()

    def _sleep(self, seconds: float) -> None:
        """Backoff that ends early at the close deadline (close() may come while we sleep)."""
        with self._cond:
            end = time.monotonic() + seconds
            while (left := min(end, self._close_deadline) - time.monotonic()) > 0:
                self._cond.wait(left)

    def _run(self) -> None:
        delay = self.retry_min
        while (batch := self._take_batch()) is not None:
            try:
                if self._store is None:
                    self._store = ReadStore(self._url)
                self._store.add(batch)
            except StoreError as e:
                cause = e.__cause__
                if isinstance(cause, (DataError, IntegrityError)):
                    ok = self._one_by_one(batch)
                    self._done(ok, len(batch) - ok)
                    continue
                self._give_back(batch, str(e))
                log.warning("store write failed (retry in %.1f s, %d pending): %s", delay, self.stats().pending, e)
                self._sleep(delay)
                delay = min(delay * 2, self.retry_max)
            except Exception as e:  # a bug must not kill the thread silently and stall the queue forever
                log.exception("store writer: unexpected error; dropping a batch of %d", len(batch))
                with self._cond:
                    self._last_error = repr(e)
                self._done(0, len(batch))
            else:
                delay = self.retry_min
                self._done(len(batch))

    def _one_by_one(self, batch: list[ReadRecord]) -> int:
        ok = 0
        assert self._store is not None
        for rec in batch:
            try:
                ok += self._store.add([rec])
            except StoreError as e:
                log.warning("store writer: rejected one read (%s): %s", rec.read.text, e)
        return ok
