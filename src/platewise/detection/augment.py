"""Training augmentations for detector samples (numpy + OpenCV).

A sample is an HxWx3 BGR uint8 image with ``boxes`` (N,4) xyxy, ``corners`` (N,4,2) TL,TR,BR,BL and
``has_corners`` (N,) bool (False for real boxes, whose corners are only the box's and are never trained on).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from platewise.detection.preprocess import PAD_VALUE

__all__ = ["affine_crop", "crop_matrix", "hflip", "move_boxes", "photometric"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


def crop_matrix(out_size: int, scale: float, center: tuple[float, float], angle_deg: float = 0.0) -> F32:
    """The 2x3 affine of :func:`affine_crop`: scale by ``scale`` and rotate by ``angle_deg`` about ``center``
    (source pixels), which lands in the middle of an ``out_size`` square."""
    m = cv2.getRotationMatrix2D(center, angle_deg, scale)
    m[:, 2] += np.array([out_size / 2 - center[0], out_size / 2 - center[1]])
    return m.astype(np.float32)


def move_boxes(
    m: F32,
    boxes: F32,
    corners: F32,
    has_corners: npt.NDArray[np.bool_],
    out_size: int,
    min_visible: float = 0.45,
) -> tuple[F32, F32, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Boxes (N,4) and corners (N,4,2) moved by the affine ``m`` into an ``out_size`` square: boxes with
    corners are recomputed from the moved corners, the others from their moved box corners, then clipped.
    Returns (boxes, corners, has_corners) of the kept ones and ``keep`` (N,): at least ``min_visible`` of the
    box inside, and at least 4x3 px."""
    if len(boxes) == 0:
        return boxes.reshape(0, 4), corners.reshape(0, 4, 2), has_corners.reshape(0), np.zeros(0, bool)
    box_quads = np.stack([boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [2, 3]], boxes[:, [0, 3]]], 1).astype(np.float32)
    src = np.where(has_corners[:, None, None], corners, box_quads)
    moved = src @ m[:, :2].T + m[:, 2]
    new_boxes = np.concatenate([moved.min(1), moved.max(1)], 1)
    new_corners = np.where(has_corners[:, None, None], moved, 0).astype(np.float32)
    clipped = np.clip(new_boxes, 0, out_size)
    area = np.prod(np.maximum(new_boxes[:, 2:] - new_boxes[:, :2], 1e-3), 1)
    vis = np.prod(np.maximum(clipped[:, 2:] - clipped[:, :2], 0), 1) / area
    size_ok = ((clipped[:, 3] - clipped[:, 1]) >= 3) & ((clipped[:, 2] - clipped[:, 0]) >= 4)
    keep = (vis >= min_visible) & size_ok
    return clipped[keep].astype(np.float32), new_corners[keep], has_corners[keep], keep


def affine_crop(
    image: U8,
    boxes: F32,
    corners: F32,
    has_corners: npt.NDArray[np.bool_],
    out_size: int,
    scale: float,
    center: tuple[float, float],
    angle_deg: float = 0.0,
    min_visible: float = 0.45,
) -> tuple[U8, F32, F32, npt.NDArray[np.bool_]]:
    """Scales by ``scale`` and rotates by ``angle_deg`` about ``center`` (source pixels), which lands in the
    middle of an ``out_size`` square output; boxes and corners move with it (:func:`move_boxes`: boxes less
    than ``min_visible`` inside, or under 3 px, are dropped)."""
    m = crop_matrix(out_size, scale, center, angle_deg)
    interp = cv2.INTER_AREA if scale < 0.7 else cv2.INTER_LINEAR
    out = cv2.warpAffine(image, m, (out_size, out_size), flags=interp, borderValue=(PAD_VALUE,) * 3)
    b, c, h, _ = move_boxes(m, boxes, corners, has_corners, out_size, min_visible)
    return out, b, c, h


def hflip(image: U8, boxes: F32, corners: F32) -> tuple[U8, F32, F32]:
    """Mirrors left-right; corners stay ordered TL, TR, BR, BL (the old TR becomes the new TL, ...)."""
    w = image.shape[1]
    out = np.ascontiguousarray(image[:, ::-1])
    b = boxes.copy()
    b[:, 0], b[:, 2] = w - boxes[:, 2], w - boxes[:, 0]
    c = corners[:, [1, 0, 3, 2]].copy()
    c[..., 0] = w - c[..., 0]
    return out, b, c


def photometric(image: U8, rng: np.random.Generator, strength: float = 1.0) -> U8:
    """Colour jitter, night darkening, blur, noise, grayscale and JPEG, each with some probability."""
    img = image
    if rng.random() < 0.8 * strength:
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-8, 8)) % 180
        hsv[..., 1] *= rng.uniform(0.6, 1.4)
        hsv[..., 2] = hsv[..., 2] * rng.uniform(0.65, 1.35) + rng.uniform(-25, 25)
        img = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR)
    if rng.random() < 0.15 * strength:  # night: dark, gamma, bluish
        g = rng.uniform(1.5, 2.8)
        lut = (np.linspace(0, 1, 256) ** g * 255 * rng.uniform(0.5, 0.9)).astype(np.uint8)
        img = cv2.LUT(img, lut)
        img = np.clip(img.astype(np.int16) + np.array([rng.integers(0, 15), 0, 0], np.int16), 0, 255).astype(np.uint8)
    r = rng.random()
    if r < 0.12 * strength:
        k = int(rng.choice([3, 5]))
        img = cv2.GaussianBlur(img, (k, k), 0)
    elif r < 0.2 * strength:  # motion blur
        k = int(rng.integers(3, 8))
        ker = np.zeros((k, k), np.float32)
        ker[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        ker = cv2.warpAffine(ker, rot, (k, k))
        img = cv2.filter2D(img, -1, ker / max(ker.sum(), 1e-6))
    if rng.random() < 0.2 * strength:
        noise = rng.normal(0, rng.uniform(3, 12), img.shape).astype(np.float32)
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.05:
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if rng.random() < 0.3 * strength:
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        if ok:
            img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return img
