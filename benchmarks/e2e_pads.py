"""End to end on openalpr-dev with the images shifted by a few pixels: how many plates does one pipeline read
when the same photos are cut a little differently?

Each image gets ``pad`` edge-replicated pixels above and to its left (its labels move with it) for every pad in
``--pads``, and ``platewise.pipeline.evaluate.evaluate_e2e`` scores the pipeline on it. A pad moves each plate
against the detector's stride grid and letterbox, so the boxes, corners and crops change a little while the
detector stays the same: the spread of the read counts is how much of a difference between two detectors the
end-to-end count can show by chance. Compare pipelines by their mean over the pads.

    PYTHONPATH=src python benchmarks/e2e_pads.py [--split train|holdout] [--pads 0,1,2,3,4,5,6,7]
        [--detector F.onnx --verifier F.onnx --corner-net F.onnx] [--detector-threshold T] [--reread-below C] [--tag T]

Writes ``benchmarks/results/e2e_pads_<split>[_T].json``: per pad the plates read overall and per region and
the plates missed (with what was read there), and the means.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
from _pipeline import add_pipeline_args, build_alpr


def _read(stats: dict[str, Any]) -> int:
    """Plates read, from ``evaluate_e2e``'s accuracy (rounded to 4 places) and plate count."""
    return round((stats["accuracy"] or 0.0) * stats["plates"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("train", "holdout"), default="train")
    ap.add_argument("--pads", default="0,1,2,3,4,5,6,7", help="comma-separated pixel counts")
    add_pipeline_args(ap)
    ap.add_argument("--reread-below", type=float, help="ALPR(reread_below=) (default: the pipeline's)")
    args = ap.parse_args()
    from platewise.data.sources import default_data_root, iter_holdout, read_scenes_csv
    from platewise.imageio import load_image
    from platewise.pipeline.evaluate import evaluate_e2e, shift_box, shift_image

    pads = [int(p) for p in args.pads.split(",")]
    labels = Path(default_data_root()) / "openalpr-dev" / "labels.csv"
    samples = list(iter_holdout(read_scenes_csv(labels), args.split == "holdout"))
    kw: dict[str, Any] = {}
    if args.reread_below is not None:
        kw["reread_below"] = args.reread_below
    alpr = build_alpr(args, **kw)
    per_pad: dict[str, Any] = {}
    for k in pads:

        def load(path: Path, k: int = k) -> np.ndarray:
            return shift_image(load_image(path), k)

        moved = [dataclasses.replace(s, boxes=tuple(shift_box(b, k) for b in s.boxes)) for s in samples]
        res = evaluate_e2e(alpr, moved, load)
        per_pad[str(k)] = {
            "read": _read(res["overall"]),
            "plates": res["overall"]["plates"],
            "regions": {r: _read(st) for r, st in res["regions"].items()},
            "false_reads_per_image": res["overall"]["false_positives_per_image"],
            "misses": sorted(f"{m['label']} read {m['read'] or '(nothing)'}" for m in res["misses"]),
        }
        print(f"pad {k}: {per_pad[str(k)]['read']} of {res['overall']['plates']}  {per_pad[str(k)]['regions']}")
    reads = [v["read"] for v in per_pad.values()]
    regions = sorted({r for v in per_pad.values() for r in v["regions"]})
    result = {
        "benchmark": "e2e_pads",
        "split": args.split,
        "detector": args.detector or "shipped",
        "reader": args.reader or "shipped",
        "verifier": args.verifier or "default",
        "corner_net": args.corner_net or "default",
        "reread_below": alpr.reread_below,
        "candidate_threshold": getattr(alpr.detector, "candidate_threshold", None),
        "detector_threshold": getattr(alpr.detector, "score_threshold", None),
        "contain_threshold": getattr(alpr.detector, "contain_threshold", None),
        "pads": per_pad,
        "mean_read": round(float(np.mean(reads)), 3),
        "min_read": min(reads),
        "max_read": max(reads),
        "mean_false_reads_per_image": round(float(np.mean([v["false_reads_per_image"] for v in per_pad.values()])), 4),
        "mean_read_per_region": {
            r: round(float(np.mean([v["regions"].get(r, 0) for v in per_pad.values()])), 3) for r in regions
        },
    }
    tag = f"_{args.tag}" if args.tag else ""
    out = Path(__file__).parent / "results" / f"e2e_pads_{args.split}{tag}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(
        f"mean {result['mean_read']} (min {result['min_read']}, max {result['max_read']}), "
        f"false reads per image {result['mean_false_reads_per_image']}; wrote {out}"
    )


if __name__ == "__main__":
    main()
