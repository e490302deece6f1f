"""ONNX export of the small crop networks (the plate verifier, the corner network): NCHW float crops in,
one named output, the platewise metadata attached (:mod:`platewise.runtime.onnx`)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

__all__ = ["export_crop_model", "read_metadata", "set_metadata", "update_metadata"]


def export_crop_model(net: Any, path: Path, size: tuple[int, int], output: str, meta: dict[str, Any]) -> None:
    """Exports ``net`` (a torch module taking (N, 3, h, w) crops, ``size`` = (h, w)) to ``path`` (opset 17,
    dynamic batch; input ``crops``, output ``output``) with ``meta`` as the ``platewise`` metadata property."""
    import onnx
    import torch

    net.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.zeros(1, 3, *size),),
            str(path),
            input_names=["crops"],
            output_names=[output],
            dynamic_axes={"crops": {0: "n"}, output: {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
    model = onnx.load(str(path))
    set_metadata(model, meta)
    onnx.save(model, str(path))


def read_metadata(model: Any) -> dict[str, Any]:
    """The ``platewise`` metadata property of a loaded ONNX model (``onnx.ModelProto``); {} where it has none."""
    from platewise.runtime.onnx import METADATA_KEY

    for e in model.metadata_props:
        if e.key == METADATA_KEY:
            return dict(json.loads(e.value))
    return {}


def set_metadata(model: Any, meta: dict[str, Any]) -> None:
    """Makes ``meta`` the loaded ONNX model's only metadata property (``platewise``; JSON, non-ASCII kept as
    it is: the reader's character set)."""
    from platewise.runtime.onnx import METADATA_KEY

    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(meta, ensure_ascii=False)


def update_metadata(path: Path, updates: dict[str, Any]) -> dict[str, Any]:
    """Rewrites the ``platewise`` metadata property of the ONNX file ``path`` with ``updates`` merged in (the
    weights are untouched); returns the new metadata."""
    import onnx

    model = onnx.load(str(path))
    meta = {**read_metadata(model), **updates}
    set_metadata(model, meta)
    onnx.save(model, str(path))
    return meta
