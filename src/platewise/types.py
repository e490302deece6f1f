"""Frozen result types that cross every boundary: pipeline, server replies, store rows, CLI output.

Coordinates are pixels of the original image, x to the right, y down.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["BBox", "Corners", "Detection", "ImageBGR", "PlateRead", "PlateText"]

ImageBGR = npt.NDArray[np.uint8]
"""An HxWx3 uint8 image in BGR order (OpenCV's)."""


@dataclass(frozen=True)
class BBox:
    """Axis-aligned box: top-left (x1, y1), bottom-right (x2, y2), in pixels."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    def iou(self, other: BBox) -> float:
        ix = max(0.0, min(self.x2, other.x2) - max(self.x1, other.x1))
        iy = max(0.0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = ix * iy
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0

    def as_list(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]


@dataclass(frozen=True)
class Corners:
    """The 4 plate corners, ordered top-left, top-right, bottom-right, bottom-left; each (x, y)."""

    points: tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]

    @classmethod
    def from_array(cls, arr: npt.ArrayLike) -> Corners:
        a = np.asarray(arr, dtype=np.float64).reshape(4, 2)
        return cls(tuple((float(x), float(y)) for x, y in a))  # type: ignore[arg-type]

    @classmethod
    def from_box(cls, box: BBox) -> Corners:
        return cls(((box.x1, box.y1), (box.x2, box.y1), (box.x2, box.y2), (box.x1, box.y2)))

    def as_array(self) -> npt.NDArray[np.float32]:
        return np.asarray(self.points, dtype=np.float32)


@dataclass(frozen=True)
class Detection:
    """One detected plate: its box, its 4 corners and the detector's score in [0, 1]."""

    box: BBox
    corners: Corners
    score: float


@dataclass(frozen=True)
class PlateText:
    """What the reader made of one plate crop.

    Attributes:
        text: the best reading, normalized (upper case, no separators).
        confidence: product of the per-character confidences, in [0, 1].
        char_confidences: one confidence per character of ``text``.
        candidates: top-N alternative readings as (text, confidence), best first; includes ``text``.
    """

    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    candidates: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class PlateRead:
    """One plate found and read in an image."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    candidates: tuple[tuple[str, float], ...]
    region: str | None
    detection: Detection
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def box(self) -> BBox:
        return self.detection.box

    @property
    def corners(self) -> Corners:
        return self.detection.corners

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists instead of tuples)."""
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "char_confidences": [round(c, 4) for c in self.char_confidences],
            "candidates": [{"text": t, "confidence": round(c, 4)} for t, c in self.candidates],
            "region": self.region,
            "box": [round(v, 1) for v in self.detection.box.as_list()],
            "corners": [[round(x, 1), round(y, 1)] for x, y in self.detection.corners.points],
            "detection_score": round(self.detection.score, 4),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlateRead:
        box = BBox(*map(float, d["box"]))
        det = Detection(box=box, corners=Corners.from_array(d["corners"]), score=float(d["detection_score"]))
        return cls(
            text=str(d["text"]),
            confidence=float(d["confidence"]),
            char_confidences=tuple(float(c) for c in d["char_confidences"]),
            candidates=tuple((str(c["text"]), float(c["confidence"])) for c in d.get("candidates", [])),
            region=d.get("region"),
            detection=det,
        )


def _asdict(obj: Any) -> dict[str, Any]:  # pragma: no cover - convenience for debugging
    return asdict(obj)
