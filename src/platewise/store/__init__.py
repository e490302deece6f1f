"""The plate reads store: SQLite by default, PostgreSQL at scale; LIKE / regex / fuzzy search.

    from platewise.store import ReadRecord, open_store
    store = open_store()                              # the per-user SQLite file, or open_store(URL)
    store.add([ReadRecord(time=now, source="gate-1", read=plate_read)])
    store.search("AB%12_", since="1d")                # -> [StoredRead, ...], newest first
    store.search("7ABC123", fuzzy=1)                  # OCR-confusion-aware, closest first

See docs/store.md.
"""

from platewise.store.reads import ReadRecord, StoredRead
from platewise.store.search import search_from_query
from platewise.store.store import ReadStore, StoreStats, open_store
from platewise.store.timeparse import parse_duration, parse_time
from platewise.store.writer import BackgroundWriter, WriterStats

__all__ = [
    "BackgroundWriter",
    "ReadRecord",
    "ReadStore",
    "StoreStats",
    "StoredRead",
    "WriterStats",
    "open_store",
    "parse_duration",
    "parse_time",
    "search_from_query",
]
