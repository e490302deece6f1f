"""End-to-end evaluation on labelled scenes: a labelled plate counts as read when a returned plate overlaps it
(IoU >= 0.5) and its text equals the label exactly."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from platewise.data.sources import SceneSample
from platewise.plates.formats import known_region
from platewise.plates.normalize import normalize
from platewise.types import BBox, PlateRead

__all__ = ["E2EStats", "evaluate_e2e", "match_boxes", "match_reads", "shift_box", "shift_image"]


def shift_image(image: npt.NDArray[np.uint8], k: int) -> npt.NDArray[np.uint8]:
    """``image`` with ``k`` edge-replicated rows above it and columns to its left (the image itself when ``k`` is
    0): the same scene, which the detector's stride grid and letterbox cut a little differently. Its labels move
    with :func:`shift_box`. How much an end-to-end count moves by chance (``benchmarks/e2e_pads.py``,
    ``benchmarks/synthetic_e2e.py --pad``)."""
    if k < 0:
        raise ValueError(f"shift must be >= 0 pixels, got {k}")
    if k == 0:
        return image
    return np.asarray(cv2.copyMakeBorder(image, k, 0, k, 0, cv2.BORDER_REPLICATE), np.uint8)


def shift_box(box: BBox, k: int) -> BBox:
    """``box`` in the image :func:`shift_image` made with the same ``k``."""
    return BBox(box.x1 + k, box.y1 + k, box.x2 + k, box.y2 + k)


def match_reads(truth: list[BBox], reads: list[PlateRead], iou: float = 0.5) -> list[int | None]:
    """Greedy one-to-one matching by IoU: for each labelled box, the index of its read (or None)."""
    return match_boxes(truth, [r.box for r in reads], iou)


def match_boxes(truth: list[BBox], found: list[BBox], iou: float = 0.5) -> list[int | None]:
    """Greedy one-to-one matching by IoU: for each labelled box, the index of its box in ``found`` (or None)."""
    pairs = sorted(((t.iou(b), i, j) for i, t in enumerate(truth) for j, b in enumerate(found)), reverse=True)
    out: list[int | None] = [None] * len(truth)
    used: set[int] = set()
    for v, i, j in pairs:
        if v < iou:
            break
        if out[i] is None and j not in used:
            out[i] = j
            used.add(j)
    return out


@dataclass
class E2EStats:
    plates: int = 0  # labelled plates with a text
    read: int = 0  # ... matched with the exact text
    boxes: int = 0  # labelled boxes (with or without text)
    detected: int = 0
    false_positives: int = 0
    images: int = 0
    ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        ms = sorted(self.ms)
        return {
            "plates": self.plates,
            "accuracy": round(self.read / self.plates, 4) if self.plates else None,
            "detection_recall": round(self.detected / self.boxes, 4) if self.boxes else None,
            "false_positives_per_image": round(self.false_positives / self.images, 4) if self.images else None,
            "images": self.images,
            "ms_per_image": round(ms[len(ms) // 2], 2) if ms else None,
        }


def evaluate_e2e(
    alpr: Any, samples: Iterable[SceneSample], load: Any, region_from_labels: bool = False
) -> dict[str, Any]:
    """Runs ``alpr`` on each sample image (``load(path) -> BGR``) and scores it; per region and overall.

    ``region_from_labels``: before each image, ``alpr.region`` is set to the image's labelled region (as a
    camera configured for its country would be; unknown regions: None).

    Returns:
        ``{"overall": {...}, "regions": {region: {...}}, "errors": [...], "misses": [...]}`` with accuracy,
        detection_recall, false_positives_per_image and median ms_per_image (decode excluded). ``misses`` has
        one entry per labelled plate that was not read: image key, region, label, and the best-overlapping
        returned plate (its text, IoU with the label, detection score; text None when nothing overlaps).
    """
    overall = E2EStats()
    per: dict[str, E2EStats] = defaultdict(E2EStats)
    errors = []
    misses: list[dict[str, Any]] = []
    for s in samples:
        try:
            img = load(s.path)
        except ValueError as e:
            errors.append(str(e))
            continue
        if region_from_labels:
            alpr.region = known_region(s.regions[0] if s.regions else "")
        t = time.perf_counter()
        reads = alpr.read(img)
        ms = (time.perf_counter() - t) * 1e3
        match = match_reads(list(s.boxes), reads)
        region = (s.regions[0] if s.regions else "") or "unknown"
        matched = {j for j in match if j is not None}
        labels = [normalize(p) for p in s.plates]
        hits = [j is not None and reads[j].text == t for t, j in zip(labels, match, strict=True)]
        for st in (overall, per[region]):
            st.images += 1
            st.ms.append(ms)
            st.false_positives += len(reads) - len(matched)
            st.boxes += len(match)
            st.detected += len(matched)
            st.plates += sum(map(bool, labels))
            st.read += sum(h for t, h in zip(labels, hits, strict=True) if t)
        for box, label, j, hit in zip(s.boxes, labels, match, hits, strict=True):
            if label and not hit:
                misses.append(_miss(s.key, region, box, label, reads, j))
    return {
        "overall": overall.as_dict(),
        "regions": {k: v.as_dict() for k, v in sorted(per.items())},
        "errors": errors,
        "misses": misses,
    }


def _miss(key: str, region: str, box: BBox, label: str, reads: list[PlateRead], j: int | None) -> dict[str, Any]:
    """A plate not read: the read it was matched with (``j``), else the one overlapping it most, if any."""
    near = reads[j] if j is not None else max(reads, key=lambda r: box.iou(r.box), default=None)
    iou = box.iou(near.box) if near is not None else 0.0
    if near is None or iou == 0:
        return {"image": key, "region": region, "label": label, "read": None, "iou": 0.0, "detection_score": None}
    return {
        "image": key,
        "region": region,
        "label": label,
        "read": near.text,
        "iou": round(iou, 3),
        "detection_score": round(near.detection.score, 3),
    }
