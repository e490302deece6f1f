"""The reads store: :func:`open_store` and :class:`ReadStore` (add, get, search, stats, prune)."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, desc, func, insert, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from platewise.errors import InvalidInput, StoreError
from platewise.plates import fold_confusions
from platewise.store import fuzzy as fz
from platewise.store import regexp
from platewise.store.engine import describe_url, make_store_engine, resolve_url
from platewise.store.reads import INSERT_COLUMNS, ReadRecord, StoredRead, record_to_tuple, row_to_stored
from platewise.store.schema import crops, migrate, reads
from platewise.store.search import SearchQuery, build_query, filter_conditions, where

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["MAX_FUZZY_CANDIDATES", "ReadStore", "StoreStats", "open_store"]

log = logging.getLogger(__name__)

MAX_FUZZY_CANDIDATES = 200_000
"""A fuzzy search whose index prefilter yields more rows than this is refused (narrow it down)."""


@dataclass(frozen=True)
class StoreStats:
    """What ``platewise store stats`` prints."""

    url: str
    backend: str
    schema_version: int
    trigram_index: str
    reads: int
    distinct_plates: int
    with_crop: int
    first_time: dt.datetime | None
    last_time: dt.datetime | None
    sources: tuple[tuple[str, int], ...]
    size_bytes: int | None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("first_time", "last_time"):
            d[k] = d[k].isoformat().replace("+00:00", "Z") if d[k] else None
        d["sources"] = [{"source": s, "reads": n} for s, n in self.sources]
        return d


def open_store(
    url: str | None = None, *, schema: str | None = None, query_timeout: float = 10.0, connect_timeout: float = 5.0
) -> ReadStore:
    """Opens (creating or migrating the schema of) the reads store at ``url``.

    Args:
        url: a SQLAlchemy URL, a SQLite file path, or None for ``$PLATEWISE_DB`` / the per-user default file.
        schema: PostgreSQL only: keep the tables in this schema (created if needed).
        query_timeout: seconds a search may run (regex, scans) before it stops with an error.
        connect_timeout: seconds to wait for a PostgreSQL connection, or for a locked SQLite file.

    Raises:
        InvalidInput: a bad URL; StoreError: the database cannot be reached or has a newer schema.
    """
    return ReadStore(url, schema=schema, query_timeout=query_timeout, connect_timeout=connect_timeout)


class ReadStore:
    """Plate reads in SQLite or PostgreSQL. Thread-safe: every call takes its own pooled connection."""

    def __init__(
        self,
        url: str | None = None,
        *,
        schema: str | None = None,
        query_timeout: float = 10.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.url = resolve_url(url)
        self.schema = schema
        self.query_timeout = query_timeout
        self.engine = make_store_engine(self.url, schema=schema, connect_timeout=connect_timeout)
        self.dialect = self.engine.dialect.name
        try:
            self.meta = migrate(self.engine, schema=schema)
        except SQLAlchemyError as e:
            self.engine.dispose()
            raise StoreError(f"cannot open the reads store {describe_url(self.url)}: {_reason(e)}") from e
        except BaseException:
            self.engine.dispose()
            raise
        self.trigram_index = self.meta.get("trigram_index", "none")
        mark = "?" if self.dialect == "sqlite" else "%s"
        self._insert_sql = (
            f"INSERT INTO plate_reads ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join([mark] * len(INSERT_COLUMNS))})"
        )

    def __repr__(self) -> str:
        return f"ReadStore({describe_url(self.url)!r})"

    def close(self) -> None:
        """Closes pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> ReadStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------------

    def add(self, records: Sequence[ReadRecord]) -> int:
        """Inserts ``records`` in one transaction (one batched statement); returns how many.

        Raises:
            InvalidInput: an item that is not a ReadRecord; StoreError: the database failed (nothing written).
        """
        if not records:
            return 0
        for r in records:
            if not isinstance(r, ReadRecord):
                raise InvalidInput(f"add() takes ReadRecord items, got {type(r).__name__}")
        rows = [record_to_tuple(r) for r in records]
        try:
            with self.engine.connect().execution_options(sqlite_begin="BEGIN IMMEDIATE") as conn, conn.begin():
                fts = self.dialect == "sqlite" and self.trigram_index == "fts5"
                if fts:  # we hold the write lock: every new id is above the current maximum
                    before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM plate_reads").scalar()
                if any(r.crop_jpeg is not None for r in records):
                    stmt = insert(reads).returning(reads.c.id, sort_by_parameter_order=True)
                    ids = conn.execute(stmt, [dict(zip(INSERT_COLUMNS, r, strict=True)) for r in rows]).scalars().all()
                    conn.execute(
                        insert(crops),
                        [
                            {"read_id": i, "jpeg": r.crop_jpeg}
                            for i, r in zip(ids, records, strict=True)
                            if r.crop_jpeg is not None
                        ],
                    )
                else:  # the driver's executemany, skipping SQLAlchemy's per-row bind processing
                    if self.dialect == "sqlite":
                        rows = [(_sqlite_time(r[0]), *r[1:]) for r in rows]
                    conn.exec_driver_sql(self._insert_sql, rows)
                if fts:
                    conn.exec_driver_sql(
                        "INSERT INTO reads_fts(rowid, folded) SELECT id, folded FROM plate_reads WHERE id > ?",
                        (before,),
                    )
        except SQLAlchemyError as e:
            raise StoreError(f"writing {len(rows)} reads to {describe_url(self.url)} failed: {_reason(e)}") from e
        return len(rows)

    def prune(self, older_than: dt.timedelta) -> int:
        """Deletes reads (and their crops) older than ``older_than`` before now; returns how many."""
        if not isinstance(older_than, dt.timedelta) or older_than <= dt.timedelta(0):
            raise InvalidInput("older_than must be a positive timedelta, e.g. timedelta(days=30)")
        cutoff = dt.datetime.now(dt.timezone.utc) - older_than
        old = select(reads.c.id).where(reads.c.time < cutoff)
        try:
            with self.engine.connect().execution_options(sqlite_begin="BEGIN IMMEDIATE") as conn, conn.begin():
                conn.execute(delete(crops).where(crops.c.read_id.in_(old)))
                n = conn.execute(delete(reads).where(reads.c.time < cutoff)).rowcount
        except SQLAlchemyError as e:
            raise StoreError(f"pruning {describe_url(self.url)} failed: {_reason(e)}") from e
        return int(n)

    # -- reading ---------------------------------------------------------------------------------------

    def get(self, read_id: int) -> StoredRead | None:
        """The read with this id, or None."""
        with self._reading() as conn:
            row = conn.execute(select(reads).where(reads.c.id == int(read_id))).mappings().first()
        return row_to_stored(row) if row else None

    def get_crop(self, read_id: int) -> bytes | None:
        """The stored JPEG crop of a read, or None."""
        with self._reading() as conn:
            return conn.execute(select(crops.c.jpeg).where(crops.c.read_id == int(read_id))).scalar()

    def search(
        self,
        pattern: str | None = None,
        *,
        regex: bool = False,
        fuzzy: float | None = None,
        since: str | dt.datetime | None = None,
        until: str | dt.datetime | None = None,
        source: str | None = None,
        min_confidence: float | None = None,
        limit: int | None = 100,
    ) -> list[StoredRead]:
        """Reads matching a pattern and filters, newest first (fuzzy: closest first, then newest).

        Args:
            pattern: SQL LIKE pattern (``%`` any run, ``_`` one character; ``*``/``?`` too) over the
                normalized text, case and separators ignored; with ``regex`` a Python regular expression
                (searched, case-insensitive); with ``fuzzy`` a plate.
            regex: treat ``pattern`` as a regular expression.
            fuzzy: maximum OCR-confusion-weighted edit distance to ``pattern`` (confusable pairs cost 0.5).
            since: keep reads at or after this time (aware datetime, ISO text, ``1h``, ``yesterday`` ...).
            until: keep reads before this time.
            source: keep reads of this source only.
            min_confidence: keep reads with at least this confidence.
            limit: at most this many rows (None: all).

        Raises:
            InvalidInput: bad arguments, or a regex / scan that ran past ``query_timeout``.
            StoreError: the database failed.
        """
        q = build_query(
            pattern, regex=regex, fuzzy=fuzzy, since=since, until=until, source=source,
            min_confidence=min_confidence, limit=limit,
        )  # fmt: skip
        return self._fuzzy(q) if q.fuzzy is not None else self._plain(q)

    def search_df(self, pattern: str | None = None, **kwargs: Any) -> pd.DataFrame:
        """:meth:`search` as a pandas DataFrame, one column per field (see :mod:`platewise.store.export`)."""
        from platewise.store.export import to_dataframe

        return to_dataframe(self.search(pattern, **kwargs))

    def _plain(self, q: SearchQuery) -> list[StoredRead]:
        conds = filter_conditions(q, dialect=self.dialect, trigram_index=self.trigram_index)
        order = (desc(reads.c.time), desc(reads.c.id))
        # Two steps: pick the ids from the indexes alone (for 'AB%' the (normalized, time) index covers the
        # filter and the sort), then read only the rows that are returned.
        ids = select(reads.c.id).order_by(*order)
        if conds:
            ids = ids.where(where(conds))  # type: ignore[arg-type]
        if q.limit is not None:
            ids = ids.limit(q.limit)
        stmt = select(reads).where(reads.c.id.in_(ids)).order_by(*order)
        with self._reading() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [row_to_stored(r) for r in rows]

    def _fuzzy(self, q: SearchQuery) -> list[StoredRead]:
        assert q.pattern is not None
        assert q.fuzzy is not None
        folded = fold_confusions(q.pattern)
        k = int(q.fuzzy)
        conds = filter_conditions(q, dialect=self.dialect, trigram_index=self.trigram_index)
        conds.append(fz.candidate_condition(folded, k, dialect=self.dialect, trigram_index=self.trigram_index))
        cand = select(reads.c.id, reads.c.normalized, reads.c.time).where(where(conds))  # type: ignore[arg-type]
        with self._reading() as conn:
            rows = conn.execute(cand.limit(MAX_FUZZY_CANDIDATES + 1)).all()
            if len(rows) > MAX_FUZZY_CANDIDATES:
                raise InvalidInput(
                    f"fuzzy search for {q.pattern!r} within {q.fuzzy:g} has over {MAX_FUZZY_CANDIDATES} candidates; "
                    "narrow it with since/until/source/min_confidence or a smaller distance"
                )
            hits = []
            for rid, norm, t in rows:
                d = fz.bounded_distance(q.pattern, norm, q.fuzzy)
                if d is not None:
                    hits.append((d, -t.timestamp(), -rid))
            hits.sort()
            if q.limit is not None:
                hits = hits[: q.limit]
            dist = {-rid: d for d, _, rid in hits}
            full = conn.execute(select(reads).where(reads.c.id.in_(list(dist)))).mappings().all() if dist else []
        by_id = {int(r["id"]): r for r in full}
        return [row_to_stored(by_id[i], distance=d) for i, d in dist.items() if i in by_id]

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection for one query, time-boxed to ``query_timeout``; errors become platewise errors."""
        timeout = self.query_timeout
        try:
            with self.engine.connect() as conn, conn.begin():
                raw = conn.connection.driver_connection
                if self.dialect == "postgresql":
                    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
                    yield conn
                    return
                assert isinstance(raw, sqlite3.Connection)
                end = time.monotonic() + timeout
                raw.set_progress_handler(lambda: int(time.monotonic() > end), 10_000)
                try:
                    with regexp.deadline(timeout):
                        yield conn
                finally:
                    raw.set_progress_handler(None, 0)
        except DBAPIError as e:
            raise _query_error(e, timeout) from e
        except SQLAlchemyError as e:
            raise StoreError(f"query on {describe_url(self.url)} failed: {_reason(e)}") from e

    # -- stats -----------------------------------------------------------------------------------------

    def stats(self, top_sources: int = 20) -> StoreStats:
        """Counts, time range, reads per source (the ``top_sources`` biggest) and size on disk."""
        c = reads.c
        with self._reading() as conn:
            n, first, last, n_crop = conn.execute(
                select(func.count(), func.min(c.time), func.max(c.time), func.count(crops.c.read_id)).select_from(
                    reads.outerjoin(crops, crops.c.read_id == c.id)
                )
            ).one()
            distinct = conn.execute(select(func.count(func.distinct(c.normalized)))).scalar_one()
            per_source = conn.execute(
                select(c.source, func.count()).group_by(c.source).order_by(func.count().desc()).limit(top_sources)
            ).all()
            size = self._size(conn)
        return StoreStats(
            url=describe_url(self.url),
            backend=self.dialect,
            schema_version=int(self.meta.get("schema_version", 0)),
            trigram_index=self.trigram_index,
            reads=int(n),
            distinct_plates=int(distinct),
            with_crop=int(n_crop),
            first_time=first,
            last_time=last,
            sources=tuple((str(s), int(k)) for s, k in per_source),
            size_bytes=size,
        )

    def _size(self, conn: Connection) -> int | None:
        if self.dialect == "postgresql":
            total = 0
            for table in ("plate_reads", "read_crops"):
                total += int(conn.exec_driver_sql(f"SELECT pg_total_relation_size('{table}')").scalar() or 0)
            return total
        db = self.url.database
        if not db or db == ":memory:":
            return None
        return sum(Path(db + s).stat().st_size for s in ("", "-wal") if Path(db + s).exists())


def _sqlite_time(t: dt.datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (always with microseconds, so text order = time order)."""
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _reason(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def _query_error(e: DBAPIError, timeout: float) -> Exception:
    msg = _reason(e)
    if regexp.timed_out() or isinstance(e.orig, regexp.RegexTimeoutError):
        return InvalidInput(
            f"the regular expression ran past {timeout:g} s; simplify it (nested repeats such as (A|AA)+ "
            "backtrack exponentially)"
        )
    low = msg.lower()
    if "interrupted" in low or "statement timeout" in low or "canceling statement" in low:
        return InvalidInput(f"the search ran past {timeout:g} s; narrow it with since/until/source or a pattern")
    if "regular expression" in low or "invalid regular" in low:
        return InvalidInput(f"the database rejected the regular expression: {msg}")
    return StoreError(f"search failed: {msg}")
