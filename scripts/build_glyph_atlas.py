"""Build the glyph atlas shipped with the synthetic plate renderer.

Rasterizes every plate character once per font (Pillow + Debian TrueType fonts) into anti-aliased uint8
masks and writes them to ``src/platewise/data/synthetic/assets/glyphs.npz``. The renderer only pastes and
scales these masks, so it needs no font at run time.

Fonts (Debian packages ``fonts-dejavu-core``, ``fonts-liberation``, ``fonts-freefont-ttf``,
``fonts-wqy-microhei``) are listed in :data:`PLATE_FONTS`, :data:`CJK_FONTS` and :data:`TEXT_FONTS`.

Usage: ``python scripts/build_glyph_atlas.py [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from platewise.plates.alphabet import CN_PROVINCES, CN_SPECIAL, DIGITS, LETTERS  # noqa: E402

T = "/usr/share/fonts/truetype"
PLATE_FONTS = [
    f"{T}/dejavu/DejaVuSansCondensed-Bold.ttf",
    f"{T}/dejavu/DejaVuSans-Bold.ttf",
    f"{T}/liberation/LiberationSansNarrow-Bold.ttf",
    f"{T}/liberation/LiberationSansNarrow-Regular.ttf",
    f"{T}/liberation/LiberationSans-Bold.ttf",
    f"{T}/liberation/LiberationMono-Bold.ttf",
    f"{T}/freefont/FreeSansBold.ttf",
    f"{T}/dejavu/DejaVuSansMono-Bold.ttf",
    f"{T}/freefont/FreeMonoBold.ttf",
    f"{T}/dejavu/DejaVuSansCondensed.ttf",
    f"{T}/liberation/LiberationSans-Regular.ttf",
    f"{T}/freefont/FreeSans.ttf",
]
CJK_FONTS = [(f"{T}/wqy/wqy-microhei.ttc", 0), (f"{T}/wqy/wqy-microhei.ttc", 1)]
TEXT_FONTS = [
    f"{T}/dejavu/DejaVuSans-Bold.ttf",
    f"{T}/liberation/LiberationSerif-BoldItalic.ttf",
    f"{T}/liberation/LiberationSans-Regular.ttf",
    f"{T}/freefont/FreeSerifBoldItalic.ttf",
]
PLATE_CHARS = DIGITS + LETTERS + "-"
CJK_CHARS = CN_PROVINCES + CN_SPECIAL
TEXT_CHARS = DIGITS + LETTERS + LETTERS.lower() + " .-'&!"
GLYPH_H = 48  # plate glyph height (ink box)
TEXT_H = 32  # small-text line height (ascent + descent box)


def _ink_mask(font: ImageFont.FreeTypeFont, ch: str, size: int) -> np.ndarray:
    img = Image.new("L", (size * 3, size * 3), 0)
    ImageDraw.Draw(img).text((size, size // 2), ch, fill=255, font=font)
    a = np.asarray(img)
    ys, xs = np.nonzero(a > 8)
    return a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _resize_h(a: np.ndarray, h: int) -> np.ndarray:
    w = max(1, round(a.shape[1] * h / a.shape[0]))
    return np.asarray(Image.fromarray(a).resize((w, h), Image.LANCZOS))


def plate_glyph(font: ImageFont.FreeTypeFont, ch: str) -> np.ndarray:
    """Tight ink box of ``ch`` scaled to GLYPH_H rows (plate characters share one height)."""
    if ch == "-":  # a hyphen keeps its own proportions inside a full-height box
        m = _ink_mask(font, "H", 96)
        h = _ink_mask(font, "-", 96)
        out = np.zeros((m.shape[0], max(h.shape[1], 4)), np.uint8)
        y0 = (m.shape[0] - h.shape[0]) // 2
        out[y0 : y0 + h.shape[0], : h.shape[1]] = h
        return _resize_h(out, GLYPH_H)
    return _resize_h(_ink_mask(font, ch, 96), GLYPH_H)


def text_glyph(font: ImageFont.FreeTypeFont, ch: str) -> np.ndarray:
    """``ch`` in a fixed line box (ascent to descent) of TEXT_H rows, width = advance."""
    asc, desc = font.getmetrics()
    adv = max(1, int(round(font.getlength(ch))))
    img = Image.new("L", (adv + 4, asc + desc), 0)
    ImageDraw.Draw(img).text((0, 0), ch, fill=255, font=font)
    a = np.asarray(img)[:, :adv]
    return _resize_h(a, TEXT_H)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "src/platewise/data/synthetic/assets/glyphs.npz"))
    args = ap.parse_args()
    pixels: list[np.ndarray] = []
    index: list[tuple[int, int, int, int, int, int]] = []  # kind, font, codepoint, offset, h, w
    offset = 0

    def add(kind: int, font_id: int, ch: str, m: np.ndarray) -> None:
        nonlocal offset
        pixels.append(m.reshape(-1))
        index.append((kind, font_id, ord(ch), offset, m.shape[0], m.shape[1]))
        offset += m.size

    names: dict[str, list[str]] = {"plate": [], "cjk": [], "text": []}
    for i, path in enumerate(PLATE_FONTS):
        f = ImageFont.truetype(path, 96)
        names["plate"].append(Path(path).name)
        for ch in PLATE_CHARS:
            add(0, i, ch, plate_glyph(f, ch))
    for i, (path, idx) in enumerate(CJK_FONTS):
        f = ImageFont.truetype(path, 96, index=idx)
        names["cjk"].append(f"{Path(path).name}#{idx}")
        for ch in CJK_CHARS:
            add(1, i, ch, plate_glyph(f, ch))
    for i, path in enumerate(TEXT_FONTS):
        f = ImageFont.truetype(path, 64)
        names["text"].append(Path(path).name)
        for ch in TEXT_CHARS:
            add(2, i, ch, text_glyph(f, ch))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        pixels=np.concatenate(pixels).astype(np.uint8),
        index=np.asarray(index, dtype=np.int64),
        fonts=np.frombuffer(json.dumps(names).encode(), dtype=np.uint8),
    )
    print(f"{out}: {len(index)} glyphs, {out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
