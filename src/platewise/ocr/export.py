"""Checkpoint -> ONNX (with the platewise metadata contract) or TorchScript; plus a torch/ORT parity check."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from platewise import __version__
from platewise.ocr.net import PlateOCR
from platewise.training.export import set_metadata

__all__ = ["check_parity", "export_onnx", "export_torchscript", "ocr_metadata"]


def ocr_metadata(model: PlateOCR, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The preprocessing + decoding contract the runtime reads from the ONNX file."""
    c = model.cfg
    return {
        "kind": "ocr",
        "name": c.name,
        "version": __version__,
        "input_size": [c.img_height, c.img_width],
        "input_layout": "NCHW float32, (x / 255 - mean) / std",
        "mean": list(c.mean),
        "std": list(c.std),
        "color_order": "BGR",
        "alphabet": c.alphabet,
        "max_len": c.max_len,
        "pad_id": 0,
        "head": c.head,
        **(extra or {}),
    }


def export_onnx(model: PlateOCR, out: str | Path, *, opset: int = 17, extra: dict[str, Any] | None = None) -> Path:
    """Writes ``model`` as ONNX: input ``image`` (N, 3, H, W), output ``logits``; dynamic batch axis."""
    import onnx

    model = model.eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (model.export_inputs(2),),
            str(out),
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
    proto = onnx.load(str(out))
    set_metadata(proto, ocr_metadata(model, extra))
    proto.doc_string = f"platewise plate reader {model.cfg.name} ({model.cfg.head} head)"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))
    return out


def export_torchscript(model: PlateOCR, out: str | Path) -> Path:
    """Writes a traced TorchScript module (fixed graph, any batch size)."""
    model = model.eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, (model.export_inputs(2),))
    traced.save(str(out))
    return out


def check_parity(model: PlateOCR, onnx_path: str | Path, *, batch: int = 3, seed: int = 0) -> float:
    """Max absolute difference between torch and ONNX Runtime logits on random inputs."""
    import onnxruntime as ort

    model = model.eval()
    x = torch.from_numpy(
        np.random.default_rng(seed).normal(size=tuple(model.export_inputs(batch).shape)).astype(np.float32)
    )
    with torch.no_grad():
        ref = model(x).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"image": x.numpy()})[0]
    return float(np.abs(ref - got).max())


def quantize_int8(onnx_in: str | Path, onnx_out: str | Path, calibration: np.ndarray) -> Path:
    """Static int8 quantization (ONNX Runtime, QDQ, per-channel weights) calibrated on real crops.

    Args:
        onnx_in: an fp32 reader written by :func:`export_onnx` (its metadata is carried over).
        onnx_out: where the int8 model goes.
        calibration: (N, H, W, 3) uint8 BGR crops at the model's input size.
    """
    from platewise.ocr.preprocess import normalize_batch
    from platewise.runtime.onnx import OnnxModel
    from platewise.runtime.quantize import quantize_static_int8

    meta = OnnxModel(onnx_in, threads=1).metadata
    batches = [
        {"image": normalize_batch(calibration[i : i + 16], meta["mean"], meta["std"])}
        for i in range(0, len(calibration), 16)
    ]
    return quantize_static_int8(onnx_in, onnx_out, batches)
