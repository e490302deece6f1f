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

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

import cv2
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # annotations only (Python 3.10 has no typing.Unpack)
    from typing_extensions import Unpack

__all__ = ["blend_boxes", "refine_corners", "refine_corners_many"]

F64 = npt.NDArray[np.float64]
# plates searched together by refine_corners_many (its memory grows with them)
_GROUP = 32


def _fit_sides(
    grads: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]],
    lq: F64,
    ranges: F64,
    steps: int,
    samples: int,
    penalty: float,
    inward_w: float,
) -> tuple[F64, npt.NDArray[np.bool_]]:
    """One search over all 4 sides of each of K quads ``lq`` (K,4,2) at once, each in the local pixels of its
    gradient images ``grads[k]`` (gx, gy), with search ranges ``ranges`` (K,2) (top/bottom, left/right).
    Returns the refined quads (K,4,2) and which of them could be refined (K,); the others are unchanged."""
    kn = len(lq)
    pa, pb = lq, np.roll(lq, -1, axis=1)  # side k runs from corner k to corner k+1
    d = pb - pa
    length = np.linalg.norm(d, axis=2)  # (K, 4)
    ok = ~(length < 1e-6).any(1)
    n = np.stack([-d[..., 1], d[..., 0]], -1) / np.where(length < 1e-6, 1.0, length)[..., None]  # (K, 4, 2)
    r = ranges[:, [0, 1, 0, 1]]  # (K, 4)
    # n points into the plate: top and bottom move both ways, left and right mostly outwards (inside a plate
    # the first and last characters' strokes are edges of one polarity too)
    u = np.stack([np.linspace(-1.0, 1.0, steps), np.linspace(-1.0, inward_w, steps)] * 2)  # (4, steps)
    offs = r[:, :, None] * u[None]  # (K, 4, steps)
    # (K, 4, steps, 1, 2): first end with i; (K, 4, 1, steps, 2): second end with j
    a = pa[:, :, None, None, :] + offs[:, :, :, None, None] * n[:, :, None, None, :]
    b = pb[:, :, None, None, :] + offs[:, :, None, :, None] * n[:, :, None, None, :]
    a, b = np.broadcast_arrays(a, b)
    ts = np.linspace(0.1, 0.9, samples)
    # the sample points along each candidate line, x and y apart: (K, 4, s, s, samples) each
    mx, my = ((a[..., c, None] + (b[..., c] - a[..., c])[..., None] * ts).astype(np.float32) for c in (0, 1))
    sx = np.empty(mx.shape, np.float32)
    sy = np.empty(mx.shape, np.float32)
    for k, (gx, gy) in enumerate(grads):
        kx, ky = mx[k].reshape(-1, samples), my[k].reshape(-1, samples)
        sx[k] = cv2.remap(gx, kx, ky, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(sx.shape[1:])
        sy[k] = cv2.remap(gy, kx, ky, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(sy.shape[1:])
    # the gradient across each side (candidates turn by a few degrees at most: the side's normal serves all);
    # one polarity along the whole line: an edge between two areas, not the alternating edges of characters
    nf = n.astype(np.float32)
    across = sx * nf[:, :, 0, None, None, None] + sy * nf[:, :, 1, None, None, None]
    score = np.abs(across.mean(-1, dtype=np.float64))  # (K, 4, s, s)
    # prefer small moves; the tiny constant breaks ties (a side with no edge near it at all) toward no move
    moved = (np.abs(u)[:, :, None] + np.abs(u)[:, None, :]) / 2  # (4, s, s)
    score = score - (penalty * score.max(axis=(2, 3), keepdims=True) + 1e-9) * moved
    best = score.reshape(kn, 4, -1).argmax(2)
    bi, bj = np.unravel_index(best, (steps, steps))
    kk, ss = np.arange(kn)[:, None], np.arange(4)[None, :]
    la, lb = a[kk, ss, bi, bj].astype(np.float64), b[kk, ss, bi, bj].astype(np.float64)  # (K, 4, 2)
    # corner c joins side c-1 and side c: the intersection of the two lines
    p1, p2, q1, q2 = np.roll(la, 1, axis=1), np.roll(lb, 1, axis=1), la, lb
    d1, d2 = p2 - p1, q2 - q1
    den = d1[..., 0] * d2[..., 1] - d1[..., 1] * d2[..., 0]  # (K, 4)
    ok &= ~(np.abs(den) < 1e-9).any(1)
    t = ((q1[..., 0] - p1[..., 0]) * d2[..., 1] - (q1[..., 1] - p1[..., 1]) * d2[..., 0]) / np.where(
        np.abs(den) < 1e-9, 1.0, den
    )
    corners = np.asarray(p1 + t[..., None] * d1, np.float64)
    return np.where(ok[:, None, None], corners, lq), ok


class _Plate:
    """One plate's refinement state: gradient images of its neighbourhood and its quad in their pixels."""

    def __init__(self, image: npt.NDArray[np.uint8], quad: F64, target_h: float) -> None:
        q = quad
        self.quad = q
        self.width = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
        self.height = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
        self.ok = bool(np.isfinite(q).all() and self.width >= 8 and self.height >= 4)
        if not self.ok:
            return
        lo = q.min(0) - [0.3 * self.width, 0.6 * self.height]
        hi = q.max(0) + [0.3 * self.width, 0.6 * self.height]
        x1, y1 = max(0, int(lo[0])), max(0, int(lo[1]))
        x2, y2 = min(image.shape[1], int(hi[0]) + 1), min(image.shape[0], int(hi[1]) + 1)
        if x2 - x1 < 4 or y2 - y1 < 4:
            self.ok = False
            return
        crop = image[y1:y2, x1:x2]
        grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        self.f = f = min(1.0, target_h / self.height)
        if f < 1:
            grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        g = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 1.0)
        gx = np.asarray(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), np.float32)
        gy = np.asarray(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3), np.float32)
        self.grads = (gx, gy)
        self.origin = (x1, y1)
        self.lq: F64 = (q - [x1, y1]) * f

    def result(self) -> F64:
        """The refined quad in image pixels, or the original where refinement failed or moved too far."""
        if not self.ok:
            return self.quad
        out = np.asarray(self.lq / self.f + list(self.origin), np.float64)
        if not np.isfinite(out).all() or np.abs(out - self.quad).max() > 0.5 * max(self.width, self.height):
            return self.quad
        return out


