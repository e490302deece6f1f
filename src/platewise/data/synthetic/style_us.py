"""US plate design: state name on top, slogan at the bottom, pale or dark backgrounds, scenery, stickers."""

from __future__ import annotations

import numpy as np

from platewise.data.synthetic.canvas import Canvas, Color
from platewise.data.synthetic.design import BLACK, WHITE, YELLOW, FlatPlate, holder_frame, jit, pick, plate_font
from platewise.data.synthetic.glyphs import Atlas
from platewise.data.synthetic.textgen import US_STATES, PlateString, plate_string
from platewise.plates.alphabet import DIGITS, LETTERS

__all__ = ["draw_us"]

R = np.random.Generator
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

US_TEXT_COLORS: tuple[Color, ...] = (
    (110, 30, 20),
    (20, 20, 20),
    (30, 30, 150),
    (40, 90, 20),
    (90, 20, 60),
    (120, 60, 10),
)
US_BGS: tuple[tuple[Color, Color], ...] = (
    ((245, 245, 245), (245, 245, 245)),
    ((250, 235, 215), (245, 245, 245)),
    ((240, 245, 250), (200, 230, 250)),
    ((245, 245, 245), (180, 220, 240)),
    ((220, 235, 220), (250, 250, 250)),
    ((250, 250, 250), (230, 200, 170)),
    ((60, 200, 245), (40, 180, 235)),  # gold / yellow (New York, New Jersey)
    ((245, 245, 245), (200, 215, 235)),
)
SCENERY_TINTS: tuple[Color, ...] = ((120, 170, 90), (200, 160, 110), (150, 200, 230), (90, 160, 200), (170, 140, 200))


def draw_us(rng: R, atlas: Atlas, width: int) -> FlatPlate:
    st = str(pick(rng, sorted(US_STATES)))
    name, slogans = US_STATES[st]
    ps = plate_string(f"us-{st}", None, rng)
    if rng.random() < 0.1:  # vanity plates: 4-7 free letters/digits (the generic ``us`` masks)
        n = int(rng.integers(4, 8))
        text = "".join(str(pick(rng, LETTERS if rng.random() < 0.8 else DIGITS)) for _ in range(n))
        ps = PlateString(text, (text,), ps.region, "vanity")
    h = int(round(width / rng.uniform(1.9, 2.1)))
    dark = rng.random() < 0.12
    if dark:
        bg, fg = pick(rng, ((20, 20, 20), (110, 40, 10), (20, 60, 20))), pick(rng, (WHITE, YELLOW, (250, 250, 250)))
        cv = Canvas(width, h, jit(rng, bg), atlas, rng)
    else:
        top, bot = pick(rng, US_BGS)
        cv = Canvas(width, h, top, atlas, rng)
        cv.vgradient(jit(rng, top, 8), jit(rng, bot, 8))
        u = rng.random()
        if u < 0.3:
            cv.blobs(jit(rng, bot, 10), int(rng.integers(1, 4)), 25)
        elif u < 0.6:  # pastel scenery (mountains, waves, a sun), now and then a saturated one
            tint = jit(rng, pick(rng, SCENERY_TINTS), 25)
            a = rng.uniform(0.25, 0.55) if rng.random() < 0.8 else rng.uniform(0.7, 1.0)
            col: Color = tuple(a * t + (1 - a) * b for t, b in zip(tint, bot, strict=True))  # type: ignore[assignment]
            for _ in range(int(rng.integers(1, 3))):
                cv.scenery(col, str(pick(rng, ("mountains", "waves", "sun"))))
        fg = jit(rng, pick(rng, US_TEXT_COLORS), 15)
    head = jit(rng, pick(rng, ((30, 30, 170), (120, 40, 20), (20, 20, 20), (40, 100, 30))) if not dark else fg, 15)
    if rng.random() < 0.5:
        name = name.upper()
    tf = int(rng.integers(atlas.n_fonts("text")))
    if not dark and rng.random() < 0.15:  # a solid band across the top with the state name in white
        band = rng.uniform(0.18, 0.24)
        cv.rect(0, 0, 1, band, jit(rng, pick(rng, ((120, 40, 10), (30, 30, 150), (40, 90, 20))), 15))
        head_box = (0.12, band * 0.15, 0.76, band * 0.7)
        cv.text("text", tf, name, WHITE, head_box, spacing=0.02)
    else:
        head_box = (0.12, rng.uniform(0.04, 0.1), 0.76, rng.uniform(0.13, 0.2))
        cv.text("text", tf, name, head, head_box, spacing=0.02)
    slogan = str(pick(rng, slogans))
    if slogan and rng.random() < 0.8:
        cv.text(
            "text",
            int(rng.integers(atlas.n_fonts("text"))),
            slogan,
            head,
            (0.15, rng.uniform(0.8, 0.86), 0.7, rng.uniform(0.09, 0.12)),
            spacing=0.02,
        )
    # real US plates mostly use tall, condensed, fairly thin glyphs (about half as wide as high)
    condensed = rng.random() < 0.5
    ch = rng.uniform(0.42, 0.56) if condensed else rng.uniform(0.36, 0.48)
    sep = "-" if rng.random() < 0.3 and len(ps.groups) == 2 else " "
    groups = ps.groups
    emblem = len(groups) == 2 and rng.random() < 0.2  # a state emblem between the groups
    if emblem:
        groups, sep = (groups[0] + " ", groups[1]), " "
    _, _, gaps = cv.text(
        "plate",
        plate_font(rng, atlas, (0, 2, 3, 9, 10, 11)),
        groups,
        fg,
        (0.1, 0.52 - ch / 2 + 0.02, 0.8, ch),
        spacing=rng.uniform(0.04, 0.12),
        sep=sep,
        group_gap=rng.uniform(0.4, 0.5) if emblem else rng.uniform(0.15, 0.4),
        bold=int(rng.integers(0, 2)) if width > 200 and not condensed else 0,
        stretch=rng.uniform(0.6, 0.85) if condensed else rng.uniform(0.85, 1.1),
    )
    if emblem and gaps:
        gx = (gaps[0] + gaps[-1]) / 2
        col = jit(rng, pick(rng, ((40, 120, 40), (30, 30, 160), (150, 80, 20), (0, 160, 230))), 30)
        cv.seal(gx, 0.52 + 0.02, ch * 0.28, col)
    for x in (0.03, 0.83):
        if rng.random() < 0.35:
            y = float(pick(rng, (rng.uniform(0.03, 0.07), rng.uniform(0.8, 0.85))))
            cv.sticker(x, y, 0.13, 0.13, str(pick(rng, MONTHS)) if rng.random() < 0.4 else None)
    if rng.random() < 0.7:
        cv.bolts(0.1, (0.24, 0.76))
    if rng.random() < 0.3:
        holder_frame(cv, rng)
    if rng.random() < 0.5:
        cv.border(jit(rng, pick(rng, (BLACK, (120, 120, 120), (180, 180, 180)))), rng.uniform(0.02, 0.06))
    return FlatPlate(cv.to_uint8(), ps, 1)
