"""Detection metrics (numpy): recall/precision at IoU thresholds, AP50, detections per image, per region.

Matching is greedy by score: each detection (best first) takes the unmatched ground-truth box it overlaps
most, if that IoU reaches the threshold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "DetectionCounts",
    "average_precision",
    "box_iou_matrix",
    "corner_errors",
    "found_truths",
    "match_detections",
    "summarize",
]

F32 = npt.NDArray[np.float32]


def box_intersection_matrix(boxes_a: npt.ArrayLike, boxes_b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Intersection area of every box of ``boxes_a`` (K,4) xyxy with every box of ``boxes_b`` (M,4) -> (K,M)."""
    a = np.asarray(boxes_a, np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    return np.asarray(ix * iy, np.float64)


def box_iou_matrix(boxes_a: npt.ArrayLike, boxes_b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """IoU of every box of ``boxes_a`` (K,4) xyxy with every box of ``boxes_b`` (M,4) -> (K,M)."""
    a = np.asarray(boxes_a, np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, np.float64).reshape(-1, 4)
    inter = box_intersection_matrix(a, b)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def match_detections(det_boxes: F32, det_scores: F32, gt_boxes: F32, iou_threshold: float) -> npt.NDArray[np.bool_]:
    """For detections (K,4) with scores (K,) and ground truth (M,4): True where a detection is a true positive.

    The result is in the order of ``det_boxes`` (not sorted)."""
    return _greedy_match(det_boxes, det_scores, gt_boxes, iou_threshold)[0]


def found_truths(det_boxes: F32, det_scores: F32, gt_boxes: F32, iou_threshold: float) -> npt.NDArray[np.bool_]:
    """For ground truth (M,4): True where a detection matches it, by :func:`match_detections`'s matching (best
    score first, each detection to the unmatched box it overlaps most)."""
    return _greedy_match(det_boxes, det_scores, gt_boxes, iou_threshold)[1]


def _greedy_match(
    det_boxes: F32, det_scores: F32, gt_boxes: F32, iou_threshold: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    k = len(det_boxes)
    tp = np.zeros(k, bool)
    taken = np.zeros(len(gt_boxes), bool)
    if k == 0 or len(gt_boxes) == 0:
        return tp, taken
    iou = box_iou_matrix(det_boxes, gt_boxes)
    for i in np.argsort(-np.asarray(det_scores), kind="stable"):
        cand = np.where(taken, -1.0, iou[i])
        j = int(np.argmax(cand))
        if cand[j] >= iou_threshold:
            tp[i] = True
            taken[j] = True
    return tp, taken


def average_precision(scores: F32, tp: npt.NDArray[np.bool_], n_gt: int) -> float:
    """Area under the precision-recall curve (all-point interpolation, as in VOC 2010+)."""
    if n_gt == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    order = np.argsort(-np.asarray(scores), kind="stable")
    t = np.asarray(tp, np.float64)[order]
    ctp, cfp = np.cumsum(t), np.cumsum(1 - t)
    recall = ctp / n_gt
    precision = ctp / np.maximum(ctp + cfp, 1e-9)
    mrec = np.concatenate([[0.0], recall, [recall[-1]]])
    mpre = np.concatenate([[1.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


@dataclass
class DetectionCounts:
    """Accumulates one group's (a region, or everything) images and matches."""

    images: int = 0
    gt: int = 0
    detections: int = 0
    tp50: int = 0
    tp70: int = 0
    scores: list[float] = field(default_factory=list)
    tps: list[bool] = field(default_factory=list)

    # detections below the operating threshold, kept for AP only
    def add(self, det_boxes: F32, det_scores: F32, gt_boxes: F32, threshold: float) -> None:
        """Adds one image: all detections down to the AP floor, counted at ``threshold`` for recall/precision."""
        tp50 = match_detections(det_boxes, det_scores, gt_boxes, 0.5)
        keep = np.asarray(det_scores) >= threshold
        self.images += 1
        self.gt += len(gt_boxes)
        self.detections += int(keep.sum())
        self.tp50 += int(match_detections(det_boxes[keep], det_scores[keep], gt_boxes, 0.5).sum())
        self.tp70 += int(match_detections(det_boxes[keep], det_scores[keep], gt_boxes, 0.7).sum())
        self.scores += [float(s) for s in det_scores]
        self.tps += [bool(t) for t in tp50]

    @classmethod
    def merged(cls, parts: Iterable[DetectionCounts]) -> DetectionCounts:
        """One group's counts from several groups' (e.g. every folder's), as if their images had been added to it
        (AP alike too, but where detections of different groups tie in score, in the groups' order)."""
        out = cls()
        for p in parts:
            out.images += p.images
            out.gt += p.gt
            out.detections += p.detections
            out.tp50 += p.tp50
            out.tp70 += p.tp70
            out.scores += p.scores
            out.tps += p.tps
        return out

    def metrics(self) -> dict[str, float | int]:
        rec = lambda tp: tp / self.gt if self.gt else float("nan")  # noqa: E731
        prec = lambda tp: tp / self.detections if self.detections else float("nan")  # noqa: E731
        return {
            "images": self.images,
            "plates": self.gt,
            "recall50": rec(self.tp50),
            "precision50": prec(self.tp50),
            "recall70": rec(self.tp70),
            "precision70": prec(self.tp70),
            "ap50": average_precision(np.asarray(self.scores), np.asarray(self.tps, bool), self.gt),
            "detections_per_image": self.detections / self.images if self.images else float("nan"),
        }


def summarize(groups: Iterable[tuple[str, DetectionCounts]]) -> dict[str, dict[str, float | int]]:
    """``{group: metrics}`` with floats rounded to 4 places."""
    return {
        name: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in c.metrics().items()} for name, c in groups
    }


def corner_errors(det_boxes: F32, det_corners: F32, gt_quads: F32, iou_threshold: float = 0.5) -> list[float]:
    """Mean corner distance / plate width, for each ground-truth quad (M,4,2) matched by a detection.

    Detections (K,4) boxes with (K,4,2) corners are matched to the quads' bounding boxes at ``iou_threshold``
    (best IoU); the plate width is the mean length of the quad's top and bottom edges.
    """
    gq = np.asarray(gt_quads, np.float64).reshape(-1, 4, 2)
    if len(gq) == 0 or len(det_boxes) == 0:
        return []
    gboxes = np.concatenate([gq.min(1), gq.max(1)], 1)
    iou = box_iou_matrix(np.asarray(det_boxes), gboxes)  # (K,M)
    out = []
    for j in range(len(gq)):
        i = int(np.argmax(iou[:, j]))
        if iou[i, j] < iou_threshold:
            continue
        width = (np.linalg.norm(gq[j, 1] - gq[j, 0]) + np.linalg.norm(gq[j, 2] - gq[j, 3])) / 2
        err = np.linalg.norm(np.asarray(det_corners[i], np.float64) - gq[j], axis=1).mean()
        out.append(float(err / max(width, 1e-9)))
    return out
