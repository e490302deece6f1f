"""Helpers for the store tests: every store test runs on a real SQLite file and on the PostgreSQL at 127.0.0.1:5432.

PostgreSQL tests skip (with the reason) when no server answers; each test gets its own schema
``pw_test_<pid>_<random>`` (dropped afterwards), so tests, parallel sessions and the benchmark never collide.
Set ``PLATEWISE_TEST_PG_URL`` to use another server.
"""

from __future__ import annotations

import datetime as dt
import os

from platewise.store import ReadRecord
from platewise.types import BBox, Corners, Detection, PlateRead

PG_URL = os.environ.get("PLATEWISE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
_pg_state: dict[str, str | None] = {}


def pg_unreachable_reason() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per session)."""
    if "reason" not in _pg_state:
        import psycopg

        try:
            psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
            _pg_state["reason"] = None
        except psycopg.Error as e:
            _pg_state["reason"] = f"PostgreSQL not reachable at {PG_URL} ({str(e).strip()[:120]})"
    return _pg_state["reason"]


def pg_schema_url(schema: str, base: str = PG_URL) -> str:
    """A URL whose connections put ``schema`` first on the search_path (as a user would with --db)."""
    return f"{base}?options=-csearch_path%3D{schema}%2Cpublic"


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _create_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')


def make_read(text: str, confidence: float = 0.9, region: str | None = "us", score: float = 0.8) -> PlateRead:
    box = BBox(10.0, 20.0, 130.5, 60.25)
    return PlateRead(
        text=text,
        confidence=confidence,
        char_confidences=tuple(0.95 for _ in text),
        candidates=((text, confidence),),
        region=region,
        detection=Detection(box=box, corners=Corners.from_box(box), score=score),
    )


def rec(
    text: str,
    *,
    ago: dt.timedelta = dt.timedelta(0),
    source: str = "cam-1",
    confidence: float = 0.9,
    crop: bytes | None = None,
    image_path: str | None = None,
) -> ReadRecord:
    return ReadRecord(
        time=NOW - ago, source=source, read=make_read(text, confidence), image_path=image_path, crop_jpeg=crop
    )


def texts(rows) -> list[str]:
    return [r.text for r in rows]
