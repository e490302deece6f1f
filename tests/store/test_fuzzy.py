"""The fuzzy prefilter never loses a true match, and the bounded distance agrees with the plates module."""

from __future__ import annotations

import random

import pytest

from platewise.plates import fold_confusions, weighted_edit_distance
from platewise.store.fuzzy import bounded_distance, fts_match, pieces

CHARS = "0ODQ1IL2Z5S6G8BAXY7"


def _mutate(rng: random.Random, s: str, edits: int) -> str:
    for _ in range(edits):
        op, i = rng.randrange(3), rng.randrange(len(s) + 1)
        if op == 0:
            s = s[:i] + rng.choice(CHARS) + s[i:]
        elif op == 1 and s:
            s = s[: max(0, i - 1)] + s[max(0, i - 1) + 1 :]
        elif s:
            j = min(i, len(s) - 1)
            s = s[:j] + rng.choice(CHARS) + s[j + 1 :]
    return s


def test_bounded_distance_equals_weighted_edit_distance_when_within_bound() -> None:
    rng = random.Random(0)
    for _ in range(3000):
        a = "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 9)))
        b = _mutate(rng, a, rng.randint(0, 3))
        k = rng.choice([0.5, 1.0, 1.5, 2.0, 3.0])
        exact = weighted_edit_distance(a, b)
        got = bounded_distance(a, b, k)
        assert got == (exact if exact <= k else None), (a, b, k)


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_every_match_contains_one_folded_piece_of_the_query(k: int) -> None:
    rng = random.Random(k)
    for _ in range(2000):
        q = "".join(rng.choice(CHARS) for _ in range(rng.randint(k + 1, 9)))
        cand = _mutate(rng, q, rng.randint(0, 4))
        if weighted_edit_distance(q, cand) <= k:
            fq, fc = fold_confusions(q), fold_confusions(cand)
            assert any(p in fc for p in pieces(fq, k)), (q, cand, pieces(fq, k))
            assert abs(len(fc) - len(fq)) <= k


def test_pieces_cover_the_query_in_order() -> None:
    assert pieces("7A8C123", 1) == ["7A8C", "123"]
    assert pieces("7A8C123", 2) == ["7A8", "C1", "23"]
    assert "".join(pieces("ABCDEFGHIJ", 3)) == "ABCDEFGHIJ"


def test_fts_match_ands_the_trigrams_of_each_run() -> None:
    assert fts_match(["A8C1", "123"], any_of=True) == '("A8C" AND "8C1") OR ("123")'
    assert fts_match(["A8C"], any_of=False) == '("A8C")'
