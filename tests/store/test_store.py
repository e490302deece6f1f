"""ReadStore on SQLite and PostgreSQL: writing, LIKE / regex / fuzzy search, filters, stats, prune."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from store_helpers import NOW, make_read, rec, texts

from platewise.errors import InvalidInput
from platewise.store import ReadRecord, ReadStore, open_store

H = dt.timedelta(hours=1)


@pytest.fixture
def filled(store: ReadStore) -> ReadStore:
    store.add(
        [
            rec("7ABC123", ago=1 * H),
            rec("7A8C123", ago=2 * H, confidence=0.6),  # 8 misread for B
            rec("7ABC124", ago=3 * H),
            rec("AB12CD", ago=4 * H, source="cam-2"),
            rec("XAB999", ago=30 * H, source="cam-2", confidence=0.99),
            rec("ZZ1234", ago=50 * H),
            rec("京A12345", ago=5 * H, source="cam-3"),
        ]
    )
    return store


def test_add_then_get_round_trips_every_field(store: ReadStore) -> None:
    r = rec("7ABC123", crop=b"\xff\xd8jpeg", image_path="/img/1.jpg")
    assert store.add([r]) == 1
    (hit,) = store.search("7ABC123")
    got = store.get(hit.id)
    assert got is not None
    assert got.time == NOW
    assert got.time.tzinfo is not None
    assert (got.source, got.text, got.normalized, got.region) == ("cam-1", "7ABC123", "7ABC123", "us")
    assert got.confidence == pytest.approx(0.9)
    assert got.char_confidences == pytest.approx((0.95,) * 7)
    assert got.box == r.read.box
    assert got.corners == r.read.corners
    assert got.detection_score == pytest.approx(0.8)
    assert got.image_path == "/img/1.jpg"
    assert got.has_crop
    assert store.get_crop(got.id) == b"\xff\xd8jpeg"
    assert got.to_plate_read() == r.read
    assert store.get(10**9) is None


def test_add_stores_times_in_utc_whatever_the_offset(store: ReadStore) -> None:
    t = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    store.add([ReadRecord(time=t, source="s", read=make_read("AB123"))])
    (got,) = store.search("AB123")
    assert got.time == dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.timezone.utc)


def test_read_record_refuses_naive_times_and_bad_strings() -> None:
    with pytest.raises(InvalidInput, match="aware"):
        ReadRecord(time=dt.datetime(2026, 1, 1), source="s", read=make_read("AB1"))
    with pytest.raises(InvalidInput, match="NUL"):
        ReadRecord(time=NOW, source="cam\x00", read=make_read("AB1"))
    with pytest.raises(InvalidInput, match="source"):
        ReadRecord(time=NOW, source="x" * 500, read=make_read("AB1"))


def test_search_returns_newest_first_and_respects_limit(filled: ReadStore) -> None:
    assert texts(filled.search(limit=3)) == ["7ABC123", "7A8C123", "7ABC124"]
    assert len(filled.search(limit=None)) == 7


def test_search_pattern_percent_matches_any_run(filled: ReadStore) -> None:
    assert texts(filled.search("7A%")) == ["7ABC123", "7A8C123", "7ABC124"]
    assert texts(filled.search("%12%")) == ["7ABC123", "7A8C123", "7ABC124", "AB12CD", "京A12345", "ZZ1234"]
    assert texts(filled.search("%99")) == ["XAB999"]


def test_search_pattern_underscore_matches_one_char(filled: ReadStore) -> None:
    assert texts(filled.search("7A_C12_")) == ["7ABC123", "7A8C123", "7ABC124"]
    assert filled.search("7A_C12") == []


def test_search_pattern_accepts_globs_and_ignores_case_and_separators(filled: ReadStore) -> None:
    assert texts(filled.search("7a?c-12*")) == ["7ABC123", "7A8C123", "7ABC124"]
    assert texts(filled.search("ab 12 cd")) == ["AB12CD"]


def test_search_infix_with_a_trigram_literal_uses_the_index_and_stays_exact(filled: ReadStore) -> None:
    # "BC12" folds to "8C12" in the trigram index, which also holds 7A8C123: the LIKE check must drop it.
    assert texts(filled.search("%BC12%")) == ["7ABC123", "7ABC124"]
    assert texts(filled.search("%AB%9%")) == ["XAB999"]


def test_search_handles_non_latin_plates(filled: ReadStore) -> None:
    assert texts(filled.search("京%")) == ["京A12345"]
    assert texts(filled.search("京A12345", fuzzy=1)) == ["京A12345"]


def test_search_filters_by_time_source_and_confidence(filled: ReadStore) -> None:
    assert texts(filled.search(since="150m")) == ["7ABC123", "7A8C123"]
    assert texts(filled.search(since=NOW - 6 * H, until=NOW - 2 * H)) == ["7ABC124", "AB12CD", "京A12345"]
    assert texts(filled.search(source="cam-2")) == ["AB12CD", "XAB999"]
    assert texts(filled.search("%12%", min_confidence=0.7, source="cam-1")) == ["7ABC123", "7ABC124", "ZZ1234"]


def test_search_regex_searches_normalized_text_case_insensitively(filled: ReadStore) -> None:
    assert texts(filled.search("^7a.c12[34]$", regex=True)) == ["7ABC123", "7A8C123", "7ABC124"]
    assert texts(filled.search("99", regex=True)) == ["XAB999"]
    assert texts(filled.search(r"^[A-Z]{2}\d{2}", regex=True)) == ["AB12CD", "ZZ1234"]


def test_search_regex_with_a_required_literal_uses_the_trigram_index_and_stays_exact(filled: ReadStore) -> None:
    assert texts(filled.search("C12[34]$", regex=True)) == ["7ABC123", "7A8C123", "7ABC124"]
    assert texts(filled.search("BC12", regex=True)) == ["7ABC123", "7ABC124"]  # 7A8C123 folds alike: excluded


def test_search_catastrophic_regex_is_time_boxed(db_url: str) -> None:
    s = open_store(db_url, query_timeout=0.5)
    try:
        s.add([rec("A" * 30 + "X") for _ in range(50)])
        t0 = time.monotonic()
        if s.dialect == "sqlite":  # the Python REGEXP stops at the deadline
            with pytest.raises(InvalidInput, match="ran past"):
                s.search("(A|AA)+B", regex=True)
        else:  # PostgreSQL's regex automaton has no exponential backtracking: it just answers
            assert s.search("(A|AA)+B", regex=True) == []
        assert time.monotonic() - t0 < 30  # generous: a hang would be the failure
    finally:
        s.close()


def test_search_fuzzy_finds_ocr_confusions_closest_first(filled: ReadStore) -> None:
    rows = filled.search("7ABC123", fuzzy=1)
    assert [(r.text, r.distance) for r in rows] == [("7ABC123", 0.0), ("7A8C123", 0.5), ("7ABC124", 1.0)]


def test_search_fuzzy_half_accepts_only_confusable_substitutions(filled: ReadStore) -> None:
    assert texts(filled.search("7ABC123", fuzzy=0.5)) == ["7ABC123", "7A8C123"]
    assert texts(filled.search("7A8C123", fuzzy=0)) == ["7A8C123"]


def test_search_fuzzy_with_short_pieces_falls_back_to_a_sql_scan(filled: ReadStore) -> None:
    # 6 characters and K=2: pieces of 2 characters, too short for the trigram index.
    assert texts(filled.search("AB12CO", fuzzy=2)) == ["AB12CD"]
    assert texts(filled.search("XAB99", fuzzy=1, source="cam-2")) == ["XAB999"]


def test_search_fuzzy_combines_with_filters(filled: ReadStore) -> None:
    assert texts(filled.search("7ABC123", fuzzy=1, min_confidence=0.7)) == ["7ABC123", "7ABC124"]
    assert texts(filled.search("7ABC123", fuzzy=1, limit=1)) == ["7ABC123"]


@pytest.mark.parametrize(
    "source", ["cam'; DROP TABLE plate_reads; --", 'x" OR "1"="1', "%", "cam-1' OR '1'='1", "robert');--"]
)
def test_search_binds_hostile_sources_as_data(filled: ReadStore, source: str) -> None:
    assert filled.search(source=source) == []
    filled.add([rec("HOST1LE", source=source)])
    assert texts(filled.search(source=source)) == ["HOST1LE"]
    assert len(filled.search(limit=None)) == 8


def test_search_refuses_hostile_patterns_and_keeps_the_table(filled: ReadStore) -> None:
    for bad in ["'; DROP TABLE plate_reads; --", "A" * 10_000, "\udcff\udcfe", "AB\x00"]:
        with pytest.raises(InvalidInput):
            filled.search(bad)
    with pytest.raises(InvalidInput):
        filled.search("x" * 10_000, regex=True)
    assert len(filled.search(limit=None)) == 7


def test_search_df_has_one_row_per_read_and_utc_times(filled: ReadStore) -> None:
    df = filled.search_df("7A%")
    assert list(df["text"]) == ["7ABC123", "7A8C123", "7ABC124"]
    assert str(df["time"].dt.tz) == "UTC"
    mask = df["text"].str.contains("8") & (df["confidence"] < 0.7)
    assert list(df[mask]["text"]) == ["7A8C123"]


def test_stats_count_reads_sources_and_time_range(filled: ReadStore) -> None:
    filled.add([rec("7ABC123", crop=b"j")])
    s = filled.stats()
    assert (s.reads, s.distinct_plates, s.with_crop) == (8, 7, 1)
    assert s.first_time == NOW - 50 * H
    assert s.last_time == NOW
    assert dict(s.sources) == {"cam-1": 5, "cam-2": 2, "cam-3": 1}
    assert s.schema_version == 2
    assert s.trigram_index in ("fts5", "pg_trgm")
    assert s.to_dict()["sources"][0] == {"source": "cam-1", "reads": 5}


def test_prune_deletes_old_reads_their_crops_and_index_entries(filled: ReadStore) -> None:
    filled.add([rec("OLD0001", ago=dt.timedelta(days=40), crop=b"j")])
    old_id = filled.search("OLD0001")[0].id
    assert filled.prune(dt.timedelta(days=1)) == 3
    assert texts(filled.search(limit=None)) == ["7ABC123", "7A8C123", "7ABC124", "AB12CD", "京A12345"]
    assert filled.get_crop(old_id) is None
    assert filled.search("OLD0001", fuzzy=1) == []
    assert filled.search("%AB9%") == []
    with pytest.raises(InvalidInput):
        filled.prune(dt.timedelta(0))


def test_search_stops_a_scan_that_runs_past_query_timeout(db_url: str) -> None:
    s = open_store(db_url, query_timeout=0.001)
    try:
        s.add([rec(f"{i:07d}") for i in range(20_000)])

        def search_a_few_times() -> None:  # one run could, in principle, finish inside 1 ms on a fast machine
            for _ in range(20):
                s.search("(1|2|3|4)+.*(5|6|7)+.*[0-9]{2}X", regex=True)

        with pytest.raises(InvalidInput, match="ran past"):
            search_a_few_times()
    finally:
        s.close()
