"""Image decoding and validation with safety limits (the edge where files and bytes become arrays).

Every image handed to a model goes through :func:`as_bgr`: HxWx3 uint8 BGR, contiguous.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from platewise.errors import InvalidImage

__all__ = ["IMAGE_EXTENSIONS", "MAX_PIXELS", "as_bgr", "decode_image", "load_image", "to_nchw"]

MAX_PIXELS = 40_000_000
"""Largest image accepted (about 8000x5000); guards against decompression bombs."""
MAX_BYTES = 64 * 1024 * 1024
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def _header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the file header without decoding pixels, or None when unknown."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.width), int(im.height)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> npt.NDArray[np.uint8]:
    """Encoded JPEG/PNG/WebP/BMP bytes -> HxWx3 uint8 BGR.

    Raises:
        InvalidImage: empty or oversized input, not an image, truncated, or more than ``max_pixels``.
    """
    if not data:
        raise InvalidImage("empty image data")
    if len(data) > MAX_BYTES:
        raise InvalidImage(f"image data of {len(data)} bytes is over the {MAX_BYTES} byte limit")
    size = _header_size(data)
    if size is None:
        raise InvalidImage("not a readable image (expected JPEG, PNG, WebP or BMP)")
    w, h = size
    if w * h > max_pixels:
        raise InvalidImage(f"image of {w}x{h} pixels is over the {max_pixels} pixel limit")
    arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise InvalidImage("image data is corrupt or truncated")
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-4096:]:
        raise InvalidImage("JPEG data is truncated (no end-of-image marker)")
    return as_bgr(arr)


def load_image(path: str | Path, *, max_pixels: int = MAX_PIXELS) -> npt.NDArray[np.uint8]:
    """Reads an image file -> HxWx3 uint8 BGR.

    Raises:
        InvalidImage: unreadable or invalid image (the message names the file).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InvalidImage(f"{p}: cannot read file ({e.strerror})") from None
    try:
        return decode_image(data, max_pixels=max_pixels)
    except InvalidImage as e:
        raise InvalidImage(f"{p}: {e}") from None


def as_bgr(image: object, *, rgb: bool = False, max_pixels: int = MAX_PIXELS) -> npt.NDArray[np.uint8]:
    """Validates an in-memory image and returns it as contiguous HxWx3 uint8 BGR.

    Accepts HxW (grayscale), HxWx1, HxWx3 (BGR, or RGB with ``rgb=True``) and HxWx4 (alpha dropped).

    Raises:
        InvalidImage: not a numpy array, wrong dtype, wrong number of dimensions or channels, empty, or
            more than ``max_pixels`` pixels.
    """
    if not isinstance(image, np.ndarray):
        raise InvalidImage(f"expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InvalidImage(f"expected dtype uint8, got {image.dtype} (scale to 0..255 and use .astype(np.uint8))")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise InvalidImage(f"expected HxW, HxWx1, HxWx3 or HxWx4, got shape {image.shape}")
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        raise InvalidImage(f"empty image of shape {image.shape}")
    if h * w > max_pixels:
        raise InvalidImage(f"image of {w}x{h} pixels is over the {max_pixels} pixel limit")
    if image.ndim == 2:
        return _u8(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    if image.shape[2] == 4:
        return _u8(cv2.cvtColor(image, cv2.COLOR_RGBA2BGR if rgb else cv2.COLOR_BGRA2BGR))
    if rgb:
        return _u8(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return np.ascontiguousarray(image)


def _u8(arr: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    """OpenCV results typed as uint8 (they are: OpenCV keeps the input depth); no copy."""
    return np.asarray(arr, dtype=np.uint8)


def to_nchw(
    images: Sequence[npt.NDArray[np.uint8]], mean: Sequence[float], std: Sequence[float], *, swap_rb: bool = False
) -> npt.NDArray[np.float32]:
    """HxWx3 uint8 images, all one size (at least one) -> an (N, 3, H, W) float32 network input,
    ``(x - mean) / std`` per channel, in pixel units (0..255).

    ``swap_rb`` turns BGR images into RGB input; ``mean`` and ``std`` are in the input's channel order. The
    detector and the reader both prepare their inputs here.
    """
    if not len(images):
        raise ValueError("to_nchw: no images")
    h, w = images[0].shape[:2]
    out = np.empty((len(images), 3, h, w), np.float32)
    order = (2, 1, 0) if swap_rb else (0, 1, 2)
    # float32 constants, passed as the doubles they equal: OpenCV then computes x - mean and (x - mean) * inv
    # exactly in double and rounds once to float32, which is numpy's float32 arithmetic bit for bit
    m = [float(np.float32(v)) for v in mean]
    inv = [float(np.float32(1.0 / float(v))) for v in std]
    # plane by plane into the output with OpenCV's arithmetic: much faster than cv2.dnn.blobFromImages or numpy's
    # astype + transpose on a 640x384 input (the detector card, "Speed"), and the same values
    for n, image in enumerate(images):
        if image.shape[:2] != (h, w):
            raise ValueError(f"to_nchw: images differ in size ({image.shape[:2]} and {(h, w)})")
        planes = cv2.split(image)
        for c, src in enumerate(order):
            dst = out[n, c]
            cv2.subtract(planes[src], m[c], dst=dst, dtype=cv2.CV_32F)  # type: ignore[call-overload]  # a scalar
            cv2.multiply(dst, inv[c], dst=dst)
    return out
