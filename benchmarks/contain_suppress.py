"""Suppressing detections that lie mostly inside a better-scored one: recall, precision, AP50 and F1 per
threshold (``PlateDetector(contain_threshold=...)``, :func:`platewise.detection.decode.suppress_contained`),
and per tie-break margin for the tighter box (``contain_margin``).

The default detector (verifier and corner network on) runs once per image with the suppression off and scores
down to 0.05 (as ``platewise eval detect``); each threshold (and margin) is then applied to those detections and
scored at IoU 0.5 with the detector's default threshold, per folder and over the three folders together. Run on
the training side (the default) to choose, so the hold-out stays out of the choice.

    PYTHONPATH=src python benchmarks/contain_suppress.py [--split train|holdout] [--thresholds 1,0.9,...]
        [--margins 0,0.05,...] [--detector F.onnx --verifier F.onnx --corner-net F.onnx] [--tag T]
        [--choose-margin [--write-margin VERIFIER.onnx]]

With one margin (the default, 0) the results are keyed by threshold (``"0.6"``), else by threshold and margin
(``"0.6_m0.05"``). ``--choose-margin`` (one threshold, several margins) applies the fifteenth session's rule
(the detector's model card): the margin with the highest F1 over the three folders together, if it beats margin
0 by 0.001 or more (on ties the smaller margin), else 0; ``--write-margin`` stores it as ``contain_margin`` in
that verifier's metadata, where ``PlateDetector`` reads it.

Writes ``benchmarks/results/contain_suppress_<split>[_T].json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from _detect import FOLDERS, add_detector_args, add_sweep, build_detector, scenes, write_result

MIN_GAIN = 0.001  # the F1 a margin must add over none to be chosen (fifteenth session's rule)


def choose_margin(f1_by_margin: dict[float, float]) -> float:
    """The margin with the highest F1, if it beats margin 0 by ``MIN_GAIN`` or more (ties: the smaller margin),
    else 0."""
    best = max(sorted(f1_by_margin), key=lambda m: (f1_by_margin[m], -m))
    return best if f1_by_margin[best] >= f1_by_margin[0.0] + MIN_GAIN - 1e-12 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("train", "holdout"), default="train")
    ap.add_argument("--thresholds", default="1,0.9,0.8,0.7,0.6,0.5", help="comma-separated; 1 = off")
    ap.add_argument("--margins", default="0", help="comma-separated tie-break margins; 0 = off")
    ap.add_argument("--choose-margin", action="store_true", help="choose a margin by the rule (one threshold)")
    ap.add_argument("--write-margin", help="with --choose-margin: the verifier ONNX to store the choice in")
    add_detector_args(ap)
    args = ap.parse_args()
    from platewise.detection.decode import suppress_contained
    from platewise.detection.evaluate import DetectionCounts
    from platewise.imageio import load_image

    thresholds = [float(t) for t in args.thresholds.split(",")]
    margins = [float(m) for m in args.margins.split(",")]
    if args.choose_margin and (len(thresholds) != 1 or 0.0 not in margins):
        ap.error("--choose-margin needs one threshold and margin 0 among the margins")
    if args.write_margin and not args.choose_margin:
        ap.error("--write-margin needs --choose-margin")
    det = build_detector(args, contain_threshold=1.0, contain_margin=0.0)
    threshold = det.default_threshold
    # result keys: the threshold alone with no margins to sweep, else threshold and margin
    grid = {(t, m): f"{t:g}" if margins == [0.0] else f"{t:g}_m{m:g}" for t in thresholds for m in margins}
    counts = {key: {f: DetectionCounts() for f in (*FOLDERS, "all")} for key in grid.values()}
    for folder in FOLDERS:
        for s, gt in scenes(folder, args.split == "holdout"):
            raw = det.detect_raw([load_image(s.path)])[0]
            for (t, m), key in grid.items():
                if t < 1.0:
                    k = suppress_contained(raw.boxes, raw.scores, t, m, floor=threshold)
                else:
                    k = np.arange(len(raw.scores))
                for name in (folder, "all"):
                    counts[key][name].add(raw.boxes[k], raw.scores[k], gt, threshold)
    result: dict[str, Any] = {
        "benchmark": "contain_suppress",
        "split": args.split,
        "detector": args.detector or "shipped",
        "verifier": args.verifier or "default",
        "score_threshold": threshold,
    }
    add_sweep(result, counts)
    if args.choose_margin:  # one threshold: one result per margin
        f1 = {m: float(result[key]["all"]["f1"]) for (_, m), key in grid.items()}
        result["chosen_margin"] = chosen = choose_margin(f1)
        print(f"chosen margin: {chosen:g} (F1 {f1[chosen]} against {f1[0.0]} with none)")
        if args.write_margin:
            from platewise.training.export import update_metadata

            update_metadata(Path(args.write_margin), {"contain_margin": chosen})
            print(f"wrote contain_margin {chosen:g} into {args.write_margin}")
    print(f"wrote {write_result(f'contain_suppress_{args.split}', args.tag, result)}")


if __name__ == "__main__":
    main()
