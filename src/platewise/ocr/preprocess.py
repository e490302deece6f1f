"""Plate crop -> network input (numpy + OpenCV only; the inference path)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from platewise.imageio import to_nchw

__all__ = ["cut_side_views", "normalize_batch", "resize_crop"]


def resize_crop(image: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """Resizes a whole HxWx3 uint8 BGR crop to ``size`` = (height, width), ignoring the aspect ratio.

    INTER_AREA when shrinking (no aliasing), INTER_LINEAR when enlarging. Returns (height, width, 3) uint8.
    """
    h, w = size
    if image.shape[0] == h and image.shape[1] == w:
        return image
    shrink = image.shape[0] > h or image.shape[1] > w
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, (w, h), interpolation=interp), dtype=np.uint8)


def cut_side_views(
    image: npt.NDArray[np.uint8], share: float, size: tuple[int, int]
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Two more views of a plate crop for view fusion: ``share`` of its width (at least 1 px) cut off its left
    side, then off its right side, each resized to ``size`` (:func:`resize_crop`)."""
    cut = max(1, int(share * image.shape[1]))
    return resize_crop(image[:, cut:], size), resize_crop(image[:, :-cut], size)


def normalize_batch(
    batch: npt.NDArray[np.uint8], mean: Sequence[float], std: Sequence[float]
) -> npt.NDArray[np.float32]:
    """(N, H, W, 3) uint8 BGR -> (N, 3, H, W) float32, ``(x / 255 - mean) / std`` per channel (BGR order)."""
    if batch.shape[0] == 0:
        return np.zeros((0, 3, *batch.shape[1:3]), dtype=np.float32)
    return to_nchw(list(batch), [255.0 * v for v in mean], [255.0 * v for v in std])
