"""Shared pieces of the plate designs: the flat-plate result, colours, random picks, holder frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from platewise.data.synthetic.canvas import Canvas, Color
from platewise.data.synthetic.glyphs import Atlas
from platewise.data.synthetic.textgen import PlateString

__all__ = ["BLACK", "EU_BLUE", "WHITE", "YELLOW", "FlatPlate", "holder_frame", "jit", "pick", "plate_font"]


@dataclass(frozen=True)
class FlatPlate:
    image: npt.NDArray[np.uint8]
    plate: PlateString
    lines: int


R = np.random.Generator
WHITE: Color = (245, 245, 245)
BLACK: Color = (20, 20, 20)
EU_BLUE: Color = (153, 51, 0)
YELLOW: Color = (0, 200, 250)


def jit(rng: R, c: Color, amp: float = 12) -> Color:
    d = rng.uniform(-amp, amp, 3)
    return (min(max(c[0] + d[0], 0.0), 255.0), min(max(c[1] + d[1], 0.0), 255.0), min(max(c[2] + d[2], 0.0), 255.0))


def pick(rng: R, seq):  # type: ignore[no-untyped-def]
    return seq[int(rng.integers(len(seq)))]


def plate_font(rng: R, atlas: Atlas, prefer: tuple[int, ...] | None = None) -> int:
    if prefer and rng.random() < 0.7:
        return int(pick(rng, prefer))
    return int(rng.integers(atlas.n_fonts("plate")))


DEALERS = (
    "BOARDWALK",
    "REDWOOD CITY",
    "NORTH MIAMI",
    "STEVENS CREEK TOYOTA",
    "COLLECTOR",
    "323-796-0800",
    "TOYOTA OF ORANGE",
    "HONDA CITY",
    "MERCEDES-BENZ",
    "AUTO CENTER",
    "FORD",
    "CHEVROLET",
    "AutoNation",
    "CarMax",
    "BMW of Manhattan",
    "KIA MOTORS",
    "NISSAN",
    "Dealer Service",
    "VOLKSWAGEN",
    "OPEL",
)


def holder_frame(cv: Canvas, rng: R) -> None:
    """A plate-holder frame over the plate's edges: a thin rim all around, a band with a dealer name at the
    bottom and sometimes one at the top."""
    col = jit(rng, pick(rng, (BLACK, BLACK, (60, 60, 60), (200, 200, 200))), 10)
    txt: Color = WHITE if col[0] < 128 else BLACK
    cv.border(col, rng.uniform(0.03, 0.07))
    bands = [(1 - rng.uniform(0.1, 0.16), 1.0)]
    if rng.random() < 0.3:
        bands.append((0.0, rng.uniform(0.08, 0.13)))
    for y0, y1 in bands:
        band = y1 - y0
        cv.rect(0, y0, 1, y1, col)
        font = int(rng.integers(cv.atlas.n_fonts("text")))
        cv.text("text", font, str(pick(rng, DEALERS)), txt, (0.15, y0 + band * 0.12, 0.7, band * 0.7), spacing=0.03)
