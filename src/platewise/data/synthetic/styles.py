"""Plate designs per style: us, eu, br, ar, cn. Each draws one flat plate on a :class:`Canvas`.

A style function takes ``(rng, atlas, width)`` and returns a :class:`FlatPlate`; ``width`` is the plate
width in pixels, the height follows from the plate's real aspect ratio. The US design is in
:mod:`platewise.data.synthetic.style_us`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from platewise.data.synthetic.canvas import Canvas, Color
from platewise.data.synthetic.design import (
    BLACK,
    EU_BLUE,
    WHITE,
    YELLOW,
    FlatPlate,
    holder_frame,
    jit,
    pick,
    plate_font,
)
from platewise.data.synthetic.glyphs import Atlas
from platewise.data.synthetic.style_us import draw_us
from platewise.data.synthetic.textgen import BR_CITIES, BR_STATES, PlateString, plate_string

__all__ = ["STYLES", "FlatPlate"]

R = np.random.Generator


# ---------------------------------------------------------------- eu
EU_CODES = {
    "eu-de": "D",
    "eu-fr": "F",
    "eu-it": "I",
    "eu-es": "E",
    "eu-nl": "NL",
    "eu-uk": "UK",
    "eu-pl": "PL",
    "eu-ro": "RO",
}


def draw_eu(rng: R, atlas: Atlas, width: int) -> FlatPlate:
    region = str(pick(rng, sorted(EU_CODES)))
    ps = plate_string(region, None, rng)
    two = rng.random() < 0.25  # square two-line plates (rear of many cars, motorbikes)
    bg: Color = WHITE
    if region == "eu-nl" or (region == "eu-uk" and rng.random() < 0.5):
        bg = YELLOW
    aspect = rng.uniform(1.5, 1.8) if two else rng.uniform(4.3, 4.9)
    h = int(round(width / aspect))
    cv = Canvas(width, h, jit(rng, bg, 8), atlas, rng)
    band = 0.085 if not two else 0.14
    cv.rect(0, 0, band, 1, jit(rng, EU_BLUE, 10))
    ring = min(0.15, 0.3 * band * width / h)
    cv.stars(band / 2, 0.3 if not two else 0.22, ring)
    cv.text(
        "text", 0, EU_CODES[region], WHITE, (0.005, 0.6 if not two else 0.7, band - 0.01, 0.25 if not two else 0.15)
    )
    right = 1.0
    if region in ("eu-fr", "eu-it") and not two:
        right = 1 - band
        cv.rect(right, 0, 1, 1, jit(rng, EU_BLUE, 10))
        if region == "eu-fr":
            cv.text("text", 0, str(rng.integers(1, 96)), WHITE, (right + 0.01, 0.55, band - 0.02, 0.3))
    fg = BLACK if rng.random() < 0.95 else (60, 20, 20)
    font = plate_font(rng, atlas, (0, 2, 3, 9))
    sep = "-" if region in ("eu-fr", "eu-nl") else " "
    if two:
        g = ps.groups
        cut = 1 if len(g) >= 2 else 0
        top, bot = (g[:cut] or (ps.text[:2],)), (g[cut:] if cut else (ps.text[2:],))
        cv.text("plate", font, top, fg, (band + 0.05, 0.08, 0.9 - band, 0.38), sep=sep)
        cv.text("plate", font, bot, fg, (band + 0.05, 0.54, 0.9 - band, 0.38), sep=sep)
        lines = 2
    else:
        groups = ps.groups
        if region == "eu-de":  # seals between the district and the letters
            groups = (groups[0] + "  ", groups[1], groups[2])
        _, _, gaps = cv.text(
            "plate",
            font,
            groups,
            fg,
            (band + 0.03, 0.18, right - band - 0.06, 0.64),
            sep=sep,
            spacing=rng.uniform(0.05, 0.12),
            group_gap=0.35,
            stretch=rng.uniform(0.85, 1.05),
        )
        lines = 1
        if region == "eu-de" and len(gaps) >= 3:
            _de_seals(cv, gaps[1], rng)
    cv.border(BLACK, rng.uniform(0.02, 0.04), inset=0.02)
    if rng.random() < 0.15 and not two:
        holder_frame(cv, rng)
    return FlatPlate(cv.to_uint8(), ps, lines)


def _de_seals(cv: Canvas, x: float, rng: R) -> None:
    cv.seal(x, 0.35, 0.1, pick(rng, ((40, 160, 40), (50, 120, 200), (60, 60, 200), (200, 200, 200))))
    cv.seal(x, 0.64, 0.1, (40, 40, 190))


# ---------------------------------------------------------------- br / ar
def _mercosur(rng: R, atlas: Atlas, width: int, ps: PlateString, country: str) -> FlatPlate:
    h = int(round(width / rng.uniform(3.0, 3.2)))
    cv = Canvas(width, h, jit(rng, WHITE, 6), atlas, rng)
    cv.rect(0, 0, 1, 0.22, jit(rng, (160, 60, 0), 12))
    cv.text("text", 0, country, WHITE, (0.2, 0.03, 0.6, 0.16), spacing=0.05)
    cv.rect(0.88, 0.04, 0.96, 0.18, (40, 150, 40))
    cv.rect(0.9, 0.07, 0.94, 0.15, (0, 210, 250))
    cv.text("text", 0, "BR" if country == "BRASIL" else "RA", jit(rng, BLACK), (0.03, 0.6, 0.08, 0.2))
    cv.text(
        "plate",
        plate_font(rng, atlas, (0, 2, 9, 1)),
        ps.groups,
        jit(rng, BLACK),
        (0.12, 0.32, 0.8, 0.56),
        spacing=rng.uniform(0.06, 0.12),
        stretch=rng.uniform(0.85, 1.05),
    )
    cv.border(jit(rng, BLACK), rng.uniform(0.02, 0.04))
    return FlatPlate(cv.to_uint8(), ps, 1)


def draw_br(rng: R, atlas: Atlas, width: int) -> FlatPlate:
    if rng.random() < 0.4:
        return _mercosur(rng, atlas, width, plate_string("br", "mercosur", rng), "BRASIL")
    ps = plate_string("br", "old", rng)
    h = int(round(width / rng.uniform(3.0, 3.2)))
    u = rng.random()
    if u < 0.6:  # private: grey, black text
        grey = float(rng.uniform(140, 205))
        bg, fg = (grey, grey, grey + rng.uniform(-5, 8)), jit(rng, BLACK, 15)
    elif u < 0.85:  # commercial: red, white text
        bg, fg = jit(rng, (40, 40, 150), 25), jit(rng, (230, 230, 230), 20)
    else:  # official / dark: dark grey or black, light text
        bg, fg = jit(rng, (45, 45, 45), 20), jit(rng, (220, 220, 220), 20)
    cv = Canvas(width, h, bg, atlas, rng)
    if rng.random() < 0.5:
        cv.vgradient(jit(rng, bg, 15), jit(rng, (bg[0] * 0.8, bg[1] * 0.8, bg[2] * 0.8), 5))
    u = rng.random()
    city = str(pick(rng, BR_CITIES))
    if u < 0.6:
        city = f"{pick(rng, BR_STATES)}-{city}"
    elif u < 0.8:
        city = f"{pick(rng, BR_STATES)} - {city}"
    cv.text("text", int(pick(rng, (0, 2))), str(city), fg, (0.2, 0.05, 0.6, 0.17), spacing=0.03)
    cv.text(
        "plate",
        plate_font(rng, atlas, (2, 3, 0, 9)),
        ps.groups,
        fg,
        (0.05, 0.3, 0.9, 0.58),
        sep=str(pick(rng, ("-", "·", "·", "·", "·", "-", " "))),
        spacing=rng.uniform(0.06, 0.14),
        stretch=rng.uniform(0.7, 0.95),
        group_gap=0.3,
    )
    if rng.random() < 0.6:
        cv.bolts(0.16, (0.08, 0.92), color=(110, 110, 110))
    cv.border(fg, rng.uniform(0.02, 0.04))
    if rng.random() < 0.3:
        holder_frame(cv, rng)
    return FlatPlate(cv.to_uint8(), ps, 1)


def draw_ar(rng: R, atlas: Atlas, width: int) -> FlatPlate:
    if rng.random() < 0.5:
        return _mercosur(rng, atlas, width, plate_string("ar", "mercosur", rng), "REPUBLICA ARGENTINA")
    ps = plate_string("ar", "old", rng)
    h = int(round(width / rng.uniform(2.2, 2.4)))
    cv = Canvas(width, h, jit(rng, (25, 25, 25), 10), atlas, rng)
    cv.text("text", 0, "ARGENTINA", jit(rng, WHITE), (0.2, 0.06, 0.6, 0.16), spacing=0.05)
    cv.text(
        "plate",
        plate_font(rng, atlas, (0, 2, 5, 7)),
        ps.groups,
        jit(rng, WHITE),
        (0.06, 0.3, 0.88, 0.5),
        spacing=0.08,
        group_gap=0.4,
    )
    cv.border(jit(rng, (200, 200, 200)), 0.03, inset=0.03)
    return FlatPlate(cv.to_uint8(), ps, 1)


# ---------------------------------------------------------------- cn
CN_BLUE: Color = (170, 60, 10)


def draw_cn(rng: R, atlas: Atlas, width: int) -> FlatPlate:
    u = rng.random()
    font = plate_font(rng, atlas, (3, 9, 10, 11, 2))
    if u < 0.6:  # blue, 7 characters, white text
        ps = plate_string("cn", "blue", rng)
        cv = Canvas(width, int(round(width / rng.uniform(3.0, 3.3))), jit(rng, CN_BLUE, 20), atlas, rng)
        fg, lines = jit(rng, WHITE, 10), 1
        cv.border(fg, 0.025, inset=0.04)
    elif u < 0.82:  # green new-energy, 8 characters, black text
        ps = plate_string("cn", "green", rng)
        cv = Canvas(width, int(round(width / rng.uniform(3.3, 3.6))), WHITE, atlas, rng)
        cv.vgradient(jit(rng, (235, 250, 235), 6), jit(rng, (110, 200, 60), 15), y0=0.0, y1=1.0)
        fg, lines = jit(rng, BLACK, 10), 1
        cv.border((40, 40, 40), 0.02, inset=0.02)
    else:  # yellow, black text, one or two lines
        ps = plate_string("cn", "blue" if rng.random() < 0.75 else "yellow-special", rng)
        lines = 2 if rng.random() < 0.5 else 1
        aspect = rng.uniform(1.9, 2.1) if lines == 2 else rng.uniform(3.0, 3.3)
        cv = Canvas(width, int(round(width / aspect)), jit(rng, (20, 180, 240), 15), atlas, rng)
        fg = jit(rng, BLACK, 10)
        cv.border(fg, 0.025, inset=0.04)
    if lines == 2:
        cv.text("plate", font, (ps.text[:2],), fg, (0.25, 0.1, 0.5, 0.3), spacing=0.3, cell=0.55)
        cv.text("plate", font, (ps.text[2:],), fg, (0.07, 0.46, 0.86, 0.44), spacing=0.12, cell=0.55)
    else:
        cv.text(
            "plate",
            font,
            ps.groups,
            fg,
            (0.05, 0.18, 0.9, 0.64),
            spacing=0.14,
            cell=0.5,
            group_gap=0.35,
            sep="·",
            stretch=rng.uniform(0.8, 1.0),
        )
        if rng.random() < 0.5:
            cv.bolts(0.5, (0.0 + 0.03, 0.97))
    return FlatPlate(cv.to_uint8(), ps, lines)


STYLES: dict[str, Callable[[R, Atlas, int], FlatPlate]] = {
    "us": draw_us,
    "eu": draw_eu,
    "br": draw_br,
    "ar": draw_ar,
    "cn": draw_cn,
}
