"""The synthetic plate renderer: flat plates per style, and training-ready crops around them."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from platewise.data.synthetic.augment import augment
from platewise.data.synthetic.glyphs import load_atlas
from platewise.data.synthetic.styles import STYLES
from platewise.errors import InvalidInput
from platewise.types import ImageBGR

__all__ = ["STYLE_NAMES", "PlateRenderer", "RenderedPlate", "random_background"]

STYLE_NAMES = tuple(STYLES)
# Mix used when no style is given: roughly the share of the real data each style must cover.
STYLE_WEIGHTS = {"us": 0.3, "eu": 0.2, "br": 0.2, "ar": 0.1, "cn": 0.2}


@dataclass(frozen=True)
class RenderedPlate:
    """One flat (un-augmented) plate.

    Attributes:
        image: HxWx3 uint8 BGR, the plate itself edge to edge.
        text: normalized plate text (the label).
        region: ``us-ca``, ``eu-de``, ``br``, ``ar``, ``cn`` ...
        lines: 1 or 2 text lines.
        style: the style that drew it (``us`` ... ``cn``).
    """

    image: ImageBGR
    text: str
    region: str
    lines: int
    style: str


def random_background(h: int, w: int, rng: np.random.Generator) -> ImageBGR:
    """A car-body-like texture: a flat or graded colour with some low-frequency shading and noise."""
    base = rng.integers(0, 256, 3).astype(np.float32)
    if rng.random() < 0.5:  # greys and dark colours are the common car colours
        base = np.full(3, rng.uniform(10, 230), np.float32) + rng.uniform(-10, 10, 3).astype(np.float32)
    small = rng.uniform(-45, 45, (3, 3)).astype(np.float32)[..., None] + base
    img = cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:  # a few grille / bumper lines
        for _ in range(int(rng.integers(1, 5))):
            y = int(rng.integers(0, h))
            cv2.line(
                img,
                (0, y),
                (w, y + int(rng.integers(-3, 4))),
                tuple(int(v) for v in rng.integers(0, 256, 3)),
                int(rng.integers(1, 4)),
            )
    return img


class PlateRenderer:
    """Renders synthetic plates; deterministic for a seed.

    Args:
        seed: seed of the renderer's random generator.
        backgrounds: optional HxWx3 uint8 images to cut crop margins from (else random textures).
        min_width, max_width: plate width range in pixels (drawn log-uniformly).
    """

    def __init__(
        self,
        seed: int | None = 0,
        backgrounds: list[ImageBGR] | None = None,
        min_width: int = 90,
        max_width: int = 320,
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.atlas = load_atlas()
        self.backgrounds = list(backgrounds or [])
        self.min_width, self.max_width = min_width, max_width

    def _style(self, style: str | None) -> str:
        if style is None or style == "all":
            names = list(STYLE_WEIGHTS)
            p = np.asarray([STYLE_WEIGHTS[n] for n in names])
            return names[int(self.rng.choice(len(names), p=p / p.sum()))]
        if style not in STYLES:
            raise InvalidInput(f"unknown plate style {style!r}; use one of {', '.join(STYLE_NAMES)} or all")
        return style

    def render(self, style: str | None = None, width: int | None = None) -> RenderedPlate:
        """One flat plate of ``style`` (None = random mix), ``width`` pixels wide (None = random)."""
        name = self._style(style)
        if width is None:
            width = int(np.exp(self.rng.uniform(np.log(self.min_width), np.log(self.max_width))))
        elif not 16 <= width <= 4096:
            raise InvalidInput(f"plate width {width} is out of range; use 16..4096 pixels")
        flat = STYLES[name](self.rng, self.atlas, int(width))
        return RenderedPlate(flat.image, flat.plate.text, flat.plate.region, flat.lines, name)

    def render_crop(
        self, style: str | None = None, strength: float = 0.5, width: int | None = None
    ) -> tuple[ImageBGR, str, str]:
        """A training-ready crop: the plate, a small random margin of background, augmented.

        Returns:
            (image HxWx3 uint8 BGR at its natural size, plate text, region).
        """
        p = self.render(style, width)
        # Chinese crops in the wild (e.g. LPRNet's data) are mostly cut inside the plate's border
        tight = 0.5 if p.region.startswith("cn") else 0.1
        return self.crop_around(p.image, strength, tight=tight), p.text, p.region

    def crop_around(self, plate: ImageBGR, strength: float, tight: float = 0.0) -> ImageBGR:
        """Put ``plate`` on a background with a random margin (like a real detector crop) and augment it.

        With probability ``tight`` the crop is instead cut just inside the plate's edge (up to 3% of the width
        and 10% of the height off each side: the border goes, the characters stay)."""
        rng = self.rng
        h, w = plate.shape[:2]
        if tight and rng.random() < tight:
            cx = (rng.uniform(0.0, 0.03, 2) * w).round().astype(int)
            cy = (rng.uniform(0.0, 0.1, 2) * h).round().astype(int)
            return augment(np.ascontiguousarray(plate[cy[0] : h - cy[1], cx[0] : w - cx[1]]), strength, rng)
        mx = rng.uniform(0.0, 0.12, 2) * w
        my = rng.uniform(0.0, 0.25, 2) * h
        left, right, t, b = (int(round(v)) for v in (mx[0], mx[1], my[0], my[1]))
        H, W = h + t + b, w + left + right
        canvas = self._background(H, W)
        canvas[t : t + h, left : left + w] = plate
        return augment(canvas, strength, rng)

    def _background(self, h: int, w: int) -> npt.NDArray[np.uint8]:
        rng = self.rng
        if self.backgrounds and rng.random() < 0.7:
            bg = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
            bh, bw = bg.shape[:2]
            if bh > h and bw > w:
                y, x = int(rng.integers(0, bh - h)), int(rng.integers(0, bw - w))
                return bg[y : y + h, x : x + w].copy()
            return np.asarray(cv2.resize(bg, (w, h)), np.uint8)
        return random_background(h, w, rng)
