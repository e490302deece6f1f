"""Pattern and argument validation (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from platewise.errors import InvalidInput
from platewise.store.search import build_query, like_pattern
from platewise.store.timeparse import parse_duration, parse_time

NOW = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("AB%", "AB%"),
        ("ab*", "AB%"),
        ("a?c", "A_C"),
        ("ab-12 3.c", "AB123C"),
        ("%%12**", "%12%"),
        ("ＡＢ１２", "AB12"),  # full-width forms fold (NFKC)
        ("京a*", "京A%"),
    ],
)
def test_like_pattern_maps_globs_case_and_separators(pattern: str, expected: str) -> None:
    assert like_pattern(pattern) == expected


@pytest.mark.parametrize(
    "hostile",
    ["'; DROP TABLE plate_reads; --", 'AB"12', "AB;12", "AB\\%", "AB\x0012", "AB(12)", "a" * 300, "\udcff12"],
)
def test_like_pattern_refuses_hostile_input_with_a_clear_error(hostile: str) -> None:
    with pytest.raises(InvalidInput, match="pattern"):
        like_pattern(hostile)


def test_like_pattern_refuses_a_pattern_of_separators_only() -> None:
    with pytest.raises(InvalidInput, match="no plate characters"):
        like_pattern(" - . ")


def test_build_query_refuses_regex_with_fuzzy() -> None:
    with pytest.raises(InvalidInput, match="do not combine"):
        build_query("AB", regex=True, fuzzy=1)


@pytest.mark.parametrize("k", [-1, 3.5, float("nan"), True, "1"])
def test_build_query_refuses_bad_fuzzy_distances(k: object) -> None:
    with pytest.raises(InvalidInput, match="fuzzy"):
        build_query("7ABC123", fuzzy=k)  # type: ignore[arg-type]


def test_build_query_refuses_wildcards_with_fuzzy() -> None:
    with pytest.raises(InvalidInput, match="without wildcards"):
        build_query("7AB%", fuzzy=1)


@pytest.mark.parametrize("regex", ["(", "[a-", "a" * 300, "\udcff", "a\x00b", "(?P<x>a)(?P=y)"])
def test_build_query_refuses_invalid_regexes(regex: str) -> None:
    with pytest.raises(InvalidInput, match="regular expression"):
        build_query(regex, regex=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": 0},
        {"limit": -5},
        {"limit": 1.5},
        {"min_confidence": 1.5},
        {"source": "x" * 201},
        {"source": "cam\x00"},
        {"source": "\udcff"},
        {"since": "1h", "until": "2h"},
        {"since": "not a time"},
    ],
)
def test_build_query_refuses_bad_filters(kwargs: dict) -> None:
    with pytest.raises(InvalidInput):
        build_query(**kwargs)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", dt.timedelta(seconds=30)),
        ("15m", dt.timedelta(minutes=15)),
        ("1h30m", dt.timedelta(minutes=90)),
        ("2d", dt.timedelta(days=2)),
        ("1w", dt.timedelta(weeks=1)),
        ("1.5h", dt.timedelta(minutes=90)),
    ],
)
def test_parse_duration_reads_units_and_combinations(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "30x", "0d", "-1d", "1d; DROP", "9" * 80 + "d", "99999999w"])
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", NOW - dt.timedelta(hours=1)),
        ("2d ago", NOW - dt.timedelta(days=2)),
        ("-30m", NOW - dt.timedelta(minutes=30)),
        ("now", NOW),
        ("today", dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc)),
        ("yesterday", dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)),
        ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)),
        ("2026-11-01T10:00Z", dt.datetime(2026, 11, 1, 10, tzinfo=dt.timezone.utc)),
        ("2026-11-01 12:00:00+02:00", dt.datetime(2026, 11, 1, 10, tzinfo=dt.timezone.utc)),
    ],
)
def test_parse_time_reads_iso_relative_and_named_times_as_utc(text: str, expected: dt.datetime) -> None:
    assert parse_time(text, now=NOW) == expected


def test_parse_time_refuses_naive_datetimes_and_garbage() -> None:
    with pytest.raises(InvalidInput, match="naive"):
        parse_time(dt.datetime(2026, 1, 1))
    with pytest.raises(InvalidInput, match="cannot read time"):
        parse_time("last tuesday")


@pytest.mark.parametrize(
    ("regex", "prefix"),
    [("^ab[0-9]{3}", "AB"), ("^AB?C", "A"), ("^AB*", "A"), ("^AB{2}", "A"), ("^AB+", "AB"), ("^A|^B", ""),
     ("AB", ""), ("^(AB)", ""), ("^\\d", ""), ("^7AB\\d", "7AB")],
)  # fmt: skip
def test_regex_literal_prefix_is_conservative(regex: str, prefix: str) -> None:
    from platewise.store.regexp import literal_prefix

    assert literal_prefix(regex) == prefix


@pytest.mark.parametrize(
    ("regex", "runs"),
    [("Q9Z$", ["Q9Z"]), ("^A.B12c", ["B12C"]), ("AB1|CD2", []), ("(ABC)", []), ("AB?CDE", ["CDE"]),
     ("[A-Z]{3}123", ["123"]), ("ab", []), ("\\p{L}ABC", []), ("X-Y-Z", [])],
)  # fmt: skip
def test_regex_required_runs_are_necessary_literals_only(regex: str, runs: list[str]) -> None:
    from platewise.store.regexp import required_runs

    assert required_runs(regex) == runs
