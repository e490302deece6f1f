"""Synthetic scenes with exact plate corners, for the detector.

Plates from :class:`PlateRenderer` are warped with a random perspective into background photos
(``cv2.warpPerspective``, anti-aliased alpha edges), several per image, many sizes (down to ~12 px high),
not overlapping much; then the whole scene is augmented (colour jitter, blur, noise, JPEG, night).

Coordinates: continuous pixels, pixel (i, j) covers [i, i+1) x [j, j+1) (the convention of the ``x,y,w,h``
boxes of the scenes CSVs); corners are ordered top-left, top-right, bottom-right, bottom-left as seen on the
plate (after a rotation the "top-left" corner is still the plate's own top-left).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from platewise.data.synthetic.augment import augment, blur, jpeg
from platewise.data.synthetic.backgrounds import Background, BackgroundPool, default_backgrounds, real_scene_backgrounds
from platewise.data.synthetic.render import PlateRenderer, random_background
from platewise.errors import InvalidInput
from platewise.types import BBox, ImageBGR

__all__ = ["Scene", "ScenePlate", "SceneSynthesizer", "scene_augment"]


@dataclass(frozen=True)
class ScenePlate:
    """One plate pasted into a scene.

    Attributes:
        corners: 4x2 float32, TL TR BR BL, scene pixels.
        box: the axis-aligned box (min/max of the corners, clipped to the image).
        text: normalized plate text; region: its region.
    """

    corners: npt.NDArray[np.float32]
    box: BBox
    text: str
    region: str


@dataclass(frozen=True)
class Scene:
    image: ImageBGR
    plates: list[ScenePlate] = field(default_factory=list)


def scene_augment(img: ImageBGR, strength: float, rng: np.random.Generator) -> ImageBGR:
    """Scene-level augmentation: colour jitter, night darkening, blur, noise, JPEG (no geometry).

    The per-channel tone changes (gain, contrast, brightness, night gamma and tint) are folded into one
    lookup table, so this stays cheap on full frames.
    """
    s = float(min(max(strength, 0.0), 1.0))
    if s <= 0:
        return img
    x = np.arange(256, dtype=np.float32)[:, None].repeat(3, 1)  # 256 x 3 (B, G, R)
    if rng.random() < 0.8 * s:  # brightness / contrast / per-channel gain
        gain = 1 + rng.uniform(-0.15, 0.15, 3).astype(np.float32) * s
        x = ((x - 128) * (1 + rng.uniform(-0.3, 0.3) * s) + 128 + rng.uniform(-40, 40) * s) * gain
    if rng.random() < 0.2 * s:  # night: gamma darkening, blue tint
        x = (255 * (np.clip(x, 0, 255) / 255) ** rng.uniform(1.8, 3.0)).astype(np.float32)
        x = x * np.array([1.1, 0.95, 0.85], np.float32) * rng.uniform(0.4, 0.8)
    lut = np.clip(x, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    out = np.asarray(cv2.LUT(img, lut), np.uint8)
    if rng.random() < 0.5 * s:  # saturation: blend with the grey image
        grey = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        a = float(rng.uniform(0.3, 1.5))
        out = np.asarray(cv2.addWeighted(out, a, grey, 1 - a, 0), np.uint8)
    if rng.random() < 0.5 * s:  # sensor noise at half resolution (cheap, slightly correlated)
        h, w = out.shape[:2]
        n = rng.standard_normal(((h + 1) // 2, (w + 1) // 2, 3), dtype=np.float32) * (rng.uniform(2, 10) * s)
        n16 = cv2.resize(n.astype(np.int16), (w, h), interpolation=cv2.INTER_NEAREST)
        out = np.asarray(cv2.add(out.astype(np.int16), n16).clip(0, 255), np.uint8)
    if rng.random() < 0.4 * s:
        out = blur(out, 0.3 * s, rng)
    if rng.random() < 0.5 * s:
        out = jpeg(out, int(rng.uniform(35, 95)))
    return out


class SceneSynthesizer:
    """Samples scenes with pasted synthetic plates and their exact corners; deterministic for a seed.

    Args:
        backgrounds: image paths, HxWx3 uint8 BGR arrays, or ``(path_or_array, boxes_to_avoid)`` pairs;
            None = the real negatives plus the training-split real scenes away from their plates
            (:func:`default_backgrounds` + :func:`real_scene_backgrounds`; random textures when absent).
        seed: the random seed.
        renderer: the plate renderer (default: a new :class:`PlateRenderer` seeded from ``seed``).
        strength: scene-level augmentation strength (0 = none).
        min_plate_h: smallest plate height in pixels.
        cache: keep up to this many decoded backgrounds in memory.
        grey_prob: chance of a greyscale scene (grey backgrounds always give grey scenes).
    """

    def __init__(
        self,
        backgrounds: Sequence[Background] | None = None,
        seed: int | None = 0,
        renderer: PlateRenderer | None = None,
        strength: float = 0.5,
        min_plate_h: float = 12.0,
        cache: int = 256,
        grey_prob: float = 0.1,
    ) -> None:
        self.grey_prob = grey_prob
        self.rng = np.random.default_rng(seed)
        self.renderer = renderer or PlateRenderer(seed=None if seed is None else seed + 1)
        if backgrounds is None:
            backgrounds = [*default_backgrounds(), *real_scene_backgrounds()]
        self.pool = BackgroundPool(backgrounds, cache=cache)
        self.strength = strength
        self.min_plate_h = min_plate_h

    def _background(self, width: int, height: int) -> ImageBGR:
        out = self.pool.sample(width, height, self.rng)
        return random_background(height, width, self.rng) if out is None else out

    def _target_corners(self, w_t: float, h_t: float, width: int, height: int) -> npt.NDArray[np.float64]:
        """Random perspective quad (TL TR BR BL) of a plate w_t x h_t, placed inside the image."""
        rng = self.rng
        x = np.array([-w_t / 2, w_t / 2, w_t / 2, -w_t / 2])
        y = np.array([-h_t / 2, -h_t / 2, h_t / 2, h_t / 2])
        yaw = rng.uniform(-0.3, 0.3)  # one side nearer the camera: taller, the other shorter
        y = y * (1 + yaw * np.sign(x))
        x = x * (1 - 0.5 * abs(yaw))
        x = x + rng.uniform(-0.25, 0.25) * h_t * np.sign(-y)  # pitch-like shear of the top edge
        ang = np.deg2rad(float(np.clip(rng.normal(0, 7), -25, 25)))
        c, s = np.cos(ang), np.sin(ang)
        xr, yr = c * x - s * y, s * x + c * y
        q = np.stack([xr, yr], 1) + rng.uniform(-0.04, 0.04, (4, 2)) * h_t
        lo, hi = q.min(0), q.max(0)
        cx = rng.uniform(-lo[0] + 1, width - hi[0] - 1)
        cy = rng.uniform(-lo[1] + 1, height - hi[1] - 1)
        return q + np.array([cx, cy])

    def _paste(self, scene: ImageBGR, plate: ImageBGR, quad: npt.NDArray[np.float64]) -> None:
        """Warp ``plate`` so that its outer corners land on ``quad``; alpha-blend into ``scene`` (in place)."""
        H, W = scene.shape[:2]
        ph, pw = plate.shape[:2]
        x0, y0 = max(int(np.floor(quad[:, 0].min())) - 1, 0), max(int(np.floor(quad[:, 1].min())) - 1, 0)
        x1, y1 = min(int(np.ceil(quad[:, 0].max())) + 1, W), min(int(np.ceil(quad[:, 1].max())) + 1, H)
        if x1 <= x0 or y1 <= y0:
            return
        # pixel-centre coordinates for cv2: the plate spans [-0.5, pw-0.5]; scene corner (x, y) is (x-0.5, y-0.5)
        src = np.array([[-0.5, -0.5], [pw - 0.5, -0.5], [pw - 0.5, ph - 0.5], [-0.5, ph - 0.5]], np.float32)
        dst = (quad - np.array([x0 + 0.5, y0 + 0.5])).astype(np.float32)
        M = cv2.getPerspectiveTransform(src, dst)
        size = (x1 - x0, y1 - y0)
        warped = cv2.warpPerspective(plate, M, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # alpha: the coverage of the plate quad, anti-aliased at its edges (4x supersampled polygon)
        sup = np.zeros((size[1] * 4, size[0] * 4), np.uint8)
        cv2.fillPoly(sup, [np.round((quad - [x0, y0]) * 4 * 16).astype(np.int32)], 255, lineType=cv2.LINE_8, shift=4)
        alpha = cv2.resize(sup, size, interpolation=cv2.INTER_AREA).astype(np.float32)[..., None] * (1 / 255)
        roi = scene[y0:y1, x0:x1].astype(np.float32)
        roi += alpha * (warped.astype(np.float32) - roi)
        scene[y0:y1, x0:x1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)

    def sample(self, width: int = 640, height: int = 640, n_plates: int | None = None) -> Scene:
        """One scene of ``width`` x ``height`` with ``n_plates`` plates (None = random 1..4)."""
        if width < 32 or height < 32:
            raise InvalidInput(f"scene size {width}x{height} is too small (at least 32x32)")
        rng = self.rng
        n = int(rng.integers(1, 5)) if n_plates is None else int(n_plates)
        bg = self._background(width, height)
        # grey photos (many of the negatives) get grey plates too: colour must not give plates away
        grey = (
            rng.random() < self.grey_prob
            or float(np.abs(bg[::4, ::4, 0].astype(np.int16) - bg[::4, ::4, 2]).mean()) < 2.0
        )
        scene = bg.copy()
        plates: list[ScenePlate] = []
        boxes: list[BBox] = []
        max_h = max(self.min_plate_h + 1, min(height * 0.3, width * 0.15))
        for _ in range(n):
            p = self.renderer.render()
            aspect = p.image.shape[1] / p.image.shape[0]
            for _try in range(15):
                h_t = float(np.exp(rng.uniform(np.log(self.min_plate_h), np.log(max_h))))
                w_t = h_t * aspect
                if w_t > 0.8 * width:
                    continue
                quad = self._target_corners(w_t, h_t, width, height)
                box = BBox(*quad.min(0), *quad.max(0))
                if all(box.iou(b) < 0.05 and _overlap(box, b) < 0.15 for b in boxes):
                    break
            else:
                continue
            img = p.image
            tw = max(8, int(round(w_t * 1.3)))
            if tw < img.shape[1]:  # shrink first (area filter) so the warp does not alias
                img = np.asarray(
                    cv2.resize(img, (tw, max(4, round(tw / aspect))), interpolation=cv2.INTER_AREA), np.uint8
                )
            img = augment(img, self.strength * 0.6, rng, geometric=False)
            self._paste(scene, img, quad)
            boxes.append(box)
            plates.append(ScenePlate(quad.astype(np.float32), _clip(box, width, height), p.text, p.region))
        out = scene_augment(scene, self.strength, rng)
        if grey:
            out = np.repeat(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)[..., None], 3, axis=2)
        return Scene(out, plates)


def _overlap(a: BBox, b: BBox) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a.x2, b.x2) - max(a.x1, b.x1))
    iy = max(0.0, min(a.y2, b.y2) - max(a.y1, b.y1))
    small = min(a.width * a.height, b.width * b.height)
    return ix * iy / small if small > 0 else 0.0


def _clip(b: BBox, w: int, h: int) -> BBox:
    return BBox(max(0.0, b.x1), max(0.0, b.y1), min(float(w), b.x2), min(float(h), b.y2))
