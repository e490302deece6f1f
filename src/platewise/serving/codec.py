"""Bytes and tensors <-> numpy arrays, with the server's safety limits.

Inputs arrive as encoded image bytes (decoded by :func:`platewise.imageio.decode_image`, which checks the
header size before decoding: decompression bombs are refused) or as raw tensors (bytes + shape + dtype,
C order, little endian), whose byte count must match shape x itemsize exactly. Nothing is base64.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from platewise.errors import InvalidImage, InvalidInput
from platewise.imageio import as_bgr, decode_image
from platewise.serving.interface import ModelSpec

__all__ = [
    "ALLOWED_DTYPES",
    "Limits",
    "check_input",
    "decode_input",
    "parse_shape",
    "tensor_from_bytes",
    "to_json_text",
]

ALLOWED_DTYPES = ("uint8", "int8", "uint16", "int16", "int32", "int64", "float16", "float32", "float64", "bool")
MAX_DIMS = 6


@dataclass(frozen=True)
class Limits:
    """Per-request limits: encoded/raw bytes, pixels of an image, elements of a tensor, inputs per batch."""

    max_bytes: int = 32 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_inputs: int = 64

    @property
    def max_elements(self) -> int:
        return self.max_bytes  # a uint8 tensor of max_bytes; wider dtypes hit the byte limit first


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1080,1920,3"`` (or ``"1080x1920x3"``) -> ``(1080, 1920, 3)``.

    Raises:
        InvalidInput: not a list of non-negative integers.
    """
    parts = [p for p in text.replace("x", ",").replace(" ", "").split(",") if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"shape {text!r} must be comma-separated integers, e.g. 1080,1920,3") from None
    return shape


def tensor_from_bytes(data: bytes, shape: Sequence[int], dtype: str, limits: Limits) -> npt.NDArray[Any]:
    """A raw tensor (C order, little endian) -> a read-only ndarray view of ``data`` (no copy).

    Raises:
        InvalidInput: unknown dtype, bad shape, too many elements or bytes, or a byte count that does not
            match shape x itemsize.
    """
    if dtype not in ALLOWED_DTYPES:
        raise InvalidInput(f"dtype {dtype!r} is not accepted; use one of {', '.join(ALLOWED_DTYPES)}")
    shape = tuple(int(d) for d in shape)
    if not 1 <= len(shape) <= MAX_DIMS or any(d <= 0 for d in shape):
        raise InvalidInput(f"shape {list(shape)} must have 1..{MAX_DIMS} positive dimensions")
    n = math.prod(shape)
    dt = np.dtype(dtype).newbyteorder("<")
    if n > limits.max_elements or n * dt.itemsize > limits.max_bytes:
        raise InvalidInput(f"tensor of shape {list(shape)} is over the {limits.max_bytes} byte limit")
    if len(data) != n * dt.itemsize:
        raise InvalidInput(
            f"tensor data has {len(data)} bytes but shape {list(shape)} of {dtype} needs {n * dt.itemsize}"
        )
    return np.frombuffer(data, dtype=dt).reshape(shape)


def check_input(arr: npt.NDArray[Any], spec: ModelSpec, limits: Limits) -> npt.NDArray[Any]:
    """Validates an array against what the model accepts; image models get contiguous HxWx3 uint8 BGR.

    Raises:
        InvalidImage: an image model given something that is not an HxW/HxWx1/3/4 uint8 image, or too big.
        InvalidInput: a tensor model given the wrong dtype or shape.
    """
    if spec.input_kind == "image":
        return as_bgr(arr, max_pixels=limits.max_pixels)
    if spec.input_dtype and arr.dtype != np.dtype(spec.input_dtype):
        raise InvalidInput(f"model {spec.name} takes dtype {spec.input_dtype}, got {arr.dtype}")
    want = spec.input_shape
    if want and (len(want) != arr.ndim or any(w not in (-1, a) for w, a in zip(want, arr.shape, strict=False))):
        raise InvalidInput(f"model {spec.name} takes shape {list(want)} (-1 = any), got {list(arr.shape)}")
    return arr


def decode_input(
    *,
    spec: ModelSpec,
    limits: Limits,
    encoded: bytes | None = None,
    tensor: tuple[bytes, Sequence[int], str] | None = None,
) -> npt.NDArray[Any]:
    """One request input (encoded image bytes, or raw tensor (data, shape, dtype)) -> a checked array.

    Raises:
        InvalidImage: undecodable, truncated, fake or oversized image.
        InvalidInput: malformed tensor, wrong dtype/shape, or neither/both of encoded and tensor.
    """
    if (encoded is None) == (tensor is None):
        raise InvalidInput("give exactly one input: encoded image bytes or a raw tensor")
    if encoded is not None:
        if spec.input_kind != "image":
            raise InvalidInput(f"model {spec.name} takes a raw tensor, not an encoded image")
        if len(encoded) > limits.max_bytes:
            raise InvalidImage(f"image of {len(encoded)} bytes is over the {limits.max_bytes} byte limit")
        return decode_image(encoded, max_pixels=limits.max_pixels)
    assert tensor is not None
    data, shape, dtype = tensor
    arr = tensor_from_bytes(data, shape, dtype, limits)
    return check_input(arr, spec, limits)


def _default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    to_dict = getattr(o, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def to_json_text(obj: Any) -> str:
    """A model's JSON output -> compact JSON text (numpy scalars/arrays and ``to_dict()`` objects allowed)."""
    return json.dumps(obj, default=_default, separators=(",", ":"), allow_nan=False)
