"""The glyph atlas: pre-rendered character masks, pasted and scaled with numpy/cv2 (no font at run time).

The atlas (``assets/glyphs.npz``) is built by ``scripts/build_glyph_atlas.py``. It holds three kinds:

- ``plate``: digits, Latin capitals and ``-`` in several plate-like fonts, each a tight ink box
  (all plate characters share one height);
- ``cjk``: the Chinese province/special characters (WQY MicroHei);
- ``text``: mixed-case letters for the small lines (state names, slogans), in a fixed line box.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["Atlas", "GlyphRun", "load_atlas", "draw_run", "layout_run"]

ATLAS_PATH = Path(__file__).parent / "assets" / "glyphs.npz"
KINDS = ("plate", "cjk", "text")
Mask = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Atlas:
    """Masks by kind -> font index -> character."""

    glyphs: dict[str, list[dict[str, Mask]]]
    fonts: dict[str, list[str]]

    def n_fonts(self, kind: str) -> int:
        return len(self.glyphs[kind])

    def get(self, kind: str, font: int, ch: str) -> Mask:
        return self.glyphs[kind][font][ch]


@lru_cache(maxsize=1)
def load_atlas(path: str | None = None) -> Atlas:
    """Load (once) the packaged atlas."""
    with np.load(path or ATLAS_PATH) as z:
        pixels, index = z["pixels"], z["index"]
        fonts = json.loads(bytes(z["fonts"]).decode())
    glyphs: dict[str, list[dict[str, Mask]]] = {k: [{} for _ in fonts[k]] for k in KINDS}
    for kind, font, cp, off, h, w in index.tolist():
        glyphs[KINDS[kind]][font][chr(cp)] = pixels[off : off + h * w].reshape(h, w)
    return Atlas(glyphs, fonts)


@dataclass(frozen=True)
class GlyphRun:
    """A laid-out run of glyphs: masks (already scaled) and their top-left x positions."""

    masks: list[Mask]
    xs: list[int]
    width: int
    height: int
    gaps: tuple[float, ...] = ()  # centre x of each gap item


def layout_run(
    items: list[tuple[Mask, float]],
    height: int,
    spacing: float,
    max_width: int | None = None,
    cell: float | None = None,
) -> GlyphRun:
    """Scale masks to ``height`` rows and place them left to right.

    Args:
        items: (mask, x-stretch) per glyph; a mask of size 0 is a gap whose width is ``x-stretch * height``.
        height: target glyph height in pixels.
        spacing: gap between glyphs as a fraction of ``height``.
        max_width: if the run is wider, every glyph is squeezed horizontally to fit.
        cell: if given, every glyph takes a slot ``cell x height`` wide and is centred in it (fixed pitch).
    """
    height = max(2, int(height))
    widths, inner = [], []
    for m, sx in items:
        if m.size == 0:
            widths.append(sx * height)
            inner.append(sx * height)
        else:
            w = m.shape[1] * height / m.shape[0] * sx
            inner.append(min(w, cell * height) if cell is not None else w)
            widths.append(cell * height if cell is not None else w)
    gap = spacing * height
    total = sum(widths) + gap * max(0, len(items) - 1)
    squeeze = 1.0
    if max_width is not None and total > max_width:
        squeeze = max_width / total
    masks: list[Mask] = []
    xs: list[int] = []
    gaps: list[float] = []
    x = 0.0
    for (m, _), w, wi in zip(items, widths, inner, strict=False):
        ww = max(1, int(round(wi * squeeze)))
        if m.size:
            interp = cv2.INTER_AREA if ww < m.shape[1] else cv2.INTER_LINEAR
            masks.append(np.asarray(cv2.resize(m, (ww, height), interpolation=interp), np.uint8))
            xs.append(int(round(x + (w - wi) * squeeze / 2)))
        else:
            gaps.append(x + w * squeeze / 2)
        x += w * squeeze + gap * squeeze
    width = int(round(x - gap * squeeze)) if items else 0
    return GlyphRun(masks, xs, max(width, 1), height, tuple(gaps))


def draw_run(alpha: npt.NDArray[np.float32], run: GlyphRun, x0: int, y0: int, bold: int = 0) -> None:
    """Max-composite the run's masks into ``alpha`` (HxW float32 in [0, 1]) at (x0, y0), clipped.

    ``bold`` > 0 dilates each mask by that many pixels (heavier strokes).
    """
    H, W = alpha.shape
    kernel = np.ones((bold + 1, bold + 1), np.uint8) if bold > 0 else None
    for m, dx in zip(run.masks, run.xs, strict=False):
        if kernel is not None:
            m = np.asarray(cv2.dilate(m, kernel), np.uint8)
        x, y = x0 + dx, y0
        h, w = m.shape
        xa, ya, xb, yb = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
        if xa >= xb or ya >= yb:
            continue
        sub = m[ya - y : yb - y, xa - x : xb - x].astype(np.float32) * (1.0 / 255.0)
        np.maximum(alpha[ya:yb, xa:xb], sub, out=alpha[ya:yb, xa:xb])
