"""ONNX Runtime session with the platewise metadata contract.

Every platewise ONNX file stores one metadata property ``platewise`` holding a JSON object: the
preprocessing contract (input size, mean/std, colour order), the model kind and version, and kind-specific
keys (the alphabet for readers; strides and thresholds for detectors). The runtime reads these; it never
hard-codes them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from platewise.errors import InvalidInput, ModelNotFound

__all__ = ["METADATA_KEY", "OnnxModel", "default_threads", "load_model"]

METADATA_KEY = "platewise"


def default_threads() -> int:
    """Intra-op threads: ``PLATEWISE_THREADS`` if set, else min(2, cores)."""
    env = os.environ.get("PLATEWISE_THREADS")
    if env:
        return max(1, int(env))
    return max(1, min(2, os.cpu_count() or 1))


class OnnxModel:
    """A loaded ONNX model: ``run(inputs)`` and its ``metadata`` dict.

    Args:
        path: the .onnx file.
        threads: intra-op threads (default :func:`default_threads`).
    """

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort

        p = Path(path)
        if not p.is_file():
            raise ModelNotFound(f"model file {p} not found")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # Threads that spin-wait between a graph's nodes save waking up for each node, but the pipeline
        # alternates several sessions (detector, verifier, corner network, reader): threads left spinning after a
        # run steal the cores from the next session. PLATEWISE_ORT_SPIN: "run" (default) spins during a run and
        # stops when it returns; "0" never spins; "1" is ONNX Runtime's default (spin after runs too).
        spin = os.environ.get("PLATEWISE_ORT_SPIN", "run")
        if spin not in ("run", "0", "1"):
            raise InvalidInput(f"PLATEWISE_ORT_SPIN must be run, 0 or 1, got {spin!r}")
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0" if spin == "0" else "1")
        if spin == "run":
            opts.add_session_config_entry("session.force_spinning_stop", "1")
        self.path = p
        self.session = ort.InferenceSession(str(p), sess_options=opts, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata: dict[str, Any] = json.loads(meta[METADATA_KEY]) if METADATA_KEY in meta else {}
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, *inputs: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
        """Runs the graph on positional inputs (in the graph's input order); returns the outputs in order."""
        feed = {name: np.ascontiguousarray(x) for name, x in zip(self.input_names, inputs, strict=False)}
        return list(self.session.run(self.output_names, feed))

    def run_crops(self, crops: npt.NDArray[np.uint8], batch_size: int) -> npt.NDArray[np.float32]:
        """The single output of a crop model (the plate verifier, the corner network) for uint8 crops (N, h, w, 3),
        fed ``batch_size`` at a time as float NCHW in [0, 1]: (N, D) float32, one row per crop."""
        out = []
        for s in range(0, len(crops), batch_size):
            x = crops[s : s + batch_size].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
            (y,) = self.run(x)
            out.append(np.asarray(y, np.float32).reshape(len(x), -1))
        return np.concatenate(out)


def load_model(path: str | Path, *, kind: str, name: str, threads: int | None = None) -> OnnxModel:
    """An :class:`OnnxModel` whose metadata says it is a platewise ``kind`` model.

    Raises:
        ModelNotFound: no such file ("<name> model <path> not found").
        InvalidInput: another kind of model ("<path> is not a platewise <name> ...").
    """
    p = Path(path)
    if not p.is_file():
        raise ModelNotFound(f"{name} model {p} not found")
    model = OnnxModel(p, threads=threads)
    if model.metadata.get("kind") != kind:
        raise InvalidInput(f"{p} is not a platewise {name} (metadata kind {model.metadata.get('kind')!r})")
    return model
