"""The plate verifier: a second look at each candidate box the detector finds (ONNX Runtime + numpy + OpenCV).

The detector's false detections at its threshold are mostly things that look like a plate at its 640x384
input: tail lights, badges, signs, shop logos, time stamps burnt into a frame, kerbs. Its missed plates are
mostly found but scored too low (``benchmarks/detector_misses.py``). The verifier is a small CNN that sees
each candidate box, with some context, at a fixed size in the original image's resolution and says how
plate-like it is. :class:`PlateDetector` runs it on every candidate down to ``candidate_threshold`` and
replaces the score with a logistic combination of both:

    score = sigmoid(a * logit(detector score) + b * logit(verifier probability) + c)

``a, b, c``, the candidate threshold and the final score threshold are fitted on a calibration part of the
training side (``platewise.detection.verifier_train``) and stored in the model's metadata.

    v = PlateVerifier()                          # shipped weights
    p = v.probabilities(image_bgr, boxes)        # (K,) in [0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from platewise.runtime.onnx import load_model

__all__ = ["DEFAULT_VERIFIER", "PlateVerifier", "combine_scores", "verifier_crops"]

DEFAULT_VERIFIER = Path(__file__).resolve().parent.parent / "weights" / "verifier.onnx"
_EPS = 1e-6


def verifier_crops(
    image: npt.NDArray[np.uint8],
    boxes: npt.NDArray[np.float32],
    size: tuple[int, int],
    pad_x: float,
    pad_y: float,
) -> npt.NDArray[np.uint8]:
    """Each box grown by ``pad_x`` of its width on the left and right and ``pad_y`` of its height above and
    below, resampled to ``size`` (h, w): (K, h, w, 3) uint8, BGR. Parts outside the image are black; a box
    of zero width or height gives a crop of its (1-pixel) neighbourhood instead of failing."""
    h, w = size
    out = np.zeros((len(boxes), h, w, 3), np.uint8)
    img = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes, np.float64).reshape(-1, 4)):
        bw, bh = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
        rx1, ry1 = x1 - pad_x * bw, y1 - pad_y * bh
        rw, rh = bw * (1 + 2 * pad_x), bh * (1 + 2 * pad_y)
        sx, sy = w / rw, h / rh
        ix1, iy1 = max(int(np.floor(rx1)), 0), max(int(np.floor(ry1)), 0)
        ix2 = min(int(np.ceil(rx1 + rw)), img.shape[1])
        iy2 = min(int(np.ceil(ry1 + rh)), img.shape[0])
        if ix2 <= ix1 or iy2 <= iy1:
            continue  # wholly outside the image: stays black
        ox, oy = max(0, round((ix1 - rx1) * sx)), max(0, round((iy1 - ry1) * sy))
        tw = min(max(1, round((ix2 - ix1) * sx)), w - ox)
        th = min(max(1, round((iy2 - iy1) * sy)), h - oy)
        if tw <= 0 or th <= 0:
            continue
        interp = cv2.INTER_AREA if min(sx, sy) < 1 else cv2.INTER_LINEAR  # area: no aliasing when shrinking
        out[i, oy : oy + th, ox : ox + tw] = cv2.resize(img[iy1:iy2, ix1:ix2], (tw, th), interpolation=interp)
    return out


def _logit(p: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    q: npt.NDArray[np.float32] = np.clip(p.astype(np.float32), _EPS, 1 - _EPS)
    out: npt.NDArray[np.float32] = np.log(q / (1 - q)).astype(np.float32)
    return out


def combine_scores(
    detector: npt.NDArray[np.float32], verifier: npt.NDArray[np.float32], weights: tuple[float, float, float]
) -> npt.NDArray[np.float32]:
    """``sigmoid(a * logit(detector) + b * logit(verifier) + c)`` with ``weights = (a, b, c)``."""
    a, b, c = weights
    z = a * _logit(detector) + b * _logit(verifier) + c
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


class PlateVerifier:
    """How plate-like each candidate box of an image is.

    Args:
        path: an ONNX file written by ``python -m platewise.detection.verifier_train`` (None = shipped).
        threads: ONNX Runtime intra-op threads (None = ``PLATEWISE_THREADS`` or min(2, cores)).
        batch_size: crops per ONNX Runtime call.
    """

    def __init__(self, path: str | Path | None = None, threads: int | None = None, batch_size: int = 64) -> None:
        path = DEFAULT_VERIFIER if path is None else path
        self.model = load_model(path, kind="verifier", name="plate verifier", threads=threads)
        meta = self.model.metadata
        self.size = (int(meta["input_size"][0]), int(meta["input_size"][1]))
        self.pad_x, self.pad_y = float(meta["pad"][0]), float(meta["pad"][1])
        a, b, c = (float(v) for v in meta["combine"])
        self.combine: tuple[float, float, float] = (a, b, c)
        self.candidate_threshold = float(meta["candidate_threshold"])
        self.score_threshold = float(meta["score_threshold"])
        # the combined score at which the pipeline (ALPR) detects with this verifier; None: the pipeline's default
        self.pipeline_threshold: float | None = None
        if meta.get("pipeline_threshold") is not None:
            self.pipeline_threshold = float(meta["pipeline_threshold"])
            if not 0.0 <= self.pipeline_threshold <= 1.0:
                raise ValueError(f"the verifier's pipeline_threshold {self.pipeline_threshold} must be in [0, 1]")
        self.batch_size = max(1, int(batch_size))
        self.metadata = meta

    def probabilities(self, image: npt.NDArray[np.uint8], boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """(K,) probabilities that each box (x1, y1, x2, y2, image pixels) holds a plate; ``image`` BGR uint8."""
        return self.probabilities_many([image], [boxes])[0]

    def probabilities_many(
        self, images: Sequence[npt.NDArray[np.uint8]], boxes: Sequence[npt.NDArray[np.float32]]
    ) -> list[npt.NDArray[np.float32]]:
        """:meth:`probabilities` for several images at once: the crops of all of them go through the network
        together (fewer, fuller ONNX Runtime calls). One (K,) array per image, in order."""
        if len(images) != len(boxes):
            raise ValueError(f"{len(images)} images but {len(boxes)} box arrays")
        per = [np.asarray(b, np.float32).reshape(-1, 4) for b in boxes]
        counts = [len(b) for b in per]
        if not sum(counts):
            return [np.zeros(0, np.float32) for _ in per]
        crops = np.concatenate(
            [verifier_crops(im, b, self.size, self.pad_x, self.pad_y) for im, b in zip(images, per, strict=True)]
        )
        z = self.model.run_crops(crops, self.batch_size).reshape(-1)
        p = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return list(np.split(p, np.cumsum(counts)[:-1]))

    def rescore(
        self, image: npt.NDArray[np.uint8], boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """The combined scores of the detector's candidates (see the module docstring)."""
        return self.rescore_many([image], [boxes], [scores])[0]

    def rescore_many(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        boxes: Sequence[npt.NDArray[np.float32]],
        scores: Sequence[npt.NDArray[np.float32]],
    ) -> list[npt.NDArray[np.float32]]:
        """:meth:`rescore` for several images at once (one network pass over all their candidates)."""
        probs = self.probabilities_many(images, boxes)
        return [combine_scores(np.asarray(s, np.float32), p, self.combine) for s, p in zip(scores, probs, strict=True)]
