"""BackgroundWriter: batching, flush on close, the database going away and coming back, the loss policy."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url
from store_helpers import rec, texts
from tcp_proxy import TcpProxy

from platewise.errors import InvalidInput, StoreError
from platewise.store import BackgroundWriter, ReadStore, open_store

FAST = {"retry_min": 0.02, "retry_max": 0.1, "flush_interval": 0.05}


def _wait_for(cond, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)


class Outage:
    """A real outage of the database: writers use :attr:`url`; :meth:`down` / :meth:`up` break and restore it.

    SQLite: another connection holds an exclusive lock (writes fail with "database is locked"; as root a
    read-only chmod would not stop anything). PostgreSQL: writers go through a TCP proxy that is stopped
    (connections reset, new ones refused) and restarted on the same port.
    """

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.is_sqlite = "://" not in db_url
        if self.is_sqlite:
            self.url = db_url
            self._lock: sqlite3.Connection | None = None
        else:
            u = make_url(db_url)
            self.proxy = TcpProxy((u.host or "127.0.0.1", u.port or 5432))
            self.url = u.set(port=self.proxy.port).render_as_string(hide_password=False)
            self.proxy.start()

    def open_store(self) -> ReadStore:
        return open_store(self.url, connect_timeout=0.2 if self.is_sqlite else 2)

    def down(self) -> None:
        if self.is_sqlite:
            self._lock = sqlite3.connect(self.db_url, isolation_level=None)
            self._lock.execute("BEGIN EXCLUSIVE")
        else:
            self.proxy.stop()

    def up(self) -> None:
        if self.is_sqlite:
            assert self._lock is not None
            self._lock.execute("COMMIT")
            self._lock.close()
        else:
            self.proxy.start()

    def close(self) -> None:
        if not self.is_sqlite:
            self.proxy.stop()


@pytest.fixture
def outage(db_url: str, store: ReadStore) -> Iterator[Outage]:  # store: the schema exists before the outage
    o = Outage(db_url)
    yield o
    o.close()


def test_writer_batches_and_flushes_everything_on_close(store: ReadStore) -> None:
    w = BackgroundWriter(store, batch_size=7, flush_interval=10.0)
    w.submit([rec(f"AB{i:04d}") for i in range(20)])
    stats = w.close(timeout=10)
    assert (stats.written, stats.pending, stats.dropped, stats.lost_on_close) == (20, 0, 0, 0)
    assert len(store.search(limit=None)) == 20


def test_writer_writes_a_partial_batch_after_flush_interval(store: ReadStore) -> None:
    with BackgroundWriter(store, batch_size=1000, flush_interval=0.05) as w:
        w.submit([rec("AB0001")])
        _wait_for(lambda: w.stats().written == 1)
    assert texts(store.search()) == ["AB0001"]


def test_writer_opens_a_url_itself_and_closes_it(db_url: str) -> None:
    w = BackgroundWriter(db_url, **FAST)
    w.submit([rec("AB0001")])
    assert w.close().written == 1
    with open_store(db_url) as s:
        assert texts(s.search()) == ["AB0001"]


def test_writer_refuses_bad_records_urls_and_use_after_close(store: ReadStore) -> None:
    with pytest.raises(InvalidInput):
        BackgroundWriter("mysql://x@y/z")
    w = BackgroundWriter(store)
    with pytest.raises(InvalidInput):
        w.submit(["7ABC123"])  # type: ignore[list-item]
    w.close()
    with pytest.raises(StoreError, match="closed"):
        w.submit([rec("AB1")])


def test_writer_keeps_and_retries_reads_while_the_database_is_down(outage: Outage, store: ReadStore) -> None:
    s = outage.open_store()
    w = BackgroundWriter(s, **FAST)
    try:
        w.submit([rec("UP00001")])
        assert w.flush(20)
        outage.down()
        w.submit([rec(f"DN{i:05d}") for i in range(5)])  # returns at once though nothing can be written
        _wait_for(lambda: w.stats().failures >= 2)
        assert w.stats().written == 1
        # pending counts the batch being retried too: sampled across several retry cycles, never 0
        seen = set()
        end = time.monotonic() + 0.8
        while time.monotonic() < end:
            seen.add(w.stats().pending)
            time.sleep(0.005)
        assert seen == {5}
        outage.up()
        assert w.flush(20)
        stats = w.stats()
        assert (stats.written, stats.dropped, stats.pending) == (6, 0, 0)
        assert stats.last_error
    finally:
        w.close()
        s.close()
    assert sorted(texts(store.search(limit=None))) == [f"DN{i:05d}" for i in range(5)] + ["UP00001"]


def test_writer_drops_the_oldest_reads_beyond_max_queue_and_counts_them(outage: Outage, store: ReadStore) -> None:
    s = outage.open_store()
    outage.down()
    w = BackgroundWriter(s, max_queue=5, **FAST)
    try:
        w.submit([rec(f"OLD{i:04d}") for i in range(3)])
        _wait_for(lambda: w.stats().failures >= 1)
        w.submit([rec(f"NEW{i:04d}") for i in range(4)])
        _wait_for(lambda: w.stats().failures >= 2)
        assert w.stats().dropped == 2
        assert w.stats().pending <= 5
        outage.up()
        assert w.flush(20)
        stats = w.stats()
    finally:
        w.close()
        s.close()
    assert (stats.submitted, stats.written, stats.dropped) == (7, 5, 2)
    assert sorted(texts(store.search(limit=None))) == ["NEW0000", "NEW0001", "NEW0002", "NEW0003", "OLD0002"]


def test_writer_counts_reads_still_unwritten_at_close_as_lost(outage: Outage, store: ReadStore) -> None:
    s = outage.open_store()
    outage.down()
    w = BackgroundWriter(s, **FAST)
    w.submit([rec(f"LOST{i:03d}") for i in range(3)])
    _wait_for(lambda: w.stats().failures >= 1)
    stats = w.close(timeout=0.3)
    outage.up()
    s.close()
    assert (stats.written, stats.lost_on_close, stats.pending) == (0, 3, 0)
    assert store.search(limit=None) == []


def test_writer_started_while_the_database_is_down_connects_later(db_url: str, store: ReadStore) -> None:
    if "://" not in db_url:
        pytest.skip("SQLite has no server to be down at start; covered by the lock outage tests")
    o = Outage(db_url)
    o.down()
    w = BackgroundWriter(o.url, **FAST)
    try:
        w.submit([rec("LATE001")])
        _wait_for(lambda: w.stats().failures >= 2)
        assert w.stats().written == 0
        o.up()
        assert w.flush(30)
    finally:
        w.close()
        o.close()
    assert texts(store.search()) == ["LATE001"]


class _PickyStore(ReadStore):
    """Rejects one plate for its content, like a database constraint would."""

    def add(self, records):  # type: ignore[no-untyped-def]
        if any(r.read.text == "BAD0001" for r in records):
            from sqlalchemy.exc import DataError

            raise StoreError("value rejected") from DataError("INSERT", {}, Exception("value too long"))
        return super().add(records)


def test_writer_rejects_only_the_rows_the_database_refuses(db_url: str, store: ReadStore) -> None:
    picky = _PickyStore(db_url)
    w = BackgroundWriter(picky, batch_size=10, **FAST)
    w.submit([rec("GOOD001"), rec("BAD0001"), rec("GOOD002")])
    stats = w.close()
    picky.close()
    assert (stats.written, stats.rejected) == (2, 1)
    assert sorted(texts(store.search(limit=None))) == ["GOOD001", "GOOD002"]
