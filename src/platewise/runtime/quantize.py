"""Static int8 quantization of a platewise ONNX model (ONNX Runtime QDQ), shared by the reader and the detector.

Needs the ``onnx`` package (the ``[train]`` extra); the quantized file runs on plain ONNX Runtime.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from platewise.training.export import read_metadata, set_metadata

__all__ = ["quantize_static_int8"]


def quantize_static_int8(
    onnx_in: str | Path,
    onnx_out: str | Path,
    batches: Iterable[dict[str, np.ndarray]],
    *,
    op_types: tuple[str, ...] = ("MatMul", "Gemm", "Conv"),
) -> Path:
    """Writes an int8 copy of ``onnx_in`` (QDQ, per-channel int8 weights, uint8 activations).

    Args:
        onnx_in: an fp32 model carrying the ``platewise`` metadata entry (copied over, with a ``quantized`` key).
        onnx_out: where the int8 model goes.
        batches: calibration feeds (input name -> float32 array), already pre-processed like at inference.
        op_types: the operators to quantize.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    src = onnx.load(str(onnx_in))
    meta = read_metadata(src)
    if not meta:
        raise ValueError(f"{onnx_in} has no platewise metadata; export it with 'platewise export' first")
    feeds = iter(list(batches))

    class _Reader(CalibrationDataReader):  # type: ignore[misc]
        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(feeds, None)

    out = Path(onnx_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    quantize_static(
        str(onnx_in),
        str(out),
        _Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
        op_types_to_quantize=list(op_types),
    )
    q = onnx.load(str(out))
    set_metadata(q, {**meta, "quantized": "int8 static QDQ, per-channel weights"})
    onnx.save(q, str(out))
    return out
