"""URLs, the default database file, and versioned migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from store_helpers import rec, texts

from platewise.errors import InvalidInput, StoreError
from platewise.store import open_store
from platewise.store.engine import default_db_path, make_store_engine, resolve_url
from platewise.store.schema import SCHEMA_VERSION, meta, migrate


def test_default_db_is_a_per_user_file_under_xdg_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PLATEWISE_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "platewise" / "reads.sqlite3"
    with open_store() as s:
        s.add([rec("AB123")])
    assert (tmp_path / "xdg" / "platewise" / "reads.sqlite3").is_file()


def test_platewise_db_env_var_picks_the_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLATEWISE_DB", str(tmp_path / "env.db"))
    assert resolve_url(None).database == str(tmp_path / "env.db")
    monkeypatch.setenv("PLATEWISE_DB", "sqlite:///" + str(tmp_path / "u.db"))
    assert resolve_url(None).database == str(tmp_path / "u.db")


def test_resolve_url_accepts_paths_and_postgres_and_refuses_others() -> None:
    assert resolve_url("reads.db").get_backend_name() == "sqlite"
    assert resolve_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(InvalidInput, match="unsupported"):
        resolve_url("mysql://u@h/db")
    with pytest.raises(InvalidInput, match="cannot parse"):
        resolve_url("postgresql://u@h:notaport/db")
    with pytest.raises(InvalidInput, match="in-memory"):
        resolve_url(":memory:")


def test_open_store_reports_an_unreachable_server_as_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open the reads store"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/x", connect_timeout=1)


def test_open_store_twice_is_idempotent(db_url: str) -> None:
    with open_store(db_url) as a:
        a.add([rec("AB123")])
    with open_store(db_url) as b:
        assert texts(b.search()) == ["AB123"]
        assert b.meta["schema_version"] == str(SCHEMA_VERSION)


def test_migration_from_v1_builds_and_backfills_the_trigram_index(db_url: str) -> None:
    engine = make_store_engine(resolve_url(db_url))
    migrate(engine, target=1)
    with engine.begin() as conn:  # a v1 database with rows written by an older platewise
        conn.execute(text("INSERT INTO plate_reads (time, source, text, normalized, folded, length, confidence, "
                          "char_confidences, box_x1, box_y1, box_x2, box_y2, corners, detection_score, has_crop) "
                          "VALUES ('2026-01-01 00:00:00.000000', 's', '7ABC123', '7ABC123', '7A8C123', 7, 0.9, '[]', "
                          "0, 0, 1, 1, '[[0,0],[1,0],[1,1],[0,1]]', 0.9, false)"))  # fmt: skip
    engine.dispose()
    with open_store(db_url) as s:
        assert s.meta["schema_version"] == "2"
        assert texts(s.search("7A8C123", fuzzy=1)) == ["7ABC123"]
        assert texts(s.search("%BC12%")) == ["7ABC123"]


def test_open_store_refuses_a_database_from_a_newer_platewise(db_url: str) -> None:
    with open_store(db_url) as s, s.engine.begin() as conn:
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value="99"))
    with pytest.raises(StoreError, match="newer than this platewise"):
        open_store(db_url)


def test_postgres_schema_argument_keeps_tables_in_that_schema(db_url: str) -> None:
    if "://" not in db_url:
        with pytest.raises(InvalidInput, match="only for PostgreSQL"):
            open_store(db_url, schema="x")
        return
    base = db_url.split("?")[0]
    schema = "pw_test_schema_arg_" + db_url.rsplit("pw_test_", 1)[1].split("%")[0]
    s = open_store(base, schema=schema)
    try:
        s.add([rec("AB123")])
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {schema}.plate_reads").scalar() == 1
    finally:
        with s.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        s.close()
    with pytest.raises(InvalidInput):
        open_store(base, schema="x; DROP TABLE y")
