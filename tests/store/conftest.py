"""Fixtures of the store tests: ``db_url`` / ``store`` run each test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from store_helpers import _create_schema, _drop_schema, pg_schema_url, pg_unreachable_reason

from platewise.store import ReadStore, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL of an empty database: a temp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "reads.sqlite3")
        return
    reason = pg_unreachable_reason()
    if reason:
        pytest.skip(reason)
    schema = f"pw_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _create_schema(schema)
    try:
        yield pg_schema_url(schema)
    finally:
        _drop_schema(schema)


@pytest.fixture
def store(db_url: str) -> Iterator[ReadStore]:
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()
