"""A small drawing surface for flat plates: fills, bands, borders, bolts, stickers and glyph text."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from platewise.data.synthetic.glyphs import Atlas, draw_run, layout_run

__all__ = ["Canvas"]

Color = tuple[float, float, float]


class Canvas:
    """An HxWx3 float32 BGR image in [0, 255] with drawing helpers; ``to_uint8`` finishes it."""

    def __init__(self, w: int, h: int, color: Color, atlas: Atlas, rng: np.random.Generator) -> None:
        self.w, self.h = int(w), int(h)
        self.img = np.empty((self.h, self.w, 3), np.float32)
        self.img[:] = color
        self.atlas = atlas
        self.rng = rng

    def vgradient(self, top: Color, bottom: Color, y0: float = 0.0, y1: float = 1.0) -> None:
        t = np.clip((np.arange(self.h, dtype=np.float32) / max(self.h - 1, 1) - y0) / max(y1 - y0, 1e-3), 0, 1)
        self.img[:] = (
            np.asarray(top, np.float32) * (1 - t[:, None, None]) + np.asarray(bottom, np.float32) * t[:, None, None]
        )

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: Color) -> None:
        """Fill a rectangle given in fractions of the plate size."""
        xa, xb = int(round(x0 * self.w)), int(round(x1 * self.w))
        ya, yb = int(round(y0 * self.h)), int(round(y1 * self.h))
        self.img[max(ya, 0) : yb, max(xa, 0) : xb] = color

    def border(self, color: Color, thickness: float, inset: float = 0.0) -> None:
        """A frame ``thickness`` (fraction of height) wide, ``inset`` (fraction of height) from the edge."""
        t = max(1, int(round(thickness * self.h)))
        i = int(round(inset * self.h))
        cv2.rectangle(
            self.img,
            (i + t // 2, i + t // 2),
            (self.w - 1 - i - t // 2, self.h - 1 - i - t // 2),
            color,
            t,
            lineType=cv2.LINE_AA,
        )

    def blobs(self, base: Color, n: int, amp: float) -> None:
        """Soft low-contrast shapes behind the text (scenery on US plates)."""
        for _ in range(n):
            d = self.rng.uniform(-amp, amp, 3)
            col = tuple(min(max(float(c + dc), 0.0), 255.0) for c, dc in zip(base, d, strict=True))
            cx, cy = int(self.rng.uniform(0, self.w)), int(self.rng.uniform(0.3, 1.2) * self.h)
            ax, ay = int(self.rng.uniform(0.2, 0.7) * self.w), int(self.rng.uniform(0.1, 0.4) * self.h)
            cv2.ellipse(self.img, (cx, cy), (ax, ay), 0, 180, 360, col, -1, lineType=cv2.LINE_AA)

    def scenery(self, color: Color, kind: str) -> None:
        """Background art: ``mountains`` (a jagged ridge), ``waves`` (a sine band) or ``sun`` (a disc)."""
        rng, w, h = self.rng, self.w, self.h
        if kind == "mountains":
            n = int(rng.integers(4, 9))
            xs = np.linspace(-0.05, 1.05, n) * w
            ys = (rng.uniform(0.35, 0.75, n)) * h
            pts = np.array([[0, h], *zip(xs, ys, strict=True), [w, h]], np.int32)
            cv2.fillPoly(self.img, [pts], color, lineType=cv2.LINE_AA)
        elif kind == "waves":
            x = np.arange(0, w + 4, 4, dtype=np.float32)
            y0, amp = rng.uniform(0.55, 0.85) * h, rng.uniform(0.03, 0.1) * h
            y = y0 + amp * np.sin(x / w * rng.uniform(4, 12) + rng.uniform(0, 6.3))
            pts = np.array([[0, h], *zip(x, y, strict=True), [w, h]], np.int32)
            cv2.fillPoly(self.img, [pts], color, lineType=cv2.LINE_AA)
        else:
            c = (int(rng.uniform(0.1, 0.9) * w), int(rng.uniform(0.2, 0.6) * h))
            cv2.circle(self.img, c, int(rng.uniform(0.15, 0.35) * h), color, -1, lineType=cv2.LINE_AA)

    def bolts(self, y: float, xs: tuple[float, ...], color: Color = (150, 150, 150)) -> None:
        r = max(1, int(round(0.035 * self.h)))
        for x in xs:
            c = (int(x * self.w), int(y * self.h))
            cv2.circle(self.img, c, r, color, -1, lineType=cv2.LINE_AA)
            cv2.circle(self.img, c, max(1, r // 2), tuple(v * 0.6 for v in color), -1, lineType=cv2.LINE_AA)

    def sticker(self, x: float, y: float, w: float, h: float, label: str | None = None) -> None:
        """A registration sticker (fractions of the plate size) with a number or ``label`` on it."""
        c = self.rng.integers(30, 250, 3)
        col: Color = (float(c[0]), float(c[1]), float(c[2]))
        self.rect(x, y, x + w, y + h, col)
        if label is None and self.rng.random() < 0.6:
            label = str(self.rng.integers(10, 99))
        if label is not None:
            dark: Color = (col[0] * 0.3, col[1] * 0.3, col[2] * 0.3)
            font = int(self.rng.integers(self.atlas.n_fonts("text")))
            self.text("text", font, label, dark, (x + 0.1 * w, y + 0.2 * h, w * 0.8, h * 0.6))

    def stars(self, cx: float, cy: float, r: float, color: Color = (0, 204, 255)) -> None:
        """The EU ring of 12 stars (drawn as dots); ``r`` is a fraction of the height."""
        rr = max(1, int(round(0.2 * r * self.h)))
        for k in range(12):
            a = 2 * np.pi * k / 12
            p = (int((cx + r * np.cos(a) * self.h / self.w) * self.w), int((cy + r * np.sin(a)) * self.h))
            cv2.circle(self.img, p, rr, color, -1, lineType=cv2.LINE_AA)

    def text(
        self,
        kind: str,
        font: int,
        groups: str | tuple[str, ...],
        color: Color,
        box: tuple[float, float, float, float],
        spacing: float = 0.08,
        group_gap: float = 0.35,
        sep: str = " ",
        bold: int = 0,
        stretch: float = 1.0,
        cell: float | None = None,
        align: str = "center",
    ) -> tuple[float, float, tuple[float, ...]]:
        """Draw text (a string or display groups) inside ``box`` = (x, y, w, h) in plate fractions.

        The glyph height is the box height; the run is squeezed to the box width. ``sep`` ``-`` draws a
        hyphen between groups, ``" "`` a gap of ``group_gap`` x height. ``cell`` gives every glyph a fixed
        cell width (fraction of height, Chinese plates). Returns the run's x0, x1 and the centres of its
        gaps, in plate-width fractions.
        """
        if isinstance(groups, str):
            groups = (groups,)
        bx, by, bw, bh = box[0] * self.w, box[1] * self.h, box[2] * self.w, box[3] * self.h
        hpx = max(2, int(round(bh)))
        atlas = self.atlas
        items: list[tuple[npt.NDArray[np.uint8], float]] = []
        empty = np.zeros((0, 0), np.uint8)
        for gi, g in enumerate(groups):
            if gi:
                if sep == "-":
                    items.append((atlas.get("plate" if kind != "text" else "text", font, "-"), 0.0))
                else:
                    items.append((empty, group_gap))
            for ch in g:
                if ch == " ":
                    items.append((empty, group_gap))
                    continue
                if kind == "text":
                    m = atlas.glyphs["text"][font].get(ch)
                elif "\u4e00" <= ch <= "\u9fff":
                    m = atlas.get("cjk", int(self.rng.integers(atlas.n_fonts("cjk"))), ch)
                else:
                    m = atlas.get(kind, font, ch)
                if m is None:
                    continue
                items.append((m, 0.0))
        run = layout_run(items, hpx, spacing, max_width=int(bw), cell=cell, stretch=stretch)
        x0 = int(round(bx)) if align == "left" else int(round(bx + (bw - run.width) / 2))
        y0 = int(round(by))
        # work on the text's own rectangle only
        xa, xb = max(x0 - 2, 0), min(x0 + run.width + 2 + bold, self.w)
        ya, yb = max(y0 - 1, 0), min(y0 + run.height + 1 + bold, self.h)
        if xa >= xb or ya >= yb:
            return x0 / self.w, (x0 + run.width) / self.w, ()
        alpha = np.zeros((yb - ya, xb - xa), np.float32)
        draw_run(alpha, run, x0 - xa, y0 - ya, bold=bold)
        if sep == "·":  # a raised dot between groups (Chinese and old Brazilian plates)
            r = max(1.0, 0.055 * bh)
            for gx in run.gaps:
                cv2.circle(
                    alpha,
                    (int(round(x0 - xa + gx)), int(round(by - ya + bh * 0.5))),
                    int(round(r)),
                    1.0,
                    -1,
                    lineType=cv2.LINE_AA,
                )
        a = alpha[..., None]
        sub = self.img[ya:yb, xa:xb]
        sub += a * (np.asarray(color, np.float32) - sub)
        return x0 / self.w, (x0 + run.width) / self.w, tuple((x0 + g) / self.w for g in run.gaps)

    def seal(self, cx: float, cy: float, r: float, color: Color) -> None:
        """A round sticker centred at (cx, cy) (fractions), radius ``r`` x height."""
        cv2.circle(
            self.img, (int(cx * self.w), int(cy * self.h)), max(1, int(r * self.h)), color, -1, lineType=cv2.LINE_AA
        )

    def to_uint8(self) -> npt.NDArray[np.uint8]:
        return np.clip(self.img, 0, 255).astype(np.uint8)
