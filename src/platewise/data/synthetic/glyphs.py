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
    """A laid-out run of glyphs as one mask (``height`` x ``width`` uint8) and the centres of its gaps."""

    mask: Mask
    width: int
    height: int
    gaps: tuple[float, ...] = ()  # centre x of each gap item, in output pixels


def layout_run(
    items: list[tuple[Mask, float]],
    height: int,
    spacing: float,
    max_width: int | None = None,
    cell: float | None = None,
    stretch: float = 1.0,
) -> GlyphRun:
    """Place glyph masks left to right at their native (atlas) height, then scale the run once.

    Args:
        items: (mask, gap) per item; a mask of size 0 is a gap ``gap x height`` wide (the gap value of a
            glyph item is ignored).
        height: output glyph height in pixels.
        spacing: space between items as a fraction of ``height``.
        max_width: if the run is wider, it is squeezed horizontally to fit.
        cell: if given, every glyph takes a slot ``cell x height`` wide and is centred in it (fixed pitch).
        stretch: horizontal scale of the glyphs (< 1 condensed).
    """
    height = max(2, int(height))
    glyph_h = [m.shape[0] for m, _ in items if m.size]
    H0 = max(glyph_h) if glyph_h else height
    unit = H0 / stretch  # native pixels per "height" of horizontal distance, before stretching
    pieces: list[tuple[Mask | None, float, float]] = []  # (mask, slot width, x offset in slot)
    for m, g in items:
        if m.size == 0:
            pieces.append((None, g * unit, 0.0))
            continue
        if m.shape[0] != H0:
            m = np.asarray(cv2.resize(m, (max(1, round(m.shape[1] * H0 / m.shape[0])), H0)), np.uint8)
        if cell is not None:
            slot = cell * unit
            if m.shape[1] > slot:
                m = np.asarray(cv2.resize(m, (max(1, int(slot)), H0), interpolation=cv2.INTER_AREA), np.uint8)
            pieces.append((m, slot, (slot - m.shape[1]) / 2))
        else:
            pieces.append((m, float(m.shape[1]), 0.0))
    gap = spacing * unit
    total = sum(p[1] for p in pieces) + gap * max(0, len(pieces) - 1)
    canvas = np.zeros((H0, int(np.ceil(total)) + 2), np.uint8)
    gaps: list[float] = []
    x = 0.0
    for pm, slot, off in pieces:
        if pm is None:
            gaps.append(x + slot / 2)
        else:
            xi = int(round(x + off))
            sub = canvas[:, xi : xi + pm.shape[1]]
            np.maximum(sub, pm[:, : sub.shape[1]], out=sub)
        x += slot + gap
    out_w = max(total, 1.0) * (height / H0) * stretch
    if max_width is not None and out_w > max_width:
        out_w = float(max_width)
    ow = max(1, int(round(out_w)))
    src = canvas[:, : max(1, int(np.ceil(total)))]
    interp = cv2.INTER_AREA if ow < src.shape[1] else cv2.INTER_LINEAR
    mask = np.asarray(cv2.resize(src, (ow, height), interpolation=interp), np.uint8)
    scale = ow / max(src.shape[1], 1)
    return GlyphRun(mask, ow, height, tuple(g * scale for g in gaps))


def draw_run(alpha: npt.NDArray[np.float32], run: GlyphRun, x0: int, y0: int, bold: int = 0) -> None:
    """Max-composite the run's mask into ``alpha`` (HxW float32 in [0, 1]) at (x0, y0), clipped.

    ``bold`` > 0 dilates the mask by that many pixels (heavier strokes).
    """
    H, W = alpha.shape
    m = run.mask
    if bold > 0:
        m = np.asarray(cv2.dilate(m, np.ones((bold + 1, bold + 1), np.uint8)), np.uint8)
    h, w = m.shape
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
    if xa >= xb or ya >= yb:
        return
    sub = m[ya - y0 : yb - y0, xa - x0 : xb - x0].astype(np.float32) * (1.0 / 255.0)
    np.maximum(alpha[ya:yb, xa:xb], sub, out=alpha[ya:yb, xa:xb])
