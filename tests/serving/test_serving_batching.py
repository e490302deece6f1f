"""Batcher unit tests: no sockets, a fake runner, asyncio only."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from platewise.errors import ServerBusy
from platewise.serving.batching import Batcher, DeadlineExceeded


class FakeRunner:
    """Records the batches it sees; optionally blocks until released, or sleeps per batch."""

    def __init__(self, sleep: float = 0.0, gate: threading.Event | None = None) -> None:
        self.batches: list[list[object]] = []
        self.sleep = sleep
        self.gate = gate
        self.started = threading.Event()

    def __call__(self, inputs, args):
        self.batches.append(list(inputs))
        self.started.set()
        if self.gate is not None:
            self.gate.wait(5)
        if self.sleep:
            time.sleep(self.sleep)
        return [(x, len(inputs)) for x in inputs]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_batcher_flushes_when_max_batch_items_are_waiting():
    async def main():
        runner = FakeRunner()
        b = Batcher(runner, max_batch=4, max_delay=5.0, adaptive=False)
        t0 = time.monotonic()
        outs = await asyncio.gather(*(b.submit(i) for i in range(4)))
        return runner, outs, time.monotonic() - t0

    runner, outs, _ = run(main())
    assert runner.batches == [[0, 1, 2, 3]]  # did not wait the 5 s window: a full batch goes at once
    assert outs == [(i, 4) for i in range(4)]


def test_batcher_flushes_when_oldest_item_waited_max_delay():
    async def main():
        runner = FakeRunner()
        b = Batcher(runner, max_batch=8, max_delay=0.05, adaptive=False)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        first = asyncio.ensure_future(b.submit("a"))
        await asyncio.sleep(0.01)
        second = asyncio.ensure_future(b.submit("b"))
        res = await asyncio.gather(first, second)
        return runner, res, loop.time() - t0

    runner, res, waited = run(main())
    assert runner.batches == [["a", "b"]]  # the second joined the first's window
    assert res == [("a", 2), ("b", 2)]
    assert waited >= 0.05  # flushed by the delay, not by size (event loop clock: monotonic)


def test_adaptive_batcher_runs_at_once_when_model_is_idle():
    async def main():
        runner = FakeRunner()
        b = Batcher(runner, max_batch=8, max_delay=5.0, adaptive=True)
        return await b.submit("x"), runner

    out, runner = run(main())
    assert out == ("x", 1)
    assert runner.batches == [["x"]]


def test_adaptive_batcher_batches_what_queued_while_the_model_was_busy():
    async def main():
        gate = threading.Event()
        runner = FakeRunner(gate=gate)
        b = Batcher(runner, max_batch=3, max_delay=5.0, adaptive=True)
        first = asyncio.ensure_future(b.submit(0))
        await asyncio.get_running_loop().run_in_executor(None, runner.started.wait, 5)
        rest = [asyncio.ensure_future(b.submit(i)) for i in range(1, 6)]
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(first, *rest)
        return runner

    runner = run(main())
    assert runner.batches == [[0], [1, 2, 3], [4, 5]]


def test_full_queue_raises_busy_at_once():
    async def main():
        gate = threading.Event()
        runner = FakeRunner(gate=gate)
        b = Batcher(runner, max_batch=1, max_queue=2, adaptive=True)
        running = asyncio.ensure_future(b.submit(0))
        await asyncio.get_running_loop().run_in_executor(None, runner.started.wait, 5)
        queued = [asyncio.ensure_future(b.submit(i)) for i in (1, 2)]
        await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(ServerBusy) as err:
            await b.submit(3)
        refused_in = loop.time() - t0
        gate.set()
        done = await asyncio.gather(running, *queued)
        return b, err.value, refused_in, done

    b, err, refused_in, done = run(main())
    assert refused_in < 0.5
    assert err.retry_after >= 1
    assert [d[0] for d in done] == [0, 1, 2]  # admitted requests still complete
    assert b.stats.refused == 1


def test_expired_item_is_dropped_before_it_runs():
    async def main():
        gate = threading.Event()
        runner = FakeRunner(gate=gate)
        b = Batcher(runner, max_batch=4, adaptive=True)
        loop = asyncio.get_running_loop()
        running = asyncio.ensure_future(b.submit("busy"))
        await loop.run_in_executor(None, runner.started.wait, 5)
        late = asyncio.ensure_future(b.submit("late", deadline=loop.time() + 0.02))
        ok = asyncio.ensure_future(b.submit("ok"))
        await asyncio.sleep(0.05)
        gate.set()
        with pytest.raises(DeadlineExceeded):
            await late
        await asyncio.gather(running, ok)
        return runner, b

    runner, b = run(main())
    assert runner.batches == [["busy"], ["ok"]]
    assert b.stats.expired == 1


def test_past_deadline_is_refused_without_queueing():
    async def main():
        b = Batcher(FakeRunner())
        with pytest.raises(DeadlineExceeded):
            await b.submit(1, deadline=asyncio.get_running_loop().time() - 1)

    run(main())


def test_cancelled_request_is_not_run():
    async def main():
        gate = threading.Event()
        runner = FakeRunner(gate=gate)
        b = Batcher(runner, max_batch=4, adaptive=True)
        running = asyncio.ensure_future(b.submit("busy"))
        await asyncio.get_running_loop().run_in_executor(None, runner.started.wait, 5)
        gone = asyncio.ensure_future(b.submit("gone"))
        kept = asyncio.ensure_future(b.submit("kept"))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(running, kept)
        return runner, b

    runner, b = run(main())
    assert runner.batches == [["busy"], ["kept"]]
    assert b.stats.cancelled == 1


def test_one_failing_input_fails_only_its_own_request():
    def runner(inputs, args):
        if "bad" in inputs:
            raise ValueError("bad input")
        return list(inputs)

    async def main():
        b = Batcher(runner, max_batch=4, max_delay=0.05, adaptive=False)
        return await asyncio.gather(b.submit("a"), b.submit("bad"), b.submit("c"), return_exceptions=True)

    a, bad, c = run(main())
    assert (a, c) == ("a", "c")
    assert isinstance(bad, ValueError)


def test_runner_returning_wrong_count_is_an_error():
    async def main():
        b = Batcher(lambda xs, a: [], max_batch=1)
        with pytest.raises(RuntimeError, match="0 outputs for 1 inputs"):
            await b.submit(1)

    run(main())


def test_close_drains_queued_items_then_refuses_new_ones():
    async def main():
        runner = FakeRunner(sleep=0.02)
        b = Batcher(runner, max_batch=2, adaptive=True)
        pending = [asyncio.ensure_future(b.submit(i)) for i in range(5)]
        await asyncio.sleep(0)
        await b.close(drain=True)
        outs = await asyncio.gather(*pending)
        with pytest.raises(ServerBusy, match="shutting down"):
            await b.submit(9)
        return outs

    assert [o[0] for o in run(main())] == [0, 1, 2, 3, 4]


def test_on_batch_hook_sees_sizes():
    seen = []

    async def main():
        b = Batcher(FakeRunner(), max_batch=3, max_delay=0.02, adaptive=False, on_batch=lambda n, s: seen.append(n))
        await asyncio.gather(*(b.submit(i) for i in range(3)))

    run(main())
    assert seen == [3]


def test_invalid_batcher_settings_raise():
    with pytest.raises(ValueError, match="max_batch"):
        Batcher(FakeRunner(), max_batch=0)
