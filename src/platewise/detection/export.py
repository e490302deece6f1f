"""Export a trained detector checkpoint to ONNX (with the ``platewise`` metadata) or TorchScript (torch)."""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from platewise.detection.net import ExportWrapper, PlateDetectorNet

__all__ = ["DEFAULT_NMS_THRESHOLD", "DEFAULT_SCORE_THRESHOLD", "detector_metadata", "export_onnx", "export_torchscript"]

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
    net: PlateDetectorNet, out: str | Path, metadata: dict[str, Any] | None = None, opset: int = 17
) -> Path:
    """Writes an ONNX file with dynamic batch, height and width (multiples of 32) and the metadata."""
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
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = "platewise", json.dumps(meta)
    onnx.save(model, str(p))
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
