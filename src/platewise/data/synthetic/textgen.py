"""Plate texts drawn from the region formats of :mod:`platewise.plates.formats`.

Every text is generated from a format *mask* (one character class per position) and comes back with its
display groups (``"AB-123-CD"`` is the groups ``["AB", "123", "CD"]`` joined by ``"-"``), which the
styles use for spacing; the label is always the normalized text without separators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platewise.plates.alphabet import CN_PROVINCES, DIGITS, LETTERS
from platewise.plates.formats import CLASS_CHARS, FORMATS, PlateFormat

__all__ = ["US_STATES", "PlateString", "fill_mask", "group_by_class", "pick_format", "plate_string"]

US_STATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "al": ("Alabama", ("Sweet Home Alabama", "Heart of Dixie")),
    "ak": ("ALASKA", ("The Last Frontier", "North to the Future")),
    "az": ("ARIZONA", ("Grand Canyon State",)),
    "ar": ("ARKANSAS", ("The Natural State",)),
    "ca": ("California", ("dmv.ca.gov", "")),
    "co": ("COLORADO", ("",)),
    "ct": ("Connecticut", ("Constitution State",)),
    "de": ("DELAWARE", ("The First State",)),
    "dc": ("DISTRICT OF COLUMBIA", ("Taxation Without Representation",)),
    "fl": ("FLORIDA", ("Sunshine State", "MYFLORIDA.COM")),
    "ga": ("GEORGIA", ("Peach State", "In God We Trust")),
    "hi": ("Hawaii", ("Aloha State",)),
    "id": ("IDAHO", ("Famous Potatoes", "Scenic Idaho")),
    "il": ("ILLINOIS", ("Land of Lincoln",)),
    "in": ("INDIANA", ("In God We Trust",)),
    "ia": ("IOWA", ("",)),
    "ks": ("KANSAS", ("",)),
    "ky": ("Kentucky", ("Unbridled Spirit",)),
    "la": ("LOUISIANA", ("Sportsman's Paradise",)),
    "me": ("MAINE", ("Vacationland",)),
    "md": ("MARYLAND", ("",)),
    "ma": ("Massachusetts", ("The Spirit of America",)),
    "mi": ("MICHIGAN", ("Pure Michigan", "Great Lakes")),
    "mn": ("MINNESOTA", ("10,000 Lakes", "Explore Minnesota")),
    "ms": ("MISSISSIPPI", ("In God We Trust",)),
    "mo": ("MISSOURI", ("Show-Me State",)),
    "mt": ("MONTANA", ("Treasure State",)),
    "ne": ("NEBRASKA", ("",)),
    "nv": ("NEVADA", ("Home Means Nevada", "Silver State")),
    "nh": ("NEW HAMPSHIRE", ("Live Free or Die",)),
    "nj": ("NEW JERSEY", ("Garden State",)),
    "nm": ("NEW MEXICO", ("Land of Enchantment",)),
    "ny": ("NEW YORK", ("Empire State", "Excelsior")),
    "nc": ("NORTH CAROLINA", ("First in Flight", "First in Freedom")),
    "nd": ("NORTH DAKOTA", ("Discover the Spirit", "Legendary")),
    "oh": ("OHIO", ("Birthplace of Aviation",)),
    "ok": ("OKLAHOMA", ("Native America", "Explore Oklahoma")),
    "or": ("OREGON", ("",)),
    "pa": ("PENNSYLVANIA", ("visitPA.com",)),
    "ri": ("RHODE ISLAND", ("Ocean State",)),
    "sc": ("SOUTH CAROLINA", ("While I Breathe I Hope",)),
    "sd": ("SOUTH DAKOTA", ("Great Faces Great Places",)),
    "tn": ("TENNESSEE", ("Volunteer State",)),
    "tx": ("TEXAS", ("The Lone Star State",)),
    "ut": ("UTAH", ("Life Elevated", "Greatest Snow on Earth")),
    "vt": ("VERMONT", ("Green Mountain State",)),
    "va": ("VIRGINIA", ("Virginia is for Lovers",)),
    "wa": ("Washington", ("Evergreen State",)),
    "wv": ("WEST VIRGINIA", ("Wild Wonderful",)),
    "wi": ("WISCONSIN", ("America's Dairyland",)),
    "wy": ("WYOMING", ("",)),
}
# Common US serial patterns for states without a specific format (all match the generic ``us`` masks).
US_GENERIC = ("LLLDDDD", "LLLDDD", "DLLLDDD", "DDDLLL", "LLDDDDD", "DLLDDD", "LLDLDDD", "DDDDLL", "LLLLDD", "DDLLDD")

US_EXCLUDE = "IOQ"
"""Letters most US serial plates do not issue (they read as 1 and 0); vanity plates may still use them."""

BR_CITIES = (
    "SALVADOR",
    "CAMACARI",
    "SIMOES FILHO",
    "LAURO DE FREITAS",
    "DIAS D'AVILA",
    "FEIRA DE SANTANA",
    "PARANAGUA",
    "SAO PAULO",
    "RIO DE JANEIRO",
    "CURITIBA",
    "CAMPINAS",
    "BELO HORIZONTE",
    "PORTO ALEGRE",
    "SALVADOR",
    "RECIFE",
    "GOIANIA",
    "SANTOS",
    "LONDRINA",
    "JOINVILLE",
)
BR_STATES = ("BA", "BA", "BA", "PR", "SP", "RJ", "PR", "MG", "RS", "BA", "PE", "GO", "SC")


@dataclass(frozen=True)
class PlateString:
    text: str
    groups: tuple[str, ...]
    region: str
    fmt: str  # format name


def fill_mask(mask: str, rng: np.random.Generator, digit_bias: float = 0.0, exclude: str = "") -> str:
    """Random text for a mask; ``digit_bias`` draws a digit for ``A`` positions that often; ``exclude``
    lists letters never used (Chinese plates have no I or O)."""
    out = []
    for k in mask:
        if k == "A" and digit_bias > 0 and rng.random() < digit_bias:
            out.append(DIGITS[rng.integers(10)])
            continue
        chars = CLASS_CHARS[k]
        if exclude and k in "LA":
            chars = "".join(c for c in chars if c not in exclude)
        if k == "P" and rng.random() < 0.3:
            out.append("皖")  # the real cn crops are mostly from Anhui
            continue
        out.append(chars[rng.integers(len(chars))])
    return "".join(out)


def group_by_class(text: str) -> tuple[str, ...]:
    """Split where letters turn to digits or back (``ABC1234`` -> ``ABC``, ``1234``)."""
    groups: list[str] = []
    for c in text:
        if groups and (c.isdigit() == groups[-1][-1].isdigit()):
            groups[-1] += c
        else:
            groups.append(c)
    return tuple(groups)


def pick_format(region: str, name: str | None, rng: np.random.Generator) -> PlateFormat:
    cands = [f for f in FORMATS if f.region == region and (name is None or f.name == name)]
    if not cands:
        raise ValueError(f"no format for region {region!r} name {name!r}")
    return cands[rng.integers(len(cands))]


def plate_string(region: str, fmt_name: str | None, rng: np.random.Generator) -> PlateString:
    """A random plate text of ``region`` (``us-ca``, ``eu-de``, ``br``, ``cn`` ...) with display groups."""
    if region.startswith("us-") and not any(f.region == region for f in FORMATS):
        mask = US_GENERIC[rng.integers(len(US_GENERIC))]
        text = fill_mask(mask, rng, exclude=US_EXCLUDE)
        return PlateString(text, _us_groups(text, rng), region, "generic")
    if region == "eu-de":
        a, b = int(rng.choice([1, 2, 3], p=[0.35, 0.45, 0.2])), int(rng.integers(1, 3))
        d = int(rng.integers(1, 5))
        while a + b + d > 8:
            d -= 1
        kreis, letters = fill_mask("L" * a, rng), fill_mask("L" * b, rng)
        num = str(rng.integers(1, 10)) + fill_mask("D" * (d - 1), rng)
        return PlateString(kreis + letters + num, (kreis, letters, num), region, "germany")
    f = pick_format(region, fmt_name, rng)
    mask = f.masks[rng.integers(len(f.masks))]
    exclude = {"cn": "IO", "us": US_EXCLUDE}.get(region.split("-")[0], "")
    text = fill_mask(mask, rng, digit_bias=0.7 if region == "cn" else 0.0, exclude=exclude)
    if region.startswith("us"):
        return PlateString(text, _us_groups(text, rng), region, f.name)
    if region == "cn":
        if text[0] == "皖" and rng.random() < 0.5:  # the Hefei "皖A" dominates the real cn crops
            text = text[0] + "A" + text[2:]
        return PlateString(text, (text[:2], text[2:]), region, f.name)
    if region == "eu-uk":
        return PlateString(text, (text[:4], text[4:]), region, f.name)
    if region == "eu-es":
        return PlateString(text, (text[:4], text[4:]), region, f.name)
    if region == "br" and f.name == "mercosur":
        return PlateString(text, (text,), region, f.name)
    if region == "eu-it":
        return PlateString(text, (text[:2], text[2:]), region, f.name)
    return PlateString(text, group_by_class(text), region, f.name)


def _us_groups(text: str, rng: np.random.Generator) -> tuple[str, ...]:
    """``ABC 1234`` most of the time when the text has two class groups, else solid (``7ABC123``)."""
    g = group_by_class(text)
    if len(g) == 2 and rng.random() < 0.75:
        return g
    return (text,)


assert set(CN_PROVINCES) <= set(CLASS_CHARS["P"])
assert set(LETTERS) == set(CLASS_CHARS["L"])
