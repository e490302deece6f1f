"""Fuzzy plate search: OCR-confusion-aware edit distance, prefiltered by a trigram index.

Why the prefilter is exact (no true match is lost): substitutions inside a confusion group (0/O/D/Q, 1/I/L,
2/Z, 5/S, 6/G, 8/B) cost 0.5 and every other edit 1, so a plate within weighted distance ``K`` of the query
is within plain Levenshtein distance ``k = floor(K)`` of it once both are *folded* (each confusion group
mapped to one character). Split the folded query into ``k + 1`` pieces: ``k`` edits can break at most ``k``
of them, so every match contains at least one piece verbatim, and its length is within ``k`` of the
query's. The database answers "folded text contains one of these pieces" from its trigram index (FTS5
trigram on SQLite, pg_trgm on PostgreSQL) when every piece has 3 or more characters; shorter pieces
(a large ``K`` for the plate's length) fall back to a ``LIKE`` scan done in SQL. Python then computes the
exact weighted distance on the candidates only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal_column, or_, select, text

from platewise.plates.normalize import CONFUSION_GROUPS
from platewise.store.schema import reads

__all__ = ["bounded_distance", "candidate_condition", "fts_match", "pieces"]

_GROUP = {c: i for i, group in enumerate(CONFUSION_GROUPS) for c in group}


def pieces(folded: str, k: int) -> list[str]:
    """``folded`` cut into ``k + 1`` contiguous pieces of near-equal length (longer ones first)."""
    n_pieces = min(k + 1, len(folded))
    base, extra = divmod(len(folded), n_pieces)
    out, start = [], 0
    for i in range(n_pieces):
        size = base + (1 if i < extra else 0)
        out.append(folded[start : start + size])
        start += size
    return out


def fts_match(runs: list[str], *, any_of: bool) -> str:
    """An FTS5 MATCH string: rows whose text holds every trigram of one run (``any_of``) or of all runs.

    The index keeps no positions (``detail=none``, small and fast), so a run is its trigrams ANDed: a
    superset of "contains the run", narrowed to the exact answer by the LIKE / distance check after it.
    Runs hold plate-alphabet characters only, so the quoting is safe.
    """
    groups = ["(" + " AND ".join(f'"{r[i : i + 3]}"' for i in range(len(r) - 2)) + ")" for r in dict.fromkeys(runs)]
    return (" OR " if any_of else " AND ").join(groups)


def candidate_condition(folded: str, k: int, *, dialect: str, trigram_index: str) -> ColumnElement[bool]:
    """SQL condition selecting every row that may lie within folded distance ``k`` of ``folded``."""
    parts = pieces(folded, k)
    length_ok = reads.c.length.between(len(folded) - k, len(folded) + k)
    if dialect == "sqlite" and trigram_index == "fts5" and min(map(len, parts)) >= 3:
        match = fts_match(parts, any_of=True)
        fts: Select[Any] = (
            select(literal_column("rowid")).select_from(text("reads_fts")).where(text("reads_fts MATCH :fz"))
        )
        return and_(reads.c.id.in_(fts.params(fz=match)), length_ok)
    return and_(or_(*(reads.c.folded.like(f"%{p}%") for p in dict.fromkeys(parts))), length_ok)


def bounded_distance(a: str, b: str, max_distance: float, confusable: float = 0.5) -> float | None:
    """:func:`platewise.plates.weighted_edit_distance` of ``a`` and ``b``, or None when above ``max_distance``.

    Same costs, but it stops as soon as a whole DP row exceeds ``max_distance`` (most candidates do).
    """
    if abs(len(a) - len(b)) > max_distance:
        return None
    if a == b:
        return 0.0
    m = len(b)
    prev = [float(j) for j in range(m + 1)]
    for i, ca in enumerate(a, 1):
        ga = _GROUP.get(ca)
        cur = [float(i)] + [0.0] * m
        row_min = cur[0]
        for j in range(1, m + 1):
            cb = b[j - 1]
            if ca == cb:
                sub = prev[j - 1]
            elif ga is not None and ga == _GROUP.get(cb):
                sub = prev[j - 1] + confusable
            else:
                sub = prev[j - 1] + 1.0
            v = min(prev[j] + 1.0, cur[j - 1] + 1.0, sub)
            cur[j] = v
            if v < row_min:
                row_min = v
        if row_min > max_distance:
            return None
        prev = cur
    return prev[m] if prev[m] <= max_distance else None
