"""Tables of the reads store and their versioned migrations.

Schema versions (``platewise_meta.schema_version``):

    1  plate_reads (one row per read), read_crops (optional JPEG per read), platewise_meta; B-tree indexes on
       time, (source, time) and (normalized text, time) (binary collation, so ``LIKE 'AB%'`` is an index
       range whose newest rows are found without reading the table).
    2  a trigram index on the confusion-folded text, for fuzzy search and infix LIKE:
       SQLite: a contentless FTS5 ``trigram`` table ``reads_fts``; :meth:`ReadStore.add` fills it with one
       ``INSERT .. SELECT`` per batch (6x faster than a per-row trigger in a micro-benchmark), a trigger
       removes deleted rows;
       PostgreSQL: ``pg_trgm`` GIN index (falls back to no index, with a warning, when the extension cannot
       be created; fuzzy search still works, by a scan in SQL).

:func:`migrate` brings any older database to :data:`SCHEMA_VERSION` in one transaction and refuses a
database written by a newer platewise.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator

from platewise.errors import StoreError

__all__ = ["SCHEMA_VERSION", "crops", "meta", "metadata", "migrate", "reads", "schema_version"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
MAX_TEXT_LEN = 32
MAX_SOURCE_LEN = 200


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (``timestamptz`` on PostgreSQL, ISO text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give an aware UTC datetime, e.g. datetime.now(timezone.utc)")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


_ID = BigInteger().with_variant(Integer(), "sqlite")
_BINARY_TEXT = String(MAX_TEXT_LEN).with_variant(String(MAX_TEXT_LEN, collation="C"), "postgresql")

metadata = MetaData()

reads = Table(
    "plate_reads",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("time", UTCDateTime(), nullable=False),
    Column("source", String(MAX_SOURCE_LEN), nullable=False),
    Column("text", String(MAX_TEXT_LEN), nullable=False),
    Column("normalized", _BINARY_TEXT, nullable=False),
    Column("folded", String(MAX_TEXT_LEN), nullable=False),
    Column("length", SmallInteger, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("char_confidences", Text, nullable=False),
    Column("candidates", Text, nullable=True),
    Column("region", String(16), nullable=True),
    Column("box_x1", Float, nullable=False),
    Column("box_y1", Float, nullable=False),
    Column("box_x2", Float, nullable=False),
    Column("box_y2", Float, nullable=False),
    Column("corners", Text, nullable=False),
    Column("detection_score", Float, nullable=False),
    Column("image_path", Text, nullable=True),
    Column("has_crop", Boolean, nullable=False),
    Index("ix_plate_reads_time", "time"),
    Index("ix_plate_reads_source_time", "source", "time"),
    Index("ix_plate_reads_normalized_time", "normalized", "time"),  # covers LIKE 'AB%' ORDER BY time
)

crops = Table(
    "read_crops",
    metadata,
    Column("read_id", _ID, ForeignKey("plate_reads.id", ondelete="CASCADE"), primary_key=True),
    Column("jpeg", LargeBinary, nullable=False),
)

meta = Table(
    "platewise_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)


def _v1(conn: Connection) -> None:
    metadata.create_all(conn)


_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE reads_fts USING fts5(folded, content='', tokenize='trigram', detail='none', columnsize=0)",
    "CREATE TRIGGER plate_reads_fts_del AFTER DELETE ON plate_reads BEGIN "
    "INSERT INTO reads_fts(reads_fts, rowid, folded) VALUES ('delete', old.id, old.folded); END",
    "INSERT INTO reads_fts(rowid, folded) SELECT id, folded FROM plate_reads",
)


def _v2(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for stmt in _SQLITE_FTS:
            conn.exec_driver_sql(stmt)
        _set(conn, "trigram_index", "fts5")
        return
    kind = "pg_trgm"
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
            conn.exec_driver_sql(
                "CREATE INDEX ix_plate_reads_folded_trgm ON plate_reads USING gin (folded gin_trgm_ops)"
            )
    except DBAPIError as e:
        log.warning("pg_trgm is not available (%s); fuzzy search and infix LIKE will scan the table", e.orig)
        kind = "none"
    _set(conn, "trigram_index", kind)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1, 2: _v2}


def _set(conn: Connection, key: str, value: str) -> None:
    conn.execute(meta.delete().where(meta.c.key == key))
    conn.execute(meta.insert().values(key=key, value=value))


def _get(conn: Connection, key: str) -> str | None:
    if not conn.dialect.has_table(conn, "platewise_meta"):
        return None
    return conn.execute(meta.select().with_only_columns(meta.c.value).where(meta.c.key == key)).scalar()


def schema_version(conn: Connection) -> int:
    """The schema version of the database behind ``conn`` (0 for an empty database)."""
    value = _get(conn, "schema_version")
    return int(value) if value is not None else 0


def migrate(engine: Engine, *, schema: str | None = None, target: int = SCHEMA_VERSION) -> dict[str, Any]:
    """Creates or upgrades the schema to ``target``; returns the database's meta values.

    Raises:
        StoreError: the database is newer than this platewise, or a migration failed.
    """
    with engine.connect().execution_options(sqlite_begin="BEGIN IMMEDIATE") as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7140312)")  # one migrator at a time
            if schema:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the reads database has schema version {current}, newer than this platewise supports "
                f"({SCHEMA_VERSION}); upgrade platewise"
            )
        for version in range(current + 1, target + 1):
            log.info("migrating the reads store to schema version %d", version)
            MIGRATIONS[version](conn)
            _set(conn, "schema_version", str(version))
        rows = conn.execute(meta.select()).all()
    return {k: v for k, v in rows}
