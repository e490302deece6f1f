"""Search patterns to SQL: LIKE with ``%``/``_`` (and ``*``/``?`` globs), REGEXP, fuzzy; the HTTP helper.

Every value reaches the database as a bound parameter; patterns are also validated character by character
(letters and digits of the plate alphabet, wildcards, separators), so quotes, semicolons, control characters
and over-long input are refused with a clear :class:`~platewise.errors.InvalidInput`.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, literal_column, select, text

from platewise.errors import InvalidInput
from platewise.plates import fold_confusions
from platewise.plates.alphabet import ALPHABET
from platewise.store import regexp
from platewise.store.fuzzy import fts_match
from platewise.store.schema import MAX_SOURCE_LEN, reads
from platewise.store.timeparse import parse_time

if TYPE_CHECKING:  # pragma: no cover
    from platewise.store.store import ReadStore

__all__ = ["MAX_FUZZY", "MAX_LIMIT", "SearchQuery", "build_query", "like_pattern", "search_from_query"]

MAX_PATTERN_LEN = 64
MAX_FUZZY = 3.0
MAX_LIMIT = 10_000_000
HTTP_MAX_LIMIT = 1000
SEPARATORS = frozenset(" \t-.·/|:,")
_KEEP = frozenset(ALPHABET)


def like_pattern(pattern: str) -> str:
    """The SQL LIKE pattern over normalized plate text for a user pattern.

    Upper-cased (NFKC, so full-width forms fold too); ``*`` becomes ``%``, ``?`` becomes ``_``; separators
    (space - . · / | : ,) are dropped; runs of ``%`` collapse.

    >>> like_pattern("ab-12*")
    'AB12%'

    Raises:
        InvalidInput: an empty or over-long pattern, or a character that is neither a plate character,
            a wildcard nor a separator.
    """
    if not isinstance(pattern, str) or len(pattern) > 4 * MAX_PATTERN_LEN:
        raise InvalidInput(f"pattern longer than {MAX_PATTERN_LEN} characters")
    _check_utf8("pattern", pattern)
    out: list[str] = []
    for c in unicodedata.normalize("NFKC", pattern).upper():
        if c in _KEEP:
            out.append(c)
        elif c in "*%":
            if not out or out[-1] != "%":
                out.append("%")
        elif c in "?_":
            out.append("_")
        elif c not in SEPARATORS:
            raise InvalidInput(
                f"pattern {pattern[:40]!r}: character {c!r} is not allowed; use letters, digits, "
                "wildcards % _ * ? and separators (space - . /)"
            )
    if not out:
        raise InvalidInput(f"pattern {pattern!r} has no plate characters or wildcards")
    if len(out) > MAX_PATTERN_LEN:
        raise InvalidInput(f"pattern longer than {MAX_PATTERN_LEN} characters")
    return "".join(out)


def _check_utf8(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name} is not valid UTF-8") from None


@dataclass(frozen=True)
class SearchQuery:
    """A validated search. ``pattern`` is a LIKE pattern over normalized text, a regex, or a plain plate
    (for ``fuzzy``), as the flags say; None matches every read."""

    pattern: str | None = None
    regex: bool = False
    fuzzy: float | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    source: str | None = None
    min_confidence: float | None = None
    limit: int | None = 100


def build_query(
    pattern: str | None = None,
    *,
    regex: bool = False,
    fuzzy: float | None = None,
    since: str | dt.datetime | None = None,
    until: str | dt.datetime | None = None,
    source: str | None = None,
    min_confidence: float | None = None,
    limit: int | None = 100,
) -> SearchQuery:
    """Validates search arguments (see :meth:`ReadStore.search`).

    Raises:
        InvalidInput: conflicting options, a bad pattern, time, number or source.
    """
    if regex and fuzzy is not None:
        raise InvalidInput("--regex and --fuzzy do not combine; pick one")
    if pattern is not None and not isinstance(pattern, str):
        raise InvalidInput(f"pattern must be a str, not {type(pattern).__name__}")
    if pattern == "":
        pattern = None
    if regex:
        if pattern is None:
            raise InvalidInput("--regex needs a pattern")
        regexp.compile_regex(pattern)
    elif fuzzy is not None:
        if isinstance(fuzzy, bool) or not isinstance(fuzzy, (int, float)) or not 0 <= fuzzy <= MAX_FUZZY:
            raise InvalidInput(f"fuzzy distance must be a number from 0 to {MAX_FUZZY:g}, got {fuzzy!r}")
        if pattern is None:
            raise InvalidInput("--fuzzy needs a plate to compare with")
        pattern = like_pattern(pattern)
        if "%" in pattern or "_" in pattern:
            raise InvalidInput("--fuzzy compares with one plate: give it without wildcards")
        fuzzy = float(fuzzy)
    elif pattern is not None:
        pattern = like_pattern(pattern)
    t0 = parse_time(since) if since is not None else None
    t1 = parse_time(until) if until is not None else None
    if t0 is not None and t1 is not None and t0 >= t1:
        raise InvalidInput(f"--since ({t0.isoformat()}) must be before --until ({t1.isoformat()})")
    if source is not None:
        if not isinstance(source, str) or len(source) > MAX_SOURCE_LEN or "\x00" in source:
            raise InvalidInput(f"source must be a string of at most {MAX_SOURCE_LEN} characters, without NUL")
        _check_utf8("source", source)
    if min_confidence is not None and (
        isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)) or not 0 <= min_confidence <= 1
    ):
        raise InvalidInput(f"min confidence must be a number from 0 to 1, got {min_confidence!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT):
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    return SearchQuery(pattern, regex, fuzzy, t0, t1, source, min_confidence, limit)


def filter_conditions(q: SearchQuery, *, dialect: str, trigram_index: str) -> list[ColumnElement[bool]]:
    """WHERE conditions for everything but the fuzzy part of ``q``."""
    c = reads.c
    conds: list[ColumnElement[bool]] = []
    if q.since is not None:
        conds.append(c.time >= q.since)
    if q.until is not None:
        conds.append(c.time < q.until)
    if q.source is not None:
        conds.append(c.source == q.source)
    if q.min_confidence is not None:
        conds.append(c.confidence >= q.min_confidence)
    if q.pattern is None or q.fuzzy is not None:
        return conds
    if q.regex:
        prefix = regexp.literal_prefix(q.pattern)
        if prefix:  # '^AB...' -> an index range first, the regex on what is left
            conds += _prefix_range(prefix)
        elif runs := regexp.required_runs(q.pattern):  # 'Q9Z$' -> rows holding Q9Z, from the trigram index
            conds += _trigram_conditions(runs, dialect=dialect, trigram_index=trigram_index)
        conds.append(c.normalized.op("REGEXP" if dialect == "sqlite" else "~*")(q.pattern))
        return conds
    p = q.pattern
    if "%" not in p and "_" not in p:
        conds.append(c.normalized == p)
        return conds
    prefix = p[: min(i for i in (p.find("%"), p.find("_"), len(p)) if i >= 0)]
    if prefix:
        conds += _prefix_range(prefix)
    if "%" not in p:
        conds.append(c.length == len(p))
    conds.append(c.normalized.like(p))
    runs = [r for r in p.replace("_", "%").split("%") if len(r) >= 3]
    if not prefix and runs:  # infix with a 3+ character literal: ask the trigram index first
        if dialect == "postgresql" and trigram_index == "pg_trgm":
            conds.append(c.folded.like(fold_confusions(p)))
        else:
            conds += _trigram_conditions(runs, dialect=dialect, trigram_index=trigram_index)
    return conds


def _trigram_conditions(runs: list[str], *, dialect: str, trigram_index: str) -> list[ColumnElement[bool]]:
    """Rows whose folded text holds every run, answered by the trigram index (nothing without one)."""
    folded = [fold_confusions(r) for r in runs]
    if dialect == "sqlite" and trigram_index == "fts5":
        match = text("reads_fts MATCH :lk").bindparams(lk=fts_match(folded, any_of=False))
        fts: Select[Any] = select(literal_column("rowid")).select_from(text("reads_fts")).where(match)
        return [reads.c.id.in_(fts)]
    if dialect == "postgresql" and trigram_index == "pg_trgm":
        return [reads.c.folded.like(f"%{r}%") for r in folded]
    return []


def _prefix_range(prefix: str) -> list[ColumnElement[bool]]:
    """An index range for "starts with": 'AB' -> normalized >= 'AB' AND normalized < 'AC' (binary order)."""
    c = reads.c
    return [c.normalized >= prefix, c.normalized < prefix[:-1] + chr(ord(prefix[-1]) + 1)]


def where(conds: list[ColumnElement[bool]]) -> ColumnElement[bool] | None:
    return and_(*conds) if conds else None


_HTTP_PARAMS = ("pattern", "regex", "fuzzy", "since", "until", "source", "min_confidence", "limit")


def _float_param(name: str, value: str) -> float:
    try:
        out = float(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, got {value[:32]!r}") from None
    if not math.isfinite(out):
        raise InvalidInput(f"{name} must be a finite number")
    return out


def search_from_query(store: ReadStore, query_params: Mapping[str, str]) -> list[dict[str, Any]]:
    """Runs a search from HTTP query parameters; returns JSON-ready dicts (newest first, or closest first).

    Parameters: ``pattern``, ``regex`` (true/false/1/0), ``fuzzy`` (number), ``since``, ``until``,
    ``source``, ``min_confidence``, ``limit`` (1..1000, default 100); the same meaning as the CLI flags.

    Raises:
        InvalidInput: an unknown parameter or a bad value (map it to HTTP 400).
    """
    unknown = sorted(set(query_params) - set(_HTTP_PARAMS))
    if unknown:
        raise InvalidInput(f"unknown query parameter(s) {', '.join(unknown)}; known: {', '.join(_HTTP_PARAMS)}")
    p = dict(query_params)
    regex_flag = p.get("regex", "false").strip().lower()
    if regex_flag not in ("true", "false", "1", "0", "yes", "no", ""):
        raise InvalidInput(f"regex must be true or false, got {regex_flag[:16]!r}")
    limit_s = p.get("limit", "100")
    if not limit_s.isdigit() or not 1 <= int(limit_s) <= HTTP_MAX_LIMIT:
        raise InvalidInput(f"limit must be an integer from 1 to {HTTP_MAX_LIMIT}, got {limit_s[:16]!r}")
    rows = store.search(
        p.get("pattern") or None,
        regex=regex_flag in ("true", "1", "yes"),
        fuzzy=_float_param("fuzzy", p["fuzzy"]) if p.get("fuzzy") else None,
        since=p.get("since") or None,
        until=p.get("until") or None,
        source=p.get("source") or None,
        min_confidence=_float_param("min_confidence", p["min_confidence"]) if p.get("min_confidence") else None,
        limit=int(limit_s),
    )
    return [r.to_dict() for r in rows]
