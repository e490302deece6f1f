"""Deterministic stand-ins for the detector and the reader, for tests and plumbing (no model files)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from platewise.types import BBox, Corners, Detection, PlateText

__all__ = ["FakeDetector", "FakeRecognizer"]


class FakeDetector:
    """Returns fixed detections, given in relative (0..1) coordinates, for every image."""

    def __init__(self, boxes: list[tuple[float, float, float, float]], score: float = 0.9) -> None:
        self.boxes = boxes
        self.score = score

    def detect(self, images: list[npt.NDArray[np.uint8]], rgb: bool = False) -> list[list[Detection]]:
        out = []
        for im in images:
            h, w = im.shape[:2]
            ds = []
            for x1, y1, x2, y2 in self.boxes:
                b = BBox(x1 * w, y1 * h, x2 * w, y2 * h)
                ds.append(Detection(b, Corners.from_box(b), self.score))
            out.append(ds)
        return out


class FakeRecognizer:
    """Reads every crop as ``text`` with fixed confidences; records the batches it was given."""

    def __init__(
        self, text: str = "AB123CD", confidence: float = 0.9, candidates: tuple[tuple[str, float], ...] = ()
    ) -> None:
        self.text = text
        self.confidence = confidence
        self.candidates = candidates or ((text, confidence),)
        self.batches: list[tuple[int, ...]] = []

    @property
    def input_size(self) -> tuple[int, int]:
        return (32, 128)

    def read_prepared(self, batch: npt.NDArray[np.uint8]) -> list[PlateText]:
        self.batches.append(tuple(batch.shape))
        per = self.confidence ** (1.0 / max(1, len(self.text)))
        return [PlateText(self.text, self.confidence, (per,) * len(self.text), self.candidates) for _ in batch]
