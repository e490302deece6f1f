"""An exported ONNX file rewritten so that ONNX Runtime's CPU convolution layout runs it without detours.

On x86 CPUs ONNX Runtime runs convolutions in a blocked layout (NCHWc) and converts a map back to plain NCHW
before any node that layout lacks, and forward again after it. A ``Mul`` by a scalar is such a node: in the
detector's BiFPN every fused map is scaled by its fusion weight, so each of those products cost two layout
conversions of the whole map (with the scalar products themselves, 12-20% of the network's kernel time at batch 8
in two profiled runs: ``benchmarks/results/onnx_profile_s21_layout*.json``).

:func:`optimize_for_cpu` writes the file as ONNX Runtime's basic, hardware-independent optimizations leave it
(constants folded, so the fusion weights become numbers; a ``Mul`` right after a ``Conv`` folded into its
weights), then replaces each remaining scalar ``Mul`` of a 4-D map with a 1x1 depthwise ``Conv`` whose weights
are that scalar: one multiplication per value, as before, so the outputs are the same floats, and the map
stays in the blocked layout. The result is plain ONNX (no ONNX Runtime-only operators) with the source's
metadata. Needs the ``onnx`` package (the ``[train]`` extra).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LayoutReport", "optimize_for_cpu"]


@dataclass(frozen=True)
class LayoutReport:
    """What :func:`optimize_for_cpu` changed: scalar ``Mul`` nodes rewritten as convolutions, and those left
    (their map's channel count unknown)."""

    rewritten: int
    left: int


def _scaled_map(node: Any, inits: dict[str, Any]) -> tuple[str, float] | None:
    """(map, scalar) if ``node`` is a ``Mul`` of a map by a one-value float32 initializer, else None."""
    from onnx import numpy_helper

    if node.op_type != "Mul" or len(node.input) != 2:
        return None
    for k in (1, 0):
        if node.input[k] in inits:
            value = numpy_helper.to_array(inits[node.input[k]])
            if value.size == 1 and value.dtype == np.float32:
                return node.input[1 - k], float(value.reshape(-1)[0])
    return None


def _scalar_muls_as_convs(model: Any) -> LayoutReport:
    """Rewrites, in place, every ``Mul`` of a float 4-D map by a float32 scalar initializer as a 1x1 depthwise
    ``Conv`` (see the module docstring). ``model`` is an ``onnx.ModelProto`` whose constants are folded;
    :func:`optimize_for_cpu` checks the result."""
    from onnx import helper, numpy_helper, shape_inference

    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    channels: dict[str, int] = {}
    inferred = shape_inference.infer_shapes(model).graph
    for v in [*inferred.input, *inferred.value_info]:
        dims = v.type.tensor_type.shape.dim
        if len(dims) == 4 and dims[1].HasField("dim_value"):
            channels[v.name] = int(dims[1].dim_value)
    nodes = []
    rewritten = left = 0
    for node in graph.node:
        scaled = _scaled_map(node, inits)
        if scaled is not None and scaled[0] not in channels:
            left += 1
        elif scaled is not None:
            x, scale = scaled
            c, weight = channels[x], f"{node.output[0]}__scale"
            graph.initializer.append(numpy_helper.from_array(np.full((c, 1, 1, 1), scale, np.float32), weight))
            node = helper.make_node(
                "Conv", [x, weight], list(node.output), name=f"{node.name}_as_conv", group=c, kernel_shape=[1, 1]
            )
            rewritten += 1
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return LayoutReport(rewritten, left)


def optimize_for_cpu(src: str | Path, dst: str | Path) -> LayoutReport:
    """Writes ``dst``: ``src`` after ONNX Runtime's basic optimizations, its scalar ``Mul`` nodes as depthwise
    convolutions, its metadata kept (``src`` and ``dst`` may be the same path)."""
    import onnx
    import onnxruntime as ort

    source = onnx.load(str(src))
    with tempfile.TemporaryDirectory() as tmp:
        folded = Path(tmp) / "basic.onnx"
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = str(folded)
        opts.log_severity_level = 3
        ort.InferenceSession(str(src), sess_options=opts, providers=["CPUExecutionProvider"])
        model = onnx.load(str(folded))
    report = _scalar_muls_as_convs(model)
    del model.metadata_props[:]
    model.metadata_props.extend(source.metadata_props)
    model.producer_name, model.producer_version = source.producer_name, source.producer_version
    # ONNX Runtime lists all its operator domains; the graph uses the source's alone.
    used_domains = {n.domain for n in model.graph.node}
    imports = [o for o in model.opset_import if o.domain in used_domains]
    del model.opset_import[:]
    model.opset_import.extend(imports)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m platewise.runtime.cpu_layout IN.onnx [--out OUT.onnx]``: rewrites a detector exported before
    ``platewise export detector`` applied :func:`optimize_for_cpu` (default: in place)."""
    import argparse

    ap = argparse.ArgumentParser(description="Rewrite an ONNX file for ONNX Runtime's CPU layout (same outputs).")
    ap.add_argument("model", type=Path, help="an ONNX file, e.g. a detector exported by an older platewise")
    ap.add_argument("--out", type=Path, help="where to write it (default: over the input)")
    args = ap.parse_args(argv)
    if not args.model.is_file():
        ap.error(f"{args.model}: no such file")
    try:
        report = optimize_for_cpu(args.model, args.out or args.model)
    except Exception as e:  # onnx / onnxruntime refuse files that are not ONNX models
        ap.error(f"{args.model}: not an ONNX model ONNX Runtime can load ({type(e).__name__}: {str(e)[:200]})")
    print(f"wrote {args.out or args.model}: {report.rewritten} scalar products as convolutions, {report.left} left")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
