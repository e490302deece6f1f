"""Plate formats per region, as data.

A format is a set of *masks*: one character class per position.

    D digit   L Latin letter   A letter or digit   P Chinese province   S Chinese special   E letter for
    Chinese new-energy plates (D or F)

``FORMATS`` holds at least us (a few states; not exhaustive), eu (de fr it es nl uk pl ro), br (old and
Mercosur), ar (old and Mercosur) and cn (blue 7 characters, green new-energy 8, special suffixes).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property

from platewise.plates.alphabet import CN_PROVINCES, CN_SPECIAL, DIGITS, LETTERS
from platewise.plates.normalize import CONFUSION_GROUPS

__all__ = [
    "CLASS_CHARS",
    "FORMATS",
    "PlateFormat",
    "fit_mask",
    "fit_to_formats",
    "formats_for",
    "guess_region",
    "known_region",
    "mask_matches",
    "regions",
]

CLASS_CHARS: dict[str, str] = {
    "D": DIGITS,
    "L": LETTERS,
    "A": LETTERS + DIGITS,
    "P": CN_PROVINCES,
    "S": CN_SPECIAL,
    "E": "DF",
}
_CLASS_RE = {k: "[" + re.escape(v) + "]" for k, v in CLASS_CHARS.items()}


@dataclass(frozen=True)
class PlateFormat:
    """One plate format of a region.

    Attributes:
        region: ``us``, ``us-ca``, ``eu-de``, ``br``, ``cn`` ...
        name: a short human name (``mercosur``, ``blue``).
        masks: one class string per allowed layout, e.g. ``("LLLDDDD",)``.
        lines: 1 or 2 text lines on the physical plate (layout hint for the renderer).
    """

    region: str
    name: str
    masks: tuple[str, ...]
    lines: int = 1

    @cached_property
    def regex(self) -> re.Pattern[str]:
        alts = sorted({"".join(_CLASS_RE[c] for c in m) for m in self.masks})
        return re.compile("^(?:" + "|".join(alts) + ")$")

    @property
    def lengths(self) -> tuple[int, int]:
        lens = [len(m) for m in self.masks]
        return min(lens), max(lens)

    def matches(self, text: str) -> bool:
        return bool(self.regex.match(text))


def mask_matches(mask: str, text: str) -> bool:
    return len(mask) == len(text) and all(c in CLASS_CHARS[k] for k, c in zip(mask, text, strict=True))


def _de_masks() -> tuple[str, ...]:
    # Kreis (1-3 letters) + 1-2 letters + 1-4 digits, at most 8 characters; optional E (electric) suffix.
    out = []
    for a, b, d in itertools.product((1, 2, 3), (1, 2), (1, 2, 3, 4)):
        if a + b + d <= 8:
            out.append("L" * a + "L" * b + "D" * d)
    return tuple(dict.fromkeys(out))


FORMATS: tuple[PlateFormat, ...] = (
    # United States: per-state patterns (not exhaustive), then a generic fallback.
    PlateFormat("us-ca", "california", ("DLLLDDD",)),
    PlateFormat("us-ny", "new-york", ("LLLDDDD",)),
    PlateFormat("us-tx", "texas", ("LLLDDDD", "LLDLDDD")),
    PlateFormat("us-fl", "florida", ("LLLDLL", "DDDLLL", "LLLLDD")),
    PlateFormat("us-il", "illinois", ("LLDDDDD", "LDDDDDD")),
    PlateFormat("us-pa", "pennsylvania", ("LLLDDDD",)),
    PlateFormat("us", "generic", tuple("A" * n for n in range(2, 9))),
    # Europe
    PlateFormat("eu-de", "germany", _de_masks()),
    PlateFormat("eu-fr", "france-siv", ("LLDDDLL",)),
    PlateFormat("eu-it", "italy", ("LLDDDLL",)),
    PlateFormat("eu-es", "spain", ("DDDDLLL",)),
    PlateFormat("eu-nl", "netherlands", ("LLDDLL", "DDLLLD", "DLLLDD", "LLDDDL", "LDDDLL", "LLLDDL", "DDDLLD")),
    PlateFormat("eu-uk", "united-kingdom", ("LLDDLLL",)),
    PlateFormat("eu-pl", "poland", ("LLDDDDD", "LLDDDLL", "LLLDDDD", "LLLDDLL", "LLLLDDD")),
    PlateFormat("eu-ro", "romania", ("LDDLLL", "LLDDLLL", "LLDDDLLL", "LDDDLLL")),
    # South America
    PlateFormat("br", "old", ("LLLDDDD",)),
    PlateFormat("br", "mercosur", ("LLLDLDD",)),
    PlateFormat("ar", "old", ("LLLDDD",)),
    PlateFormat("ar", "mercosur", ("LLDDDLL",)),
    # China: blue (7), green new-energy (8: small cars E at position 3, large cars E at the end), specials.
    PlateFormat("cn", "blue", ("PLAAAAA",)),
    PlateFormat("cn", "green", ("PLEAAAAA", "PLDDDDDE")),
    PlateFormat("cn", "yellow-special", ("PLAAAAS",), lines=2),
)


def regions() -> list[str]:
    """Every region name, including the parents (``eu`` for ``eu-de``)."""
    names = {f.region for f in FORMATS}
    names |= {r.split("-")[0] for r in names}
    return sorted(names)


def known_region(region: str) -> str | None:
    """A labels-CSV region as a formats region: itself when known (``br``, ``eu-ro``, ``us-ca``), else
    ``eu-<region>`` (``ro`` -> ``eu-ro``), else its family (``us-ak`` -> ``us``), else None (``world``)."""
    names = set(regions())
    r = (region or "").lower()
    for cand in (r, f"eu-{r}", r.split("-")[0]):
        if cand and cand in names:
            return cand
    return None


def formats_for(region: str) -> tuple[PlateFormat, ...]:
    """Formats of a region; ``eu`` or ``us`` gives all their sub-regions.

    Raises:
        ValueError: an unknown region.
    """
    region = region.lower()
    out = tuple(f for f in FORMATS if f.region == region or f.region.startswith(region + "-"))
    if not out:
        raise ValueError(f"unknown region {region!r}; known: {', '.join(regions())}")
    return out


def guess_region(text: str, prefer: str | None = None) -> str | None:
    """The most specific region whose format matches ``text``, or None.

    ``prefer`` (a region like ``br`` or ``eu``) wins when it matches. The generic ``us`` fallback is
    only used when nothing more specific matches.
    """
    if prefer:
        for f in formats_for(prefer):
            if f.matches(text):
                return f.region
    specific = [f for f in FORMATS if f.name != "generic" and f.matches(text)]
    if specific:
        return specific[0].region
    return "us" if any(f.matches(text) for f in FORMATS if f.name == "generic") else None


_GROUP_OF = {c: g for g in CONFUSION_GROUPS for c in g}


def fit_mask(mask: str, text: str) -> str | None:
    """``text`` with each character outside its mask class swapped for a look-alike inside it, or None."""
    if len(mask) != len(text):
        return None
    out = []
    for k, c in zip(mask, text, strict=True):
        allowed = CLASS_CHARS[k]
        if c in allowed:
            out.append(c)
            continue
        swap = next((g for g in _GROUP_OF.get(c, "") if g in allowed), None)
        if swap is None:
            return None
        out.append(swap)
    return "".join(out)


def fit_to_formats(text: str, formats: tuple[PlateFormat, ...]) -> str | None:
    """The reading of ``text`` that fits ``formats`` with the fewest swaps of OCR look-alikes (0/O/D/Q, 1/I/L,
    2/Z, 5/S, 6/G, 8/B) at positions whose class needs them: ``text`` itself when it already fits, the corrected
    text when one correction needs fewer swaps than any other, None when nothing fits or the best is a tie.

    ``fit_to_formats("0Y66U0P", formats_for("eu-uk")) == "OY66UOP"``.
    """
    if any(f.matches(text) for f in formats):
        return text
    fits = {r for f in formats for m in f.masks if (r := fit_mask(m, text)) is not None}
    if not fits:
        return None
    ranked = sorted((sum(a != b for a, b in zip(r, text, strict=True)), r) for r in fits)
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        return None
    return ranked[0][1]
