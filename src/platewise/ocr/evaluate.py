"""Accuracy and speed of a reader on a labelled CSV (crops or scenes format); numpy + onnxruntime only.

Exact match = normalized prediction equals the normalized label. Character accuracy = 1 - Levenshtein
distance / max(len(label), len(prediction)), averaged over plates. Regions are grouped by family (the part
before ``-``: ``us-ak`` counts as ``us``). Rows with an empty plate are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from platewise.data.sources import CropSample, SceneSample, crop_box_with_padding, read_labels
from platewise.data.splits import is_holdout
from platewise.imageio import load_image
from platewise.plates import edit_distance, normalize
from platewise.plates.formats import known_region

__all__ = ["EvalItem", "char_accuracy", "load_eval_items", "score", "evaluate_reader"]

Split = Literal["all", "holdout", "train"]


@dataclass(frozen=True)
class EvalItem:
    image: npt.NDArray[np.uint8]
    text: str
    region: str


def char_accuracy(pred: str, truth: str) -> float:
    """1 - edit distance / max(len), in [0, 1]; 1.0 when both are empty."""
    n = max(len(pred), len(truth))
    return 1.0 if n == 0 else 1.0 - edit_distance(pred, truth) / n


def _keep(key: str, split: Split) -> bool:
    return split == "all" or is_holdout(key) == (split == "holdout")


def load_eval_items(
    labels: str | Path, root: str | Path | None = None, split: Split = "all", pad: float = 0.1
) -> list[EvalItem]:
    """Crops to read: the crops of a crops CSV, or each labelled box of a scenes CSV cut with ``pad`` padding."""
    kind, samples = read_labels(labels, root)
    items: list[EvalItem] = []
    if kind == "crops":
        for c in samples:
            assert isinstance(c, CropSample)
            if normalize(c.plate) and _keep(c.key, split):
                items.append(EvalItem(load_image(c.path), normalize(c.plate), c.region))
        return items
    for s in samples:
        assert isinstance(s, SceneSample)
        if not any(normalize(p) for p in s.plates) or not _keep(s.key, split):
            continue
        img = load_image(s.path)
        for box, plate, region in zip(s.boxes, s.plates, s.regions, strict=False):
            if normalize(plate):
                x1, y1, x2, y2 = crop_box_with_padding(img.shape[1], img.shape[0], box, pad)
                if x2 > x1 and y2 > y1:
                    items.append(EvalItem(np.ascontiguousarray(img[y1:y2, x1:x2]), normalize(plate), region))
    return items


def score(preds: Sequence[str], items: Sequence[EvalItem]) -> dict[str, Any]:
    """Per-region-family and overall ``{"n", "exact_match", "char_accuracy"}``."""
    groups: dict[str, list[tuple[bool, float]]] = {}
    for p, it in zip(preds, items, strict=False):
        fam = (it.region or "unknown").split("-")[0]
        groups.setdefault(fam, []).append((normalize(p) == it.text, char_accuracy(normalize(p), it.text)))

    def agg(rows: list[tuple[bool, float]]) -> dict[str, float]:
        return {
            "n": len(rows),
            "exact_match": float(np.mean([r[0] for r in rows])) if rows else 0.0,
            "char_accuracy": float(np.mean([r[1] for r in rows])) if rows else 0.0,
        }

    return {
        "overall": agg([r for g in groups.values() for r in g]),
        "regions": {k: agg(v) for k, v in sorted(groups.items())},
    }


def evaluate_reader(
    reader: Any, items: Sequence[EvalItem], batch_size: int = 32, region: str | None = None
) -> dict[str, Any]:
    """Reads every item with ``reader.read`` in batches; returns :func:`score` plus ``ms_per_plate``
    (wall time of ``read``, preprocessing included, divided by the number of plates).

    ``region``: None = the reader's best reading; a region (``cn``) = the best of the reader's candidates that
    fits that region's formats, as ``platewise read --region`` chooses; ``"labels"`` = each row's own labelled
    region (``platewise.plates.formats.known_region``; rows of an unknown region keep the best reading).
    """
    from platewise.pipeline.alpr import choose_candidate

    preds: list[str] = []
    t = 0.0
    for i in range(0, len(items), batch_size):
        chunk = items[i : i + batch_size]
        t0 = time.perf_counter()
        texts = reader.read([it.image for it in chunk])
        t += time.perf_counter() - t0
        for it, r in zip(chunk, texts, strict=True):
            want = known_region(it.region) if region == "labels" else region
            preds.append(choose_candidate(r, want)[0] if want else r.text)
    out = score(preds, items)
    out["ms_per_plate"] = 1000.0 * t / max(1, len(items))
    out["batch_size"] = batch_size
    out["predictions"] = [{"text": it.text, "pred": p} for it, p in zip(items, preds, strict=False) if p != it.text]
    return out
