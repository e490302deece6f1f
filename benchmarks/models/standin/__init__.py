"""Benchmark stand-in model: a fixed random 2-layer MLP on a 96x96 thumbnail, in numpy.

Cost per image is a few milliseconds on one core (resize + a 27648x512 and a 512x10 matmul), the size of
a small CNN: big enough to be a real model call, small enough that server overhead shows. Batches well
(one matmul per batch). Deterministic weights (seed 0), so outputs are comparable across runs.
"""

from __future__ import annotations

import cv2
import numpy as np

from platewise.serving.interface import ModelInterface

SIZE = 96
HIDDEN = 512


class Model(ModelInterface):
    """Stand-in classifier: 96x96 thumbnail -> 2-layer MLP -> class id and score."""

    name = "standin"
    input_kind = "image"

    def load(self, threads: int) -> None:
        cv2.setNumThreads(threads)
        rng = np.random.default_rng(0)
        self.w1 = (rng.standard_normal((SIZE * SIZE * 3, HIDDEN)) / 100).astype(np.float32)
        self.w2 = (rng.standard_normal((HIDDEN, 10)) / 10).astype(np.float32)

    def run_batch(self, inputs, args):
        x = np.stack([cv2.resize(im, (SIZE, SIZE), interpolation=cv2.INTER_AREA) for im in inputs])
        h = np.maximum(x.reshape(len(inputs), -1).astype(np.float32) / 255.0 @ self.w1, 0)
        logits = h @ self.w2
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        return [{"class": int(i), "score": round(float(r[i]), 4)} for r, i in zip(p, p.argmax(1), strict=False)]
