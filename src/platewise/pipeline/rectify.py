"""Straighten a plate with its 4 corners: homography from the detected quadrilateral to the reader's canonical
rectangle (e.g. 48x192). Falls back to the axis-aligned box when the corners are implausible.

All functions are pure numpy/OpenCV; images are HxWx3 uint8 BGR; points are (x, y) in image pixels.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from platewise.data.sources import crop_box_with_padding
from platewise.types import BBox, Corners

__all__ = ["corners_plausible", "crop_box", "order_corners", "rectify"]


def order_corners(points: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Orders 4 points as top-left, top-right, bottom-right, bottom-left (4x2 float32)."""
    p = np.asarray(points, dtype=np.float32).reshape(4, 2)
    c = p.mean(axis=0)
    ang = np.arctan2(p[:, 1] - c[1], p[:, 0] - c[0])
    p = p[np.argsort(ang)]  # clockwise in image coordinates (y down), starting somewhere
    start = int(np.argmin(p.sum(axis=1)))  # top-left: smallest x + y
    return np.roll(p, -start, axis=0)


def corners_plausible(corners: npt.NDArray[np.float32], box: BBox, *, min_area_ratio: float = 0.35) -> bool:
    """True when the quadrilateral is convex, in TL-TR-BR-BL order, not degenerate, and roughly fills the box.

    Args:
        corners: 4x2 float32, TL, TR, BR, BL.
        box: the detection's box; the quad's area must be at least ``min_area_ratio`` of it and its points
            within the box grown by half its size.
    """
    q = np.asarray(corners, dtype=np.float64).reshape(4, 2)
    if not np.all(np.isfinite(q)):
        return False
    edges = np.roll(q, -1, axis=0) - q
    cross = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    if not (np.all(cross > 0) or np.all(cross < 0)):
        return False
    x, y = q[:, 0], q[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    box_area = max(box.width * box.height, 1e-6)
    if area < min_area_ratio * box_area:
        return False
    gx, gy = box.width * 0.5, box.height * 0.5
    inside = (x >= box.x1 - gx) & (x <= box.x2 + gx) & (y >= box.y1 - gy) & (y <= box.y2 + gy)
    if not inside.all():
        return False
    # TL must be left of TR and above BL
    return bool(q[1, 0] > q[0, 0] and q[3, 1] > q[0, 1] and q[2, 0] > q[3, 0] and q[2, 1] > q[1, 1])


def crop_box(
    image: npt.NDArray[np.uint8], box: BBox, size: tuple[int, int], pad: float = 0.05
) -> npt.NDArray[np.uint8]:
    """The box grown by ``pad`` of its size on each side, resized to ``size`` = (height, width)."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = crop_box_with_padding(w, h, box, pad)
    if x2 <= x1 or y2 <= y1:
        return np.zeros((size[0], size[1], 3), dtype=np.uint8)
    return np.asarray(cv2.resize(image[y1:y2, x1:x2], (size[1], size[0]), interpolation=cv2.INTER_AREA), np.uint8)


def rectify(
    image: npt.NDArray[np.uint8], corners: Corners, box: BBox, size: tuple[int, int], pad: float = 0.05
) -> tuple[npt.NDArray[np.uint8], bool]:
    """Warps the plate to ``size`` = (height, width).

    The quadrilateral is grown by ``pad`` of its size (the readers are trained on crops with a thin margin).

    Returns:
        (crop HxWx3 uint8 BGR, True when the corners were used / False when it fell back to the box).
    """
    q = corners.as_array()
    if not corners_plausible(q, box):
        return crop_box(image, box, size, pad), False
    out_h, out_w = size
    # the plate grown by ``pad`` of its size on each side fills the output, as in crop_box
    mx, my = out_w * pad / (1 + 2 * pad), out_h * pad / (1 + 2 * pad)
    dst = np.array([[mx, my], [out_w - mx, my], [out_w - mx, out_h - my], [mx, out_h - my]], dtype=np.float32)
    M = cv2.getPerspectiveTransform(q, dst)
    crop = cv2.warpPerspective(image, M, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(crop, np.uint8), True