class RefineOptions(TypedDict, total=False):
    """The settings of :func:`refine_corners_many` (its defaults when left out)."""

    search_h: float
    search_w: float
    passes: int
    steps: int
    samples: int
    target_h: float
    penalty: float
    inward_w: float


def refine_corners(
    image: npt.NDArray[np.uint8], corners: npt.NDArray[np.float32], **options: Unpack[RefineOptions]
) -> npt.NDArray[np.float32]:
    """Refined corners (K,4,2) TL,TR,BR,BL of the plates ``corners`` (K,4,2) in ``image`` (HxW or HxWx3 BGR).

    A plate whose sides cannot be refined (too small, degenerate, or a refined corner moving more than half
    the plate's size) keeps its corners. Corners are clipped to the image. ``options``: the settings of
    :func:`refine_corners_many`.
    """
    return refine_corners_many([image], [corners], **options)[0]


def refine_corners_many(
    images: Sequence[npt.NDArray[np.uint8]],
    corners: Sequence[npt.NDArray[np.float32]],
    *,
    search_h: float = 0.15,
    search_w: float = 0.1,
    passes: int = 2,
    steps: int = 11,
    samples: int = 24,
    target_h: float = 48.0,
    penalty: float = 0.3,
    inward_w: float = 0.5,
) -> list[npt.NDArray[np.float32]]:
    """:func:`refine_corners` for the plates of several images at once (one vectorised search over all of
    them, the same results). One (K,4,2) array per image, in order."""
    if len(images) != len(corners):
        raise ValueError(f"{len(images)} images but {len(corners)} corner arrays")
    outs: list[npt.NDArray[np.float32]] = [np.array(c, dtype=np.float32).reshape(-1, 4, 2) for c in corners]
    where = [(i, k) for i, out in enumerate(outs) for k in range(len(out))]
    # groups of plates at a time bound the memory (gradient images, search arrays): a 16 MB peak for 300 plates
    for g in range(0, len(where), _GROUP):
        group = [(i, k, _Plate(images[i], outs[i][k].astype(np.float64), target_h)) for i, k in where[g : g + _GROUP]]
        for p in range(passes):
            scale = 0.5**p
            active = [pl for _, _, pl in group if pl.ok]
            if not active:
                break
            ranges = np.asarray(
                [(search_h * pl.height * pl.f * scale, search_w * pl.width * pl.f * scale) for pl in active],
                np.float64,
            )
            lq = np.stack([pl.lq for pl in active])
            fitted, ok = _fit_sides([pl.grads for pl in active], lq, ranges, steps, samples, penalty, inward_w)
            for pl, q, good in zip(active, fitted, ok, strict=True):
                pl.lq, pl.ok = q, bool(good)
        for i, k, pl in group:
            lim = np.asarray([images[i].shape[1], images[i].shape[0]], np.float32)
            outs[i][k] = np.clip(pl.result(), 0, lim)
    return outs


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
