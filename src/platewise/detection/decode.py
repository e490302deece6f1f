"""Post-processing of the detector's outputs (numpy only): distribution boxes, corners, threshold, NMS.

The network emits, per location of every level (stride 8 first, row-major): a score in [0, 1], a box as 4
distributions over distances 0..reg_max strides (left, top, right, bottom) and 4 corners as offsets in
strides (TL, TR, BR, BL).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from platewise.detection.evaluate import box_iou_matrix
from platewise.detection.preprocess import Letterbox

__all__ = [
    "RawDetections",
    "anchor_grid",
    "decode_batch",
    "decode_one",
    "FLIP_FUSIONS",
    "fuse_mirrored",
    "nms",
    "order_corners",
    "suppress_contained",
]

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class RawDetections:
    """Detections of one image as arrays: ``boxes`` (K,4) xyxy, ``corners`` (K,4,2) TL,TR,BR,BL, ``scores`` (K,),
    best first, in original-image pixels."""

    boxes: F32
    corners: F32
    scores: F32

    @classmethod
    def empty(cls) -> RawDetections:
        """No detections."""
        return cls(np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32))

    def take(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> RawDetections:
        """The detections selected by a mask or indices, in that order."""
        return RawDetections(self.boxes[keep], self.corners[keep], self.scores[keep])


@lru_cache(maxsize=16)
def anchor_grid(height: int, width: int, strides: tuple[int, ...]) -> tuple[F32, F32]:
    """Location centres (A,2) (x, y) in input pixels and their strides (A,) for a ``height`` x ``width`` input.

    Cached: the arrays are read-only.
    """
    pts, st = [], []
    for s in strides:
        h, w = height // s, width // s
        ys, xs = np.mgrid[0:h, 0:w]
        pts.append((np.stack([xs, ys], -1).reshape(-1, 2).astype(np.float32) + 0.5) * s)
        st.append(np.full(h * w, s, dtype=np.float32))
    p, s_ = np.concatenate(pts), np.concatenate(st)
    p.flags.writeable = False
    s_.flags.writeable = False
    return p, s_


# how PlateDetector(flip=...) fuses the two views' scores
FLIP_FUSIONS = ("mean", "max")
_MIRROR_X = np.asarray([-1.0, 1.0], np.float32)


def fuse_mirrored(
    outputs: tuple[F32, F32, F32],
    mirrored: tuple[F32, F32, F32],
    input_size: tuple[int, int],
    strides: tuple[int, ...],
    reg_max: int,
    fusion: str = "mean",
) -> tuple[F32, F32, F32]:
    """The network's outputs (scores (N,A), box distributions (N,A,4*(R+1)), corners (N,A,8)) for a batch of
    inputs, averaged with its outputs for the same inputs mirrored left to right (``mirrored``), mapped back.

    Every level's location grid is symmetric (centres at (i + 0.5) * stride on an input whose width is a
    multiple of the stride), so the mirrored input's location (y, w - 1 - x) sees what (y, x) sees: its score
    is averaged in as it is, its left and right distance distributions swap, and its corners swap left for
    right (TL for TR, BL for BR) with their x offsets negated. Scores are averaged as probabilities
    (``fusion="mean"``) or the higher of the two kept (``"max"``), the distance distributions averaged as
    logits (their geometric mean), the corners as offsets.
    """
    if fusion not in FLIP_FUSIONS:
        raise ValueError(f"fusion {fusion!r}: expected one of {', '.join(FLIP_FUSIONS)}")
    scores, dist, corners = outputs
    m_scores, m_dist, m_corners = mirrored
    n = scores.shape[0]
    bins = dist.shape[-1] // 4
    if bins != reg_max + 1 or corners.shape[-1] != 8:
        raise ValueError(f"box_dist {dist.shape} / corners {corners.shape} do not match reg_max {reg_max}")
    grids = [(int(input_size[0]) // st, int(input_size[1]) // st) for st in strides]
    if sum(h * w for h, w in grids) != scores.shape[1] or m_scores.shape != scores.shape:
        raise ValueError(
            f"model outputs of {scores.shape[1]} and {m_scores.shape[1]} locations, expected "
            f"{sum(h * w for h, w in grids)} for {input_size}"
        )
    back_s, back_d, back_c = [], [], []
    start = 0
    for h, w in grids:
        part = slice(start, start + h * w)
        start += h * w
        back_s.append(m_scores[:, part].reshape(n, h, w)[:, :, ::-1].reshape(n, h * w))
        d = m_dist[:, part].reshape(n, h, w, 4, bins)[:, :, ::-1][:, :, :, [2, 1, 0, 3]]
        back_d.append(d.reshape(n, h * w, 4 * bins))
        c = m_corners[:, part].reshape(n, h, w, 4, 2)[:, :, ::-1][:, :, :, [1, 0, 3, 2]] * _MIRROR_X
        back_c.append(c.reshape(n, h * w, 8))
    return (
        (
            np.maximum(scores, np.concatenate(back_s, 1))
            if fusion == "max"
            else (scores + np.concatenate(back_s, 1)) * 0.5
        ).astype(np.float32),
        ((dist + np.concatenate(back_d, 1)) * 0.5).astype(np.float32),
        ((corners + np.concatenate(back_c, 1)) * 0.5).astype(np.float32),
    )


def nms(boxes: F32, scores: F32, iou_threshold: float) -> npt.NDArray[np.int64]:
    """Greedy non-maximum suppression. (K,4) xyxy, (K,) -> indices kept, best score first."""
    return _greedy_suppress(boxes, scores, iou_threshold, of_smaller=False)


def suppress_contained(
    boxes: F32, scores: F32, threshold: float, margin: float = 0.0, floor: float = 0.0
) -> npt.NDArray[np.int64]:
    """Greedy suppression of boxes lying mostly inside a better-scored one (or holding it), which IoU-based
    :func:`nms` keeps when their sizes differ: a box is dropped when its intersection with a kept box is more
    than ``threshold`` of the smaller of the two areas. (K,4) xyxy, (K,) -> indices kept, best score first.

    ``margin`` > 0 is a tie-break for the tighter box: the best remaining box is itself dropped, instead of
    kept, when it holds a smaller one (intersection more than ``threshold`` of the smaller area) scored at
    least its own score minus ``margin`` and at least ``floor``; a loose box around a plate then gives way to the
    tight box inside it when the two score nearly alike. (``floor``: the score a detection must reach to be
    reported, so that boxes below it, which are not reported, cannot make a reported one give way.)"""
    return _greedy_suppress(boxes, scores, threshold, of_smaller=True, margin=margin, floor=floor)


def _greedy_suppress(
    boxes: F32, scores: F32, threshold: float, of_smaller: bool, margin: float = 0.0, floor: float = 0.0
) -> npt.NDArray[np.int64]:
    """Keeps the best-scored box, drops those overlapping it by more than ``threshold`` (IoU, or the
    intersection over the smaller area), repeats on the rest; with ``margin`` > 0 (``of_smaller`` only), see
    :func:`suppress_contained`."""
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(0, x2 - x1) * np.maximum(0, y2 - y1)
    keep = []
    while order.size:
        i = order[0]
        rest = order[1:]
        iw = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        ih = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = iw * ih
        whole = np.minimum(areas[i], areas[rest]) if of_smaller else areas[i] + areas[rest] - inter
        over = inter / np.maximum(whole, 1e-9) > threshold
        if margin > 0 and of_smaller:
            close = (scores[rest] >= scores[i] - margin) & (scores[rest] >= floor)
            inner = over & (areas[rest] < areas[i]) & close
            if inner.any():  # a tighter box nearly as good lies inside: this one gives way to it
                order = rest
                continue
        keep.append(i)
        order = rest[~over]
    return np.asarray(keep, dtype=np.int64)


def order_corners(quads: F32) -> F32:
    """Reorders each quad (K,4,2) to top-left, top-right, bottom-right, bottom-left (clockwise, y down).

    Points are sorted clockwise around their centroid; the start is the left end of the top edge, the edge
    that runs furthest to the right (true for plates wider than high rotated by less than about 45 degrees).
    """
    q = np.asarray(quads, dtype=np.float32).reshape(-1, 4, 2)
    if len(q) == 0:
        return q
    c = q.mean(1, keepdims=True)
    ang = np.arctan2(q[..., 1] - c[..., 1], q[..., 0] - c[..., 0])
    q = np.take_along_axis(q, np.argsort(ang, axis=1)[..., None], axis=1)
    nxt = np.roll(q, -1, axis=1)
    start = np.argmax(nxt[..., 0] - q[..., 0], axis=1)
    idx = (start[:, None] + np.arange(4)[None]) % 4
    return np.take_along_axis(q, idx[..., None], axis=1)


def _softmax_integral(logits: F32, reg_max: int) -> F32:
    """(K, 4*(R+1)) logits -> (K,4) expected distances in strides."""
    z = logits.reshape(-1, 4, reg_max + 1).astype(np.float32)
    z = np.exp(z - z.max(-1, keepdims=True))
    z /= z.sum(-1, keepdims=True)
    return np.asarray((z * np.arange(reg_max + 1, dtype=np.float32)).sum(-1), dtype=np.float32)


def decode_one(
    scores: F32,
    box_dist: F32,
    corners: F32,
    points: F32,
    strides: F32,
    lb: Letterbox,
    *,
    reg_max: int,
    score_threshold: float = 0.4,
    nms_threshold: float = 0.45,
    max_candidates: int = 1000,
    max_detections: int = 100,
    vote_iou: float = 0.0,
    vote_min_score: float = 0.0,
) -> RawDetections:
    """Decodes one image: ``scores`` (A,), ``box_dist`` (A,4*(reg_max+1)), ``corners`` (A,8) -> detections in
    original pixels (boxes and corners clipped to the image), after score threshold and NMS.

    ``vote_iou`` > 0 turns on corner voting: each kept detection's corners become the score-weighted mean of
    the corners predicted by every location whose box overlaps it by at least ``vote_iou`` (locations scoring
    at least ``vote_min_score``, whatever ``score_threshold`` is, the kept one included); its box and score stay
    as NMS chose them.
    """
    lo = min(score_threshold, vote_min_score) if vote_iou > 0 else score_threshold
    idx = np.flatnonzero(scores >= lo)
    if idx.size > max_candidates:
        idx = idx[np.argsort(-scores[idx])[:max_candidates]]
    s_all = scores[idx].astype(np.float32)
    strong = np.flatnonzero(s_all >= score_threshold)
    if strong.size == 0:
        return RawDetections(np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32))
    p, st = points[idx], strides[idx][:, None]
    d = _softmax_integral(box_dist[idx], reg_max) * st
    boxes_all = np.concatenate([p - d[:, :2], p + d[:, 2:]], 1)
    quads_all = (corners[idx].reshape(-1, 4, 2) * st[:, :, None] + p[:, None, :]).astype(np.float32)
    keep = strong[nms(boxes_all[strong], s_all[strong], nms_threshold)][:max_detections]
    boxes, quads, s = boxes_all[keep], quads_all[keep], s_all[keep]
    if vote_iou > 0:
        m = (box_iou_matrix(boxes, boxes_all) >= vote_iou) & (s_all >= vote_min_score)[None, :]
        m[np.arange(len(keep)), keep] = True
        w = m * s_all[None, :]  # (K, M) voting weights
        quads = np.einsum("km,mcd->kcd", w, quads_all) / w.sum(1)[:, None, None]
    pad = np.asarray([lb.pad_x, lb.pad_y], dtype=np.float32)
    boxes = (boxes - np.tile(pad, 2)) / lb.scale
    quads = (quads - pad) / lb.scale
    lim = np.asarray([lb.orig_w, lb.orig_h], dtype=np.float32)
    boxes = np.clip(boxes, 0, np.tile(lim, 2))
    quads = np.clip(order_corners(quads), 0, lim)
    return RawDetections(boxes.astype(np.float32), quads.astype(np.float32), s)


def decode_batch(
    scores: F32,
    box_dist: F32,
    corners: F32,
    letterboxes: list[Letterbox],
    input_size: tuple[int, int],
    strides: tuple[int, ...],
    **kwargs: float | int,
) -> list[RawDetections]:
    """:func:`decode_one` over a batch: ``scores`` (N,A), ``box_dist`` (N,A,4*(R+1)), ``corners`` (N,A,8)."""
    points, st = anchor_grid(int(input_size[0]), int(input_size[1]), tuple(int(v) for v in strides))
    if scores.shape[1] != len(points):
        raise ValueError(f"model output has {scores.shape[1]} locations, expected {len(points)} for {input_size}")
    return [
        decode_one(scores[i], box_dist[i], corners[i], points, st, lb, **kwargs)  # type: ignore[arg-type]
        for i, lb in enumerate(letterboxes)
    ]
