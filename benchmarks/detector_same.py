"""Do two detector ONNX files compute the same thing? Runs both on every hold-out scene of the three labelled
folders (and the negatives' hold-out), batch 8: the networks' raw outputs on the main pass's input tensors, and
``PlateDetector.detect`` with every default (close-up pass, verifier, corner network, edge snapping).

    PYTHONPATH=src python benchmarks/detector_same.py --a OLD.onnx --b src/platewise/weights/detector.onnx \
        --out benchmarks/results/detector_same_s21.json

Writes the largest absolute difference of each raw output and the number of images whose detections (boxes,
corners, scores) differ at all; exits 1 if anything differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from platewise.data.sources import default_data_root
from platewise.detection.dataset import load_records
from platewise.detection.detector import PlateDetector
from platewise.detection.preprocess import letterbox, to_input_tensor

sys.path.insert(0, str(Path(__file__).parent))
from _detect import FOLDERS  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="first detector .onnx")
    ap.add_argument("--b", required=True, help="second detector .onnx")
    ap.add_argument("--data-root", help="default: ../shared/data")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    recs = load_records(args.data_root or default_data_root(), (*FOLDERS, "negatives"), holdout=True)
    dets = [PlateDetector(p, threads=2, batch_size=8) for p in (args.a, args.b)]
    models, first = [d.model for d in dets], dets[0]  # each detector's own network session
    raw_diff = [0.0, 0.0, 0.0]
    differing, plates = 0, 0
    for s in range(0, len(recs), 8):
        images = [r.image() for r in recs[s : s + 8]]
        boxed = [letterbox(im, first.input_size)[0] for im in images]
        x = to_input_tensor(boxed, first.mean, first.std, rgb=first.rgb)
        outs = [m.run(x) for m in models]
        for k, (a, b) in enumerate(zip(*outs, strict=True)):
            raw_diff[k] = max(raw_diff[k], float(np.abs(a - b).max()))
        found = [d.detect(images) for d in dets]
        for da, db in zip(*found, strict=True):
            plates += len(da)
            differing += da != db  # Detection, BBox and Corners compare their floats exactly
    result = {
        "a": args.a,
        "b": args.b,
        "images": len(recs),
        "plates_found_by_a": plates,
        "max_abs_diff": dict(zip(models[0].output_names, raw_diff, strict=True)),
        "images_with_different_detections": differing,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))
    return int(differing > 0 or max(raw_diff) > 0)


if __name__ == "__main__":
    sys.exit(main())
