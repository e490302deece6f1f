"""End-to-end evaluation on labelled scenes: a labelled plate counts as read when a returned plate overlaps it
(IoU >= 0.5) and its text equals the label exactly."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from platewise.data.sources import SceneSample
from platewise.plates.normalize import normalize
from platewise.types import BBox, PlateRead

__all__ = ["E2EStats", "match_reads", "evaluate_e2e"]


def match_reads(truth: list[BBox], reads: list[PlateRead], iou: float = 0.5) -> list[int | None]:
    """Greedy one-to-one matching by IoU: for each labelled box, the index of its read (or None)."""
    pairs = sorted(((t.iou(r.box), i, j) for i, t in enumerate(truth) for j, r in enumerate(reads)), reverse=True)
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


def evaluate_e2e(alpr: Any, samples: Iterable[SceneSample], load: Any) -> dict[str, Any]:
    """Runs ``alpr`` on each sample image (``load(path) -> BGR``) and scores it; per region and overall.

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
        t = time.perf_counter()
        reads = alpr.read(img)
        ms = (time.perf_counter() - t) * 1e3
        match = match_reads(list(s.boxes), reads)
        region = (s.regions[0] if s.regions else "") or "unknown"
        matched = {j for j in match if j is not None}
        for st in (overall, per[region]):
            st.images += 1
            st.ms.append(ms)
            st.false_positives += len(reads) - len(matched)
            for label, j in zip(s.plates, match, strict=True):
                st.boxes += 1
                st.detected += j is not None
                if label:
                    st.plates += 1
                    st.read += j is not None and reads[j].text == normalize(label)
        for box, label, j in zip(s.boxes, s.plates, match, strict=True):
            if label and (j is None or reads[j].text != normalize(label)):
                misses.append(_miss(s.key, region, box, normalize(label), reads))
    return {
        "overall": overall.as_dict(),
        "regions": {k: v.as_dict() for k, v in sorted(per.items())},
        "errors": errors,
        "misses": misses,
    }


def _miss(key: str, region: str, box: BBox, label: str, reads: list[PlateRead]) -> dict[str, Any]:
    best = max(reads, key=lambda r: box.iou(r.box), default=None)
    iou = box.iou(best.box) if best is not None else 0.0
    return {
        "image": key,
        "region": region,
        "label": label,
        "read": best.text if best is not None and iou > 0 else None,
        "iou": round(iou, 3),
        "detection_score": round(best.detection.score, 3) if best is not None and iou > 0 else None,
    }
