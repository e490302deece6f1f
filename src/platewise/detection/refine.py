"""Corner refinement: snap each side of a detected plate to the plate's edge in the image (numpy + OpenCV).

The network's corners are noisy (about 7% of the plate width on synthetic hold-out scenes, mostly noise, see
``benchmarks/corner_errors.py``), while a plate's outline is usually a clear edge: plate against car body.
For each side of the predicted quadrilateral, :func:`refine_corners` tries lines whose two ends move along
the side's normal (up to ``search_h`` of the plate height for the top and bottom, ``search_w`` of the width
for the left and right side) and keeps the one along which the image gradient across the line is strongest
and of one polarity (an edge between two areas, not the alternating edges of characters), slightly
preferring small moves. The refined corners are the intersections of adjacent sides. A second pass with half
the range polishes the result. Sizes are normalised: the plate is resized to about ``target_h`` pixels high
first, so the cost per plate does not depend on its size.

Measured in ``DETECTOR_MODEL_CARD.md`` ("Corner refinement").
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["blend_boxes", "refine_corners"]

F64 = npt.NDArray[np.float64]


def _intersect(p1: F64, p2: F64, q1: F64, q2: F64) -> F64 | None:
    d1, d2 = p2 - p1, q2 - q1
    den = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(den) < 1e-9:
        return None
    t = ((q1[0] - p1[0]) * d2[1] - (q1[1] - p1[1]) * d2[0]) / den
    return np.asarray(p1 + t * d1, np.float64)


def _fit_sides(
    gx: npt.NDArray[np.float32],
    gy: npt.NDArray[np.float32],
    lq: F64,
    ranges: tuple[float, float],
    steps: int,
    samples: int,
    penalty: float,
    inward_w: float,
) -> F64 | None:
    """One search over all 4 sides of ``lq`` (local pixels) at once; the refined quad, or None."""
    pa, pb = lq, np.roll(lq, -1, axis=0)  # side k runs from corner k to corner k+1
    d = pb - pa
    length = np.linalg.norm(d, axis=1)
    if (length < 1e-6).any():
        return None
    n = np.stack([-d[:, 1], d[:, 0]], 1) / length[:, None]  # (4, 2)
    r = np.asarray([ranges[0], ranges[1], ranges[0], ranges[1]])
    # n points into the plate: top and bottom move both ways, left and right mostly outwards (inside a plate
    # the first and last characters' strokes are edges of one polarity too)
    u = np.stack([np.linspace(-1.0, 1.0, steps), np.linspace(-1.0, inward_w, steps)] * 2)  # (4, steps)
    offs = r[:, None] * u
    a = pa[:, None, None, :] + offs[:, :, None, None] * n[:, None, None, :]  # (4, steps, 1, 2): first end with i
    b = pb[:, None, None, :] + offs[:, None, :, None] * n[:, None, None, :]  # (4, 1, steps, 2): second end with j
    a, b = np.broadcast_arrays(a, b)
    ts = np.linspace(0.1, 0.9, samples)
    pts = (a[..., None, :] + (b - a)[..., None, :] * ts[:, None]).astype(np.float32)  # (4, s, s, samples, 2)
    mx = np.ascontiguousarray(pts[..., 0].reshape(-1, samples))
    my = np.ascontiguousarray(pts[..., 1].reshape(-1, samples))
    sx = cv2.remap(gx, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(4, steps, steps, samples)
    sy = cv2.remap(gy, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(4, steps, steps, samples)
    # the gradient across each side (candidates turn by a few degrees at most: the side's normal serves all);
    # one polarity along the whole line: an edge between two areas, not the alternating edges of characters
    nf = n.astype(np.float32)
    across = sx * nf[:, 0, None, None, None] + sy * nf[:, 1, None, None, None]
    score = np.abs(across.mean(-1, dtype=np.float64))  # (4, s, s)
    # prefer small moves; the tiny constant breaks ties (a side with no edge near it at all) toward no move
    moved = (np.abs(u)[:, :, None] + np.abs(u)[:, None, :]) / 2  # (4, s, s)
    score = score - (penalty * score.max(axis=(1, 2), keepdims=True) + 1e-9) * moved
    best = score.reshape(4, -1).argmax(1)
    bi, bj = np.unravel_index(best, (steps, steps))
    k = np.arange(4)
    la, lb = a[k, bi, bj].astype(np.float64), b[k, bi, bj].astype(np.float64)
    corners = []
    for c in range(4):  # corner c joins side c-1 and side c
        p = _intersect(la[c - 1], lb[c - 1], la[c], lb[c])
        if p is None:
            return None
        corners.append(p)
    return np.asarray(corners, np.float64)


def _refine_one(
    image: npt.NDArray[np.uint8],
    quad: F64,
    search_h: float,
    search_w: float,
    passes: int,
    steps: int,
    samples: int,
    target_h: float,
    penalty: float,
    inward_w: float,
) -> F64:
    q = quad
    width = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    height = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    if not np.isfinite(q).all() or width < 8 or height < 4:
        return q
    lo = q.min(0) - [0.3 * width, 0.6 * height]
    hi = q.max(0) + [0.3 * width, 0.6 * height]
    x1, y1 = max(0, int(lo[0])), max(0, int(lo[1]))
    x2, y2 = min(image.shape[1], int(hi[0]) + 1), min(image.shape[0], int(hi[1]) + 1)
    if x2 - x1 < 4 or y2 - y1 < 4:
        return q
    crop = image[y1:y2, x1:x2]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    f = min(1.0, target_h / height)
    if f < 1:
        grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    g = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 1.0)
    gx = np.asarray(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), np.float32)
    gy = np.asarray(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3), np.float32)
    lq = (q - [x1, y1]) * f
    for p in range(passes):
        scale = 0.5**p
        ranges = (search_h * height * f * scale, search_w * width * f * scale)
        fitted = _fit_sides(gx, gy, lq, ranges, steps, samples, penalty, inward_w)
        if fitted is None:
            return q
        lq = fitted
    out = np.asarray(lq / f + [x1, y1], np.float64)
    if not np.isfinite(out).all() or np.abs(out - q).max() > 0.5 * max(width, height):
        return q
    return out


def refine_corners(
    image: npt.NDArray[np.uint8],
    corners: npt.NDArray[np.float32],
    *,
    search_h: float = 0.15,
    search_w: float = 0.1,
    passes: int = 2,
    steps: int = 11,
    samples: int = 24,
    target_h: float = 48.0,
    penalty: float = 0.3,
    inward_w: float = 0.5,
) -> npt.NDArray[np.float32]:
    """Refined corners (K,4,2) TL,TR,BR,BL of the plates ``corners`` (K,4,2) in ``image`` (HxW or HxWx3 BGR).

    A plate whose sides cannot be refined (too small, degenerate, or a refined corner moving more than half
    the plate's size) keeps its corners. Corners are clipped to the image.
    """
    out: npt.NDArray[np.float32] = np.array(corners, dtype=np.float32)
    lim = np.asarray([image.shape[1], image.shape[0]], np.float32)
    for k in range(len(out)):
        q = _refine_one(
            image, out[k].astype(np.float64), search_h, search_w, passes, steps, samples, target_h, penalty, inward_w
        )
        out[k] = np.clip(q, 0, lim)
    return out


def blend_boxes(
    boxes: npt.NDArray[np.float32], corners: npt.NDArray[np.float32], weight: float
) -> npt.NDArray[np.float32]:
    """Boxes (K,4) moved ``weight`` of the way toward the bounding boxes of the plates' ``corners`` (K,4,2).

    The network regresses a box and four corners separately; the box learnt the margins of the training
    labels, which differ between data sets (tight around the plate in openalpr-dev, loose in ro-dashcam),
    while refined corners sit on the plate's outline. Their mean is the box the detector and the pipeline
    report by default (measured in ``DETECTOR_MODEL_CARD.md``, "Box from corners"). 0 keeps the boxes.
    """
    b = np.asarray(boxes, np.float32)
    if weight == 0.0 or len(b) == 0:
        return b
    q = np.asarray(corners, np.float32)
    tight = np.concatenate([q.min(1), q.max(1)], 1)
    return np.asarray((1.0 - weight) * b + weight * tight, np.float32)
