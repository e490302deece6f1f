"""Several plate verifiers as one: an ONNX file whose logit is the mean of theirs.

Two verifiers trained alike from different seeds make different mistakes on the same candidates, so the mean
of their logits can separate plates from not-plates better than either. Measured once
(``DETECTOR_SESSIONS.md``, "Sixteenth session", candidate M): the shipped verifier with a second seed raised
the calibration F1 only from 0.9228 to 0.9240, cost 14% more time per frame and was not shipped.

The result is an ordinary verifier file (:class:`~platewise.detection.verifier.PlateVerifier` loads it
unchanged: one ONNX Runtime call per batch of crops, each network's cost added): same input ``crops``, output
``logits``, the first file's metadata plus ``ensemble`` (how many). Its combination and thresholds are the
first file's until they are refitted for it
(``python -m platewise.detection.verifier_train --out DIR --recalibrate --refit-combination``).

    python -m platewise.detection.verifier_ensemble A.onnx B.onnx [C.onnx ...] --out E.onnx

Needs the ``onnx`` package (the ``[train]`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["ensemble_verifiers", "main"]

_SAME = ("kind", "input_size", "pad", "color")  # metadata every member must share


def ensemble_verifiers(paths: list[Path], out: Path) -> dict[str, Any]:
    """Writes to ``out`` one ONNX verifier whose logit is the mean of the verifiers ``paths`` (2 or more, with
    the same input size, padding and colour order); returns its metadata. Raises ``ValueError`` otherwise."""
    import onnx
    from onnx import compose, helper

    from platewise.training.export import read_metadata, set_metadata

    if len(paths) < 2:
        raise ValueError("an ensemble needs at least 2 verifiers")
    models = [onnx.load(str(p)) for p in paths]
    metas = [read_metadata(m) for m in models]
    for p, m, meta in zip(paths, models, metas, strict=True):
        if meta.get("kind") != "verifier":
            raise ValueError(f"{p}: not a platewise verifier (metadata kind {meta.get('kind')!r})")
        if [i.name for i in m.graph.input] != ["crops"] or [o.name for o in m.graph.output] != ["logits"]:
            raise ValueError(f"{p}: expected one input 'crops' and one output 'logits'")
        differ = [k for k in _SAME if meta.get(k) != metas[0].get(k)]
        if differ:
            raise ValueError(f"{p}: its {', '.join(differ)} differ from {paths[0]}'s; the crops must be the same")
    opset = max(o.version for m in models for o in m.opset_import if o.domain in ("", "ai.onnx"))
    nodes, inits, members = [], [], []
    for k, m in enumerate(models):
        m = onnx.version_converter.convert_version(m, opset) if m.opset_import[0].version != opset else m
        m = compose.add_prefix(m, f"m{k}_", rename_inputs=False, rename_outputs=True)
        nodes.extend(m.graph.node)
        inits.extend(m.graph.initializer)
        members.append(f"m{k}_logits")
    nodes.append(helper.make_node("Sum", members, ["logits_sum"], name="ensemble_sum"))
    inits.append(helper.make_tensor("ensemble_scale", onnx.TensorProto.FLOAT, [], [1.0 / len(models)]))
    nodes.append(helper.make_node("Mul", ["logits_sum", "ensemble_scale"], ["logits"], name="ensemble_mean"))
    first = models[0].graph
    graph = helper.make_graph(nodes, "verifier_ensemble", list(first.input), list(first.output), initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = models[0].ir_version
    meta = {**metas[0], "ensemble": len(models)}
    set_metadata(model, meta)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Merge plate verifiers into one ONNX file (mean of their logits).")
    ap.add_argument("verifiers", nargs="+", type=Path, help="verifier ONNX files (2 or more)")
    ap.add_argument("--out", required=True, type=Path, help="the ensemble's ONNX file")
    args = ap.parse_args(argv)
    for p in args.verifiers:
        if not p.is_file():
            ap.error(f"{p}: no such file")
    try:
        meta = ensemble_verifiers(list(args.verifiers), args.out)
    except ValueError as e:
        ap.error(str(e))
    print(f"wrote {args.out}: {meta['ensemble']} verifiers, combination {meta['combine']} (refit it for the ensemble)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
