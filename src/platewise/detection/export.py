"""Export a trained detector checkpoint to ONNX (with the ``platewise`` metadata) or TorchScript (torch)."""

from __future__ import annotations

import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from platewise.detection.net import ExportWrapper, PlateDetectorNet
from platewise.runtime.cpu_layout import optimize_for_cpu
from platewise.training.export import set_metadata

__all__ = [
    "DEFAULT_NMS_THRESHOLD",
    "DEFAULT_SCORE_THRESHOLD",
    "calibration_images",
    "detector_metadata",
    "export_onnx",
    "export_torchscript",
    "quantize_int8",
]

DEFAULT_SCORE_THRESHOLD = 0.4
DEFAULT_NMS_THRESHOLD = 0.45
FORMAT_VERSION = 1


def detector_metadata(
    net: PlateDetectorNet,
    input_size: tuple[int, int] | None = None,
    score_threshold: float = DEFAULT_SCORE_THRESHOLD,
    nms_threshold: float = DEFAULT_NMS_THRESHOLD,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON stored under ONNX metadata key ``platewise``: what the runtime needs to pre/post-process."""
    c = net.cfg
    return {
        "kind": "detector",
        "version": FORMAT_VERSION,
        "name": c.name,
        "input_size": list(input_size or c.input_size),
        "mean": list(c.mean),
        "std": list(c.std),
        "color": "rgb",
        "layout": "NCHW",
        "strides": list(c.strides),
        "reg_max": c.reg_max,
        "score_threshold": score_threshold,
        "nms_threshold": nms_threshold,
        "outputs": ["scores", "box_dist", "corners"],
        "config": asdict(c),
        **(extra or {}),
    }


def export_onnx(
    net: PlateDetectorNet,
    out: str | Path,
    metadata: dict[str, Any] | None = None,
    opset: int = 17,
    *,
    cpu_layout: bool = True,
) -> Path:
    """Writes an ONNX file with dynamic batch, height and width (multiples of 32) and the metadata; with
    ``cpu_layout`` (default) rewritten by :func:`platewise.runtime.cpu_layout.optimize_for_cpu`, which keeps
    its outputs the same floats and makes it faster on ONNX Runtime's CPU provider."""
    import onnx

    net = net.eval().cpu()
    meta = metadata or detector_metadata(net)
    h, w = meta["input_size"]
    x = torch.zeros(1, 3, int(h), int(w))
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            ExportWrapper(net),
            (x,),
            str(p),
            input_names=["images"],
            output_names=["scores", "box_dist", "corners"],
            dynamic_axes={
                "images": {0: "batch", 2: "height", 3: "width"},
                "scores": {0: "batch", 1: "anchors"},
                "box_dist": {0: "batch", 1: "anchors"},
                "corners": {0: "batch", 1: "anchors"},
            },
            opset_version=opset,
            dynamo=False,
        )
    model = onnx.load(str(p))
    set_metadata(model, meta)
    onnx.save(model, str(p))
    if cpu_layout:
        optimize_for_cpu(p, p)
    return p


def export_torchscript(net: PlateDetectorNet, out: str | Path) -> Path:
    """Writes a traced TorchScript module whose forward returns (scores, box_dist, corners)."""
    net = net.eval().cpu()
    h, w = net.cfg.input_size
    traced = torch.jit.trace(ExportWrapper(net), torch.zeros(1, 3, h, w), check_trace=False)
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    traced.save(str(p))
    return p


def calibration_images(
    data_root: str | Path,
    folders: tuple[str, ...] = ("openlpr-scenes", "ro-dashcam", "openalpr-dev", "negatives"),
    n: int = 128,
    seed: int = 0,
) -> list[npt.NDArray[np.uint8]]:
    """``n`` real training-side scenes (hold-out excluded), drawn evenly over ``folders``, for int8 calibration."""
    from platewise.detection.dataset import load_records

    rng = np.random.default_rng(seed)
    per = max(1, n // len(folders))
    out: list[npt.NDArray[np.uint8]] = []
    for folder in folders:
        recs = load_records(data_root, (folder,), holdout=False)
        for i in rng.choice(len(recs), min(per, len(recs)), replace=False) if recs else []:
            out.append(recs[int(i)].image())
    if not out:
        raise ValueError(f"no training scenes under {data_root} for int8 calibration")
    return out


def quantize_int8(
    onnx_in: str | Path, onnx_out: str | Path, images: list[npt.NDArray[np.uint8]], batch: int = 8
) -> Path:
    """Static int8 quantization of an exported detector, calibrated on real scenes (HxWx3 uint8 BGR, any size),
    letterboxed and normalized exactly as :class:`platewise.detection.detector.PlateDetector` does."""
    from platewise.detection.preprocess import letterbox, to_input_tensor
    from platewise.runtime.onnx import OnnxModel
    from platewise.runtime.quantize import quantize_static_int8

    meta = OnnxModel(onnx_in, threads=1).metadata
    size = (int(meta["input_size"][0]), int(meta["input_size"][1]))
    boxed = [letterbox(im, size)[0] for im in images]
    feeds = [
        {"images": to_input_tensor(boxed[i : i + batch], tuple(meta["mean"]), tuple(meta["std"]), rgb=True)}
        for i in range(0, len(boxed), batch)
    ]
    return quantize_static_int8(onnx_in, onnx_out, feeds)
