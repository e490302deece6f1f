"""Database URLs, the default per-user SQLite file, and engines tuned per dialect.

``url`` may be a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://user@host/db``), a plain file
path (a SQLite file), or None: ``$PLATEWISE_DB`` (a URL or a path) or else
``$XDG_DATA_HOME/platewise/reads.sqlite3`` (``~/.local/share/platewise/reads.sqlite3``).
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from platewise.errors import InvalidInput, StoreError
from platewise.store import regexp

__all__ = ["default_db_path", "describe_url", "make_store_engine", "resolve_url"]

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def default_db_path() -> Path:
    """The per-user SQLite file used when no URL is given and ``$PLATEWISE_DB`` is unset."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "platewise" / "reads.sqlite3"


def resolve_url(url: str | None = None) -> URL:
    """Turns ``url`` (a URL, a path or None) into a SQLAlchemy URL.

    Raises:
        InvalidInput: an unparsable URL or an unsupported database.
    """
    if url is None or url == "":
        url = os.environ.get("PLATEWISE_DB") or str(default_db_path())
    if url == ":memory:" or url.rstrip("/") in ("sqlite:", "sqlite:///:memory:"):
        raise InvalidInput("an in-memory SQLite database is not shared between connections; give a file path")
    if "://" not in url:
        path = Path(url).expanduser()
        return URL.create("sqlite", database=str(path))
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as e:
        raise InvalidInput(f"cannot parse database URL {url!r}: {e}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql"):
        raise InvalidInput(f"unsupported database {backend!r}; use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
    return parsed


def describe_url(url: URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    return url.render_as_string(hide_password=True)


def make_store_engine(url: URL, *, schema: str | None = None, connect_timeout: float = 5.0) -> Engine:
    """An engine for the reads store.

    SQLite: WAL journal, ``synchronous=NORMAL``, a 64 MB page cache, foreign keys on, and the ``REGEXP``
    function registered (time-boxed, see :mod:`platewise.store.regexp`). The file's folder is created.
    PostgreSQL: pre-ping pooled connections (a restarted server is noticed), a connect timeout, and
    ``search_path`` set to ``schema, public`` when ``schema`` is given (tests and benchmarks use one schema
    each).

    Raises:
        InvalidInput: a bad schema name, or ``schema`` with SQLite.
    """
    backend = url.get_backend_name()
    if schema is not None and (backend != "postgresql" or not _SCHEMA_RE.match(schema)):
        raise InvalidInput(f"schema {schema!r}: only for PostgreSQL, lower-case letters, digits and _")
    if backend == "sqlite":
        return _sqlite_engine(url, connect_timeout)
    connect_args: dict[str, Any] = {"connect_timeout": max(1, int(connect_timeout))}
    if schema:
        connect_args["options"] = f"-c search_path={schema},public"
    return create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4, connect_args=connect_args)


def _sqlite_engine(url: URL, busy_timeout: float) -> Engine:
    db = url.database or ""
    if db and db != ":memory:" and not db.startswith("file:"):
        try:
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the folder for {db}: {e}") from None
    engine = create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event below emits BEGIN, so DDL is transactional
        dbapi_conn.create_function("regexp", 2, regexp.sqlite_regexp, deterministic=True)
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers ask for BEGIN IMMEDIATE (take the write lock up front: no upgrade deadlock between writers).
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine
