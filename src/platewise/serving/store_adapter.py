"""The one place the server touches the reads store (``platewise.store``), imported lazily.

``GET /v1/reads`` and ``--store-db`` go through :class:`ReadsSource`: it opens the store on first use
(``platewise.store.open_store(url)``) and answers searches with ``platewise.store.search_from_query``
(parameters ``pattern``, ``regex``, ``fuzzy``, ``since``, ``until``, ``source``, ``min_confidence``,
``limit``; the same meaning as ``platewise store search``). A build without ``platewise.store`` answers
:class:`~platewise.errors.StoreError` "store not available" (HTTP 503) and the server runs normally.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from typing import Any

from platewise.errors import InvalidInput, StoreError

__all__ = ["ReadsSource", "store_status"]


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
