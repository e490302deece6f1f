"""Suppressing detections that lie mostly inside a better-scored one: recall, precision, AP50 and F1 per
threshold (``PlateDetector(contain_threshold=...)``, :func:`platewise.detection.decode.suppress_contained`).

The default detector (verifier and corner network on) runs once per image with the suppression off and scores
down to 0.05 (as ``platewise eval detect``); each threshold is then applied to those detections and scored at
IoU 0.5 with the detector's default threshold, per folder and over the three folders together. Run on the
training side (the default) to choose a threshold, so the hold-out stays out of the choice.

    PYTHONPATH=src python benchmarks/contain_suppress.py [--split train|holdout] [--thresholds 1,0.9,...]
        [--detector F.onnx --verifier F.onnx --corner-net F.onnx] [--tag T]

Writes ``benchmarks/results/contain_suppress_<split>[_T].json``.
"""

from __future__ import annotations

import argparse

import numpy as np
from _detect import FOLDERS, add_detector_args, build_detector, scenes, write_sweep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("train", "holdout"), default="train")
    ap.add_argument("--thresholds", default="1,0.9,0.8,0.7,0.6,0.5", help="comma-separated; 1 = off")
    add_detector_args(ap)
    args = ap.parse_args()
    from platewise.detection.decode import suppress_contained
    from platewise.detection.evaluate import DetectionCounts
    from platewise.imageio import load_image

    thresholds = [float(t) for t in args.thresholds.split(",")]
    det = build_detector(args, contain_threshold=1.0)
    threshold = det.default_threshold
    counts = {t: {f: DetectionCounts() for f in (*FOLDERS, "all")} for t in thresholds}
    for folder in FOLDERS:
        for s, gt in scenes(folder, args.split == "holdout"):
            raw = det.detect_raw([load_image(s.path)])[0]
            for t in thresholds:
                k = suppress_contained(raw.boxes, raw.scores, t) if t < 1.0 else np.arange(len(raw.scores))
                for name in (folder, "all"):
                    counts[t][name].add(raw.boxes[k], raw.scores[k], gt, threshold)
    result: dict[str, object] = {
        "benchmark": "contain_suppress",
        "split": args.split,
        "detector": args.detector or "shipped",
        "verifier": args.verifier or "default",
        "score_threshold": threshold,
    }
    write_sweep(f"contain_suppress_{args.split}", args.tag, result, counts)


if __name__ == "__main__":
    main()
