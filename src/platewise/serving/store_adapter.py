"""The one place the server touches the reads store (``platewise.store``), imported lazily.

With ``--store-db``, each worker logs the plates its models return through :class:`ReadsLog` (a
``BackgroundWriter``: queued, never awaited). ``GET /v1/reads`` goes through :class:`ReadsSource`, which
opens the store on first use (``platewise.store.open_store(url)``) and answers with
``platewise.store.search_from_query``: parameters ``pattern``, ``regex``, ``fuzzy``, ``since``, ``until``,
``source``, ``min_confidence`` and ``limit``, as in ``platewise search``. A build without
``platewise.store`` answers :class:`~platewise.errors.StoreError` "store not available" (HTTP 503) and
the server runs normally.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from platewise.errors import InvalidInput, StoreError

__all__ = ["ReadsLog", "ReadsSource", "store_status"]


def store_status(url: str) -> str:
    """``"off"`` (no URL), ``"not available"`` (no ``platewise.store`` module) or ``"available"``."""
    if not url:
        return "off"
    try:
        importlib.import_module("platewise.store")
    except ImportError:
        return "not available"
    return "available"


class ReadsSource:
    """Searches plate reads for ``GET /v1/reads?pattern=AB%25&since=1h&limit=50`` (thread-safe).

    Args:
        url: the store URL given with ``--store-db`` (``sqlite:///reads.db``, ``postgresql://...``, or a
            SQLite file path); "" = off.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Any = None
        self._lock = threading.Lock()

    def _open(self) -> tuple[Any, Any]:
        if not self.url:
            raise StoreError("no reads store configured; start the server with --store-db URL")
        try:
            mod = importlib.import_module("platewise.store")
        except ImportError:
            raise StoreError("store not available: this build has no platewise.store module") from None
        with self._lock:
            if self._store is None:
                try:
                    self._store = mod.open_store(self.url)
                except InvalidInput as e:  # a bad --store-db is the server's problem, not the request's
                    raise StoreError(f"reads store unusable: {e}") from None
        return mod, self._store

    def query(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """JSON-ready reads matching the query parameters (blocking: call it from a worker thread).

        Raises:
            InvalidInput: an unknown parameter or a bad value (HTTP 400).
            StoreError: no store configured or available, or the database failed (HTTP 503).
        """
        mod, store = self._open()
        rows: list[dict[str, Any]] = mod.search_from_query(store, params)
        return rows

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class ReadsLog:
    """Logs the plates a model returned to the store (``--store-db``) without blocking the event loop.

    One ``platewise.store.BackgroundWriter`` per worker: ``log`` only queues records (the writer thread
    writes batches, retries while the database is down, and drops the oldest beyond its queue). Any model
    output that is a list of :class:`~platewise.types.PlateRead` (the ``alpr`` plug-in's) is logged, one
    record per plate, with ``source`` = the request's ``source`` arg or ``serve/<model>``.
    """

    def __init__(self, url: str) -> None:
        try:
            mod = importlib.import_module("platewise.store")
        except ImportError:
            raise StoreError("store not available: this build has no platewise.store module") from None
        self._mod = mod
        self.writer = mod.BackgroundWriter(url)

    def log(self, model: str, outputs: Sequence[Any], args: Mapping[str, str]) -> int:
        """Queues one record per plate found in ``outputs``; returns how many."""
        from platewise.types import PlateRead

        now = dt.datetime.now(dt.timezone.utc)
        source = args.get("source") or f"serve/{model}"
        records = [
            self._mod.ReadRecord(time=now, source=source[:200], read=p)
            for out in outputs
            if isinstance(out, list)
            for p in out
            if isinstance(p, PlateRead)
        ]
        if records:
            self.writer.submit(records)
        return len(records)

    def close(self, timeout: float) -> Any:
        """Writes what is queued (up to ``timeout`` s) and stops; returns the writer's final stats."""
        return self.writer.close(timeout=timeout)
