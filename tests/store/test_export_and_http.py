"""Exports (DataFrame, CSV, JSON, Parquet) and the HTTP query helper."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from store_helpers import rec

from platewise.errors import InvalidInput
from platewise.store import ReadStore, search_from_query
from platewise.store.export import COLUMNS, to_csv, write


@pytest.fixture
def two(store: ReadStore) -> ReadStore:
    import datetime as dt

    store.add([rec("7ABC123"), rec("7A8C123", ago=dt.timedelta(hours=2), source="gate, north")])
    return store


def test_csv_export_has_a_header_and_iso_utc_times(two: ReadStore) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(two.search()))))
    assert [r["text"] for r in rows] == ["7ABC123", "7A8C123"]
    assert rows[1]["source"] == "gate, north"
    assert rows[0]["time"].endswith("Z")
    assert list(rows[0]) == list(COLUMNS)


def test_parquet_and_json_exports_round_trip(two: ReadStore, tmp_path: Path) -> None:
    rows = two.search()
    df = pd.read_parquet(write(rows, tmp_path / "r.parquet"))
    assert list(df["text"]) == ["7ABC123", "7A8C123"]
    assert str(df["time"].dt.tz) == "UTC"
    data = json.loads(write(rows, tmp_path / "r.json").read_text())
    assert [d["text"] for d in data] == ["7ABC123", "7A8C123"]
    with pytest.raises(InvalidInput, match="unknown export format"):
        write(rows, tmp_path / "r.xlsx")


def test_search_from_query_runs_the_same_search_as_the_cli(two: ReadStore) -> None:
    out = search_from_query(two, {"pattern": "7a?c*", "since": "1d", "limit": "10"})
    assert [d["text"] for d in out] == ["7ABC123", "7A8C123"]
    fuzzy = search_from_query(two, {"pattern": "7ABC123", "fuzzy": "0.5"})
    assert [(d["text"], d["distance"]) for d in fuzzy] == [("7ABC123", 0.0), ("7A8C123", 0.5)]
    assert [d["text"] for d in search_from_query(two, {"pattern": "^7A8", "regex": "true"})] == ["7A8C123"]
    assert json.dumps(out)  # JSON-ready


@pytest.mark.parametrize(
    "params",
    [
        {"pattern": "'; DROP TABLE plate_reads;--"},
        {"pattern": "7A", "evil": "1"},
        {"limit": "5000"},
        {"limit": "-1"},
        {"limit": "1e3"},
        {"fuzzy": "inf", "pattern": "7ABC123"},
        {"fuzzy": "one", "pattern": "7ABC123"},
        {"regex": "maybe", "pattern": "7A"},
        {"min_confidence": "nan"},
        {"since": "the dawn of time"},
        {"pattern": "(a|aa)+(", "regex": "1"},
        {"pattern": "\ufffd\ufffd"},
    ],
)
def test_search_from_query_refuses_bad_parameters(two: ReadStore, params: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        search_from_query(two, params)
