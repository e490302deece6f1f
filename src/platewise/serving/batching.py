"""Dynamic request batching, pure asyncio (no sockets): a bounded queue feeding one model runner.

Requests ``submit`` an item and await its future. The batch loop hands the runner up to ``max_batch``
items when

* ``max_batch`` items are waiting, or
* the oldest item has waited ``max_delay`` seconds (the event loop's monotonic clock), or
* ``adaptive`` is on and the runner is idle: it runs at once with whatever is queued (after one loop
  turn, so requests that arrived together go together). Under load the queue fills while the runner is
  busy, so batches still form, without adding a fixed window to every request under light load.

A full queue raises :class:`~platewise.errors.ServerBusy` at once (mapped to HTTP 503 / gRPC
RESOURCE_EXHAUSTED). Items whose deadline has passed, or whose caller went away (cancelled future), are
dropped before they are run. The runner is called in an executor thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from platewise.errors import PlatewiseError, ServerBusy

__all__ = ["BatchStats", "Batcher", "DeadlineExceeded", "Runner"]

Runner = Callable[[Sequence[Any], Sequence[Any]], Sequence[Any]]
"""``runner(inputs, args) -> outputs``: sync, one output per input, called in an executor thread."""


class DeadlineExceeded(PlatewiseError, TimeoutError):  # noqa: N818 - named like the gRPC status
    """The request's deadline passed while it waited in the queue; it was not run."""


@dataclass
class _Item:
    input: Any
    args: Any
    future: asyncio.Future[Any]
    enqueued: float
    deadline: float | None


@dataclass
class BatchStats:
    """Counters for tests and metrics: batch sizes seen, items dropped, requests refused."""

    batches: list[int] = field(default_factory=list)
    expired: int = 0
    cancelled: int = 0
    refused: int = 0

    def record(self, size: int) -> None:
        if len(self.batches) > 10_000:
            del self.batches[:5_000]
        self.batches.append(size)


