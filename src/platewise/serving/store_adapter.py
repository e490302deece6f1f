"""The one place the server touches the reads store (``platewise.store``), imported lazily.

``GET /v1/reads`` and ``--store-db`` go through :class:`ReadsSource`. While ``platewise.store`` is not part
of the build, every query answers :class:`~platewise.errors.StoreError` "store not available" (HTTP 503),
and the server itself runs normally.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from platewise.errors import InvalidInput, StoreError

__all__ = ["ReadsSource", "store_status"]

MAX_LIMIT = 1000


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
    """Queries recent plate reads for ``GET /v1/reads?plate=AB%&limit=50``.

    Args:
        url: the store URL given with ``--store-db`` (``sqlite:///reads.db``, ``postgresql://...``); "" = off.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Any = None

    def _open(self) -> Any:
        if not self.url:
            raise StoreError("no reads store configured; start the server with --store-db URL")
        if self._store is None:
            try:
                mod = importlib.import_module("platewise.store")
            except ImportError:
                raise StoreError("store not available: this build has no platewise.store module") from None
            opener = getattr(mod, "open_store", None)
            if opener is None:
                raise StoreError("store not available: platewise.store has no open_store(url) yet")
            self._store = opener(self.url)
        return self._store

    def query(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Reads matching ``plate`` (a LIKE pattern, optional), newest first, at most ``limit`` (<= 1000).

        Raises:
            InvalidInput: a bad ``limit``.
            StoreError: no store configured or available, or the database failed.
        """
        raw = params.get("limit", "50")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise InvalidInput(f"limit must be an integer in 1..{MAX_LIMIT}, got {raw!r}")
        store = self._open()
        search = getattr(store, "search", None)
        if search is None:
            raise StoreError("store not available: the store object has no search(pattern, limit)")
        rows = search(params.get("plate", "%"), limit=int(raw))
        return [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in rows]
