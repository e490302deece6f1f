"""Letterboxing and input tensors for the detector (numpy + OpenCV only).

Coordinate frames: the original image (pixels of what the caller passed) and the letterboxed input of
``size = (height, width)``; ``input = original * scale + (pad_x, pad_y)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from platewise.imageio import to_nchw

__all__ = ["Letterbox", "fitted_size", "letterbox", "to_input_tensor"]

PAD_VALUE = 114


@dataclass(frozen=True)
class Letterbox:
    """How an original image was placed into the input: ``input = original * scale + (pad_x, pad_y)``."""

    scale: float
    pad_x: float
    pad_y: float
    orig_h: int
    orig_w: int


def fitted_size(h: int, w: int, size: tuple[int, int]) -> tuple[int, int]:
    """(height, width) of an ``h`` x ``w`` image resized, aspect kept, to fit ``size = (h, w)`` (as in letterbox)."""
    th, tw = size
    scale = min(th / h, tw / w)
    return max(1, min(th, round(h * scale))), max(1, min(tw, round(w * scale)))


def letterbox(image: npt.NDArray[np.uint8], size: tuple[int, int]) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """Resizes an HxWx3 uint8 image (aspect kept) and pads it (value 114), centred, to ``size = (h, w)``.

    Returns:
        the (h, w, 3) uint8 input image and the :class:`Letterbox` that maps coordinates back.
    """
    th, tw = size
    h, w = image.shape[:2]
    scale = min(th / h, tw / w)
    nh, nw = fitted_size(h, w, size)
    interp = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
    top, left = (th - nh) // 2, (tw - nw) // 2
    out = np.full((th, tw, 3), PAD_VALUE, dtype=np.uint8)
    inner = out[top : top + nh, left : left + nw]
    if (nh, nw) == (h, w):
        inner[...] = image
    else:  # resized straight into the letterbox: no separate resized image to allocate and copy
        resized = cv2.resize(image, (nw, nh), dst=inner, interpolation=interp)
        if not np.shares_memory(resized, inner):  # an OpenCV that returned a new array instead
            inner[...] = resized
    return out, Letterbox(scale=nw / w if w else scale, pad_x=float(left), pad_y=float(top), orig_h=h, orig_w=w)


def to_input_tensor(
    images: list[npt.NDArray[np.uint8]],
    mean: tuple[float, ...] = (127.5, 127.5, 127.5),
    std: tuple[float, ...] = (128.0, 128.0, 128.0),
    rgb: bool = True,
) -> npt.NDArray[np.float32]:
    """Letterboxed HxWx3 BGR uint8 images (all the same size) -> (N,3,H,W) float32, ``(x - mean) / std``.

    ``mean``/``std`` are in the network's channel order (RGB when ``rgb``).
    """
    return to_nchw(images, mean, std, swap_rb=rgb)
