"""Plate text normalization and OCR-confusion-aware comparison (no ML)."""

from __future__ import annotations

import unicodedata

from platewise.plates.alphabet import ALPHABET

__all__ = [
    "CONFUSION_GROUPS",
    "confusion_cost",
    "edit_distance",
    "fold_confusions",
    "normalize",
    "plates_match",
    "weighted_edit_distance",
]

CONFUSION_GROUPS: tuple[str, ...] = ("0ODQ", "1IL", "2Z", "5S", "6G", "8B")
"""Characters an OCR (or a person) easily mistakes for one another."""

_FOLD = {c: group[0] for group in CONFUSION_GROUPS for c in group}
_GROUP_OF = {c: i for i, group in enumerate(CONFUSION_GROUPS) for c in group}
_KEEP = set(ALPHABET)


def normalize(text: str) -> str:
    """Upper case, full-width forms folded (NFKC), separators and anything outside the alphabet dropped.

    >>> normalize(" ab-12 3.c ")
    'AB123C'
    """
    text = unicodedata.normalize("NFKC", text).upper()
    return "".join(c for c in text if c in _KEEP)


def fold_confusions(text: str) -> str:
    """Maps every character of a confusion group to the group's first member (O, D, Q -> 0; B -> 8 ...)."""
    return "".join(_FOLD.get(c, c) for c in text)


def confusion_cost(a: str, b: str, confusable: float = 0.5) -> float:
    """Substitution cost: 0 for equal, ``confusable`` within a confusion group, 1 otherwise."""
    if a == b:
        return 0.0
    ga, gb = _GROUP_OF.get(a), _GROUP_OF.get(b)
    return confusable if ga is not None and ga == gb else 1.0


def weighted_edit_distance(a: str, b: str, confusable: float = 0.5) -> float:
    """Levenshtein distance where substitutions inside a confusion group cost ``confusable``."""
    if len(a) < len(b):
        a, b = b, a
    prev = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        cur = [float(i)] + [0.0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1.0, cur[j - 1] + 1.0, prev[j - 1] + confusion_cost(ca, cb, confusable))
        prev = cur
    return prev[-1]


def edit_distance(a: str, b: str) -> int:
    """Plain Levenshtein distance."""
    return int(weighted_edit_distance(a, b, confusable=1.0))


def plates_match(a: str, b: str, *, max_distance: float = 0.0, confusable: float = 0.5) -> bool:
    """True when two readings are the same plate after normalization, within ``max_distance``.

    With the default ``max_distance=0`` only identical normalized texts match; ``0.5`` also accepts one
    confusable character (``7ABC123`` vs ``7A8C123``).
    """
    na, nb = normalize(a), normalize(b)
    if na == nb:
        return True
    return weighted_edit_distance(na, nb, confusable) <= max_distance