class Batcher:
    """Batches ``submit`` calls for one model.

    Args:
        runner: ``runner(inputs, args) -> outputs`` (sync; raises to fail the whole batch).
        max_batch: most items per runner call.
        max_delay: seconds the oldest item may wait for batch-mates.
        max_queue: most items waiting (not counting the batch being run); more -> ``ServerBusy``.
        adaptive: run at once when the runner is idle (see module docstring).
        executor: where ``runner`` runs; None = the loop's default executor.
        on_batch: called with (batch size, seconds the runner took) after each batch (metrics).
        isolate_failures: when a batch of several fails, rerun its items one by one so one bad input
            fails only its own request.
    """

    def __init__(
        self,
        runner: Runner,
        *,
        max_batch: int = 8,
        max_delay: float = 0.005,
        max_queue: int = 64,
        adaptive: bool = True,
        executor: Executor | None = None,
        on_batch: Callable[[int, float], None] | None = None,
        isolate_failures: bool = True,
    ) -> None:
        if max_batch < 1 or max_queue < 1 or max_delay < 0:
            raise ValueError("max_batch and max_queue must be >= 1 and max_delay >= 0")
        self.runner = runner
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.adaptive = adaptive
        self.executor = executor
        self.on_batch = on_batch
        self.isolate_failures = isolate_failures
        self.stats = BatchStats()
        self._queue: collections.deque[_Item] = collections.deque()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = 0  # items in the batch being run
        self._closed = False

    # ---- public API -------------------------------------------------------------------------------
    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def in_flight(self) -> int:
        """Items queued or being run."""
        return len(self._queue) + self._running

    def retry_after(self) -> float:
        """A hint for refused callers: roughly how long until the queue has room (at least 1 s)."""
        return 1.0

    async def submit(self, input: Any, args: Any = None, *, deadline: float | None = None) -> Any:  # noqa: A002
        """Queues one input and waits for its output.

        Args:
            deadline: absolute time on ``loop.time()`` after which the item is dropped unrun.

        Raises:
            ServerBusy: the queue is full (or the batcher is closed).
            DeadlineExceeded: the deadline passed before the item was run.
            Exception: whatever the runner raised for this item.
        """
        loop = asyncio.get_running_loop()
        self._ensure_started(loop)
        if self._closed:
            raise ServerBusy("server is shutting down", retry_after=self.retry_after())
        if len(self._queue) >= self.max_queue:
            self.stats.refused += 1
            raise ServerBusy(f"queue full ({self.max_queue} waiting), retry later", retry_after=self.retry_after())
        now = loop.time()
        if deadline is not None and deadline <= now:
            self.stats.expired += 1
            raise DeadlineExceeded("deadline passed before the request was queued")
        item = _Item(input, args, loop.create_future(), now, deadline)
        self._queue.append(item)
        assert self._wakeup is not None
        self._wakeup.set()
        try:
            return await item.future
        except asyncio.CancelledError:
            # the caller went away: forget the item if it is still waiting
            if not item.future.done():
                item.future.cancel()
            try:
                self._queue.remove(item)
                self.stats.cancelled += 1
            except ValueError:
                pass
            raise

    async def close(self, drain: bool = True) -> None:
        """Stops accepting; with ``drain`` runs what is queued first, else fails it with ``ServerBusy``."""
        self._closed = True
        if not drain:
            while self._queue:
                it = self._queue.popleft()
                if not it.future.done():
                    it.future.set_exception(ServerBusy("server is shutting down"))
        if self._wakeup is not None:
            self._wakeup.set()
        if self._task is not None:
            await self._task

    # ---- the batch loop ---------------------------------------------------------------------------
    def _ensure_started(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is None:
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._loop(), name="platewise-batcher")

    def _take(self, now: float) -> list[_Item]:
        batch: list[_Item] = []
        while self._queue and len(batch) < self.max_batch:
            it = self._queue.popleft()
            if it.future.done():  # cancelled by its caller
                self.stats.cancelled += 1
            elif it.deadline is not None and it.deadline <= now:
                self.stats.expired += 1
                it.future.set_exception(DeadlineExceeded("deadline passed while the request was queued"))
            else:
                batch.append(it)
        return batch

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wakeup is not None
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if self.adaptive:
                await asyncio.sleep(0)  # let requests that arrived in the same turn join
            while len(self._queue) < self.max_batch and not self._closed and not self.adaptive:
                wait = self._queue[0].enqueued + self.max_delay - loop.time()
                if wait <= 0:
                    break
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), wait)
                except asyncio.TimeoutError:
                    break
                if not self._queue:
                    break
            batch = self._take(loop.time())
            if batch:
                await self._run(loop, batch)

    async def _run(self, loop: asyncio.AbstractEventLoop, batch: list[_Item]) -> None:
        self._running = len(batch)
        inputs = [it.input for it in batch]
        args = [it.args for it in batch]
        t0 = time.perf_counter()
        try:
            outputs: Sequence[Any] | None = await loop.run_in_executor(self.executor, self.runner, inputs, args)
            if outputs is None or len(outputs) != len(batch):
                n = "None" if outputs is None else len(outputs)
                raise RuntimeError(f"model returned {n} outputs for {len(batch)} inputs")
            error: BaseException | None = None
        except Exception as e:  # noqa: BLE001 - handed to the callers
            outputs, error = None, e
        finally:
            self._running = 0
        dt = time.perf_counter() - t0
        self.stats.record(len(batch))
        if self.on_batch is not None:
            self.on_batch(len(batch), dt)
        if error is not None and self.isolate_failures and len(batch) > 1:
            for it in batch:  # one bad input must not fail its batch-mates
                await self._run(loop, [it])
            return
        for i, it in enumerate(batch):
            if it.future.done():
                continue
            if error is not None:
                it.future.set_exception(error)
            else:
                assert outputs is not None
                it.future.set_result(outputs[i])
