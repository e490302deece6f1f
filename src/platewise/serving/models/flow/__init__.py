"""Built-in plug-in ``flow``: an image-in/image-out example that has nothing to do with plates.

Returns a float32 HxWx2 "flow" field: the image's intensity gradient (d/dx, d/dy) from Sobel filters,
i.e. the direction in which brightness grows. A stand-in for optical flow or segmentation models: it
proves raw tensors go out as well as in (gRPC ``RunImage``, HTTP ``Accept: application/octet-stream``).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from platewise.serving.interface import Args, ModelInterface


class Model(ModelInterface):
    """Image gradient field: HxWx3 uint8 image in, HxWx2 float32 (d/dx, d/dy of intensity) out."""

    name = "flow"
    input_kind = "image"
    output_kind = "tensor"

    def load(self, threads: int) -> None:
        cv2.setNumThreads(threads)

    def run(self, input: np.ndarray, args: Args) -> Any:  # noqa: A002
        gray = cv2.cvtColor(input, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
        out = np.empty((*gray.shape, 2), np.float32)
        out[..., 0] = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
        out[..., 1] = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
        return out
