"""Photometric and geometric augmentation of plate crops with one strength knob.

``augment(image, strength, rng)``: ``strength`` 0 is the identity, 1 heavy. Every operation is drawn with a
probability and a magnitude that grow with the strength: perspective + rotation, lighting (brightness,
contrast, gamma, colour cast), over/under exposure, shadows, dirt, partial occlusion, blur (gaussian or
motion), noise, JPEG, and monochrome/colour-cast cameras.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from platewise.errors import InvalidInput
from platewise.types import ImageBGR

__all__ = ["augment", "perspective", "blur", "jpeg", "noise"]

F32 = npt.NDArray[np.float32]


@lru_cache(maxsize=1)
def _noise_bank() -> F32:
    return np.random.default_rng(1234).standard_normal((384, 640, 3)).astype(np.float32)


def noise(img: F32, sigma: float, rng: np.random.Generator) -> F32:
    """Add gaussian noise (std ``sigma``) from a pre-drawn bank at a random offset (fast)."""
    bank = _noise_bank()
    h, w = img.shape[:2]
    if h > bank.shape[0] or w > bank.shape[1]:
        n = rng.standard_normal(img.shape, dtype=np.float32)
    else:
        y, x = int(rng.integers(0, bank.shape[0] - h + 1)), int(rng.integers(0, bank.shape[1] - w + 1))
        n = bank[y : y + h, x : x + w]
        if rng.random() < 0.5:
            n = n[:, :, ::-1]
    return img + n * sigma


def perspective(img: ImageBGR, s: float, rng: np.random.Generator) -> ImageBGR:
    """Random corner jitter (up to ``0.08 s`` of the size) and rotation (up to ``6 s`` degrees).

    The warped image is scaled to fit inside the frame, so no part of the input (the plate's characters)
    is cut off; uncovered borders repeat the edge pixels.
    """
    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    jit = rng.uniform(-0.08 * s, 0.08 * s, (4, 2)).astype(np.float32) * np.array([w, h], np.float32)
    ang = np.deg2rad(rng.uniform(-6, 6) * s)
    c, sn = np.cos(ang), np.sin(ang)
    rot = np.array([[c, -sn], [sn, c]], np.float32)
    ctr = np.array([w / 2, h / 2], np.float32)
    dst = (src + jit - ctr) @ rot.T
    lo, hi = dst.min(0), dst.max(0)
    fit = min(1.0, w / float(hi[0] - lo[0]), h / float(hi[1] - lo[1]))
    dst = ((dst - (lo + hi) / 2) * fit + ctr).astype(np.float32)
    M = cv2.getPerspectiveTransform(src, dst)
    flags = cv2.INTER_LINEAR
    return np.asarray(cv2.warpPerspective(img, M, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE), np.uint8)


def blur(img: ImageBGR, s: float, rng: np.random.Generator) -> ImageBGR:
    """Gaussian or motion blur scaled to the image height."""
    h = img.shape[0]
    scale = max(0.5, h / 60)
    if rng.random() < 0.6:
        sigma = rng.uniform(0.3, 1.3) * s * scale
        out = np.asarray(cv2.GaussianBlur(img, (0, 0), sigmaX=max(sigma, 0.1)), np.uint8)
        return out
    k = max(3, int(round(rng.uniform(2, 7) * s * scale)) | 1)
    kern = np.zeros((k, k), np.float32)
    kern[k // 2, :] = 1.0 / k
    R = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
    kern = np.asarray(cv2.warpAffine(kern, R, (k, k)), np.float32)
    kern /= max(kern.sum(), 1e-6)
    res = np.asarray(cv2.filter2D(img, -1, kern), np.uint8)
    return res


def jpeg(img: ImageBGR, quality: int) -> ImageBGR:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    dec = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    return img if dec is None else np.asarray(dec, np.uint8)


def _lighting(f: F32, s: float, rng: np.random.Generator) -> F32:
    contrast = 1 + rng.uniform(-0.45, 0.3) * s
    bright = rng.uniform(-50, 40) * s
    cast = rng.uniform(-18, 18, 3).astype(np.float32) * s
    f = (f - 128) * contrast + 128 + bright + cast
    if rng.random() < 0.5:  # a linear light gradient across the crop
        h, w = f.shape[:2]
        g = np.linspace(-1, 1, w, dtype=np.float32)[None, :, None] * rng.uniform(-40, 40) * s
        f = f + g
    return f


def _mono_tint(f: F32, rng: np.random.Generator) -> F32:
    """A monochrome camera with a colour cast (infrared / night cameras: green, amber, blue, plain grey)."""
    grey = f @ np.array([0.114, 0.587, 0.299], np.float32)
    tint = np.array(
        [(1.0, 1.0, 1.0), (0.8, 1.1, 0.75), (0.6, 0.9, 1.1), (1.1, 0.95, 0.8)][int(rng.integers(4))], np.float32
    )
    return grey[..., None] * tint


def _exposure(f: F32, s: float, rng: np.random.Generator) -> F32:
    if rng.random() < 0.5:
        return f * (1 + rng.uniform(0.2, 0.9) * s)  # over-exposed, clipped later
    return f * (1 - rng.uniform(0.2, 0.6) * s)


def _shadow(f: F32, s: float, rng: np.random.Generator) -> F32:
    h, w = f.shape[:2]
    mask = np.zeros((h, w), np.float32)
    pts = rng.uniform([-0.2 * w, -0.2 * h], [1.2 * w, 1.2 * h], (int(rng.integers(3, 6)), 2)).astype(np.int32)
    cv2.fillPoly(mask, [cv2.convexHull(pts)], 1.0)
    k = max(1, int(0.05 * min(h, w))) * 2 + 1
    mask = np.asarray(cv2.GaussianBlur(mask, (k, k), 0), np.float32)
    return f * (1 - mask[..., None] * rng.uniform(0.2, 0.6) * s)


def _dirt(f: F32, s: float, rng: np.random.Generator) -> F32:
    h, w = f.shape[:2]
    small = rng.uniform(0, 1, (max(2, h // 12), max(2, w // 12))).astype(np.float32)
    m = np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), np.float32)
    m = np.clip((m - rng.uniform(0.5, 0.8)) * 3, 0, 1) * rng.uniform(0.3, 0.8) * s
    dirt = np.array([40, 60, 80], np.float32) + rng.uniform(-20, 20)
    return f * (1 - m[..., None]) + dirt * m[..., None]


def _occlude(f: F32, s: float, rng: np.random.Generator) -> F32:
    """A bar or blob over an edge of the crop (a frame, a tow hook, a leaf): at most ~12% of the width."""
    h, w = f.shape[:2]
    col = rng.uniform(0, 255, 3).astype(np.float32)
    if rng.random() < 0.5:  # vertical bar at the left or right edge
        bw = max(1, int(rng.uniform(0.03, 0.12) * s * w))
        x0 = 0 if rng.random() < 0.5 else w - bw
        f[:, x0 : x0 + bw] = col
    else:  # horizontal band over the top or bottom edge
        bh = max(1, int(rng.uniform(0.05, 0.18) * s * h))
        y0 = 0 if rng.random() < 0.5 else h - bh
        f[y0 : y0 + bh, :] = col
    return f


def augment(image: ImageBGR, strength: float, rng: np.random.Generator, geometric: bool = True) -> ImageBGR:
    """Augment an HxWx3 uint8 BGR crop; returns a new HxWx3 uint8 array of the same size.

    Args:
        image: the crop.
        strength: 0 (identity) .. 1 (heavy); values above 1 are clipped.
        rng: the random generator (determinism).
        geometric: False skips the perspective/rotation warp (pixels stay where they are).
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InvalidInput(f"augment needs an HxWx3 uint8 image, got {image.dtype} {image.shape}")
    s = float(min(max(strength, 0.0), 1.0))
    if s <= 0:
        return image.copy()
    img = image
    if rng.random() < min(1.0, 1.4 * s) and geometric:
        img = perspective(img, s, rng)
    f = img.astype(np.float32)
    if rng.random() < min(1.0, 1.4 * s):
        f = _lighting(f, s, rng)
    if rng.random() < 0.15 * s:
        f = _mono_tint(f, rng)
    if rng.random() < 0.25 * s:
        f = _exposure(f, s, rng)
    if rng.random() < 0.35 * s:
        f = _shadow(f, s, rng)
    if rng.random() < 0.25 * s:
        f = _dirt(f, s, rng)
    if rng.random() < 0.12 * s:
        f = _occlude(f, s, rng)
    if rng.random() < 0.6 * s:
        f = noise(f, rng.uniform(2, 14) * s, rng)
    img = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.7 * s:
        img = blur(img, s, rng)
    if rng.random() < 0.6 * s:
        img = jpeg(img, int(95 - rng.uniform(0, 70) * s))
    return img
