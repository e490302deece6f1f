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
import json
from pathlib import Path

import numpy as np

FOLDERS = ("openlpr-scenes", "ro-dashcam", "openalpr-dev")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("train", "holdout"), default="train")
    ap.add_argument("--thresholds", default="1,0.9,0.8,0.7,0.6,0.5", help="comma-separated; 1 = off")
    ap.add_argument("--detector", help="detector ONNX (default: shipped)")
    ap.add_argument("--verifier", help="on, off or an ONNX file (default: the detector's)")
    ap.add_argument("--corner-net", help="on, off or an ONNX file (default: the detector's)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--tag", default="", help="suffix of the result file")
    args = ap.parse_args()
    from platewise.cli._inputs import on_off_or_file
    from platewise.data.sources import default_data_root, iter_holdout, read_scenes_csv
    from platewise.detection.decode import suppress_contained
    from platewise.detection.detector import PlateDetector
    from platewise.detection.evaluate import DetectionCounts, summarize
    from platewise.imageio import load_image

    thresholds = [float(t) for t in args.thresholds.split(",")]
    det = PlateDetector(
        args.detector,
        threads=args.threads,
        score_threshold=0.05,
        verifier=None if args.verifier is None else on_off_or_file(args.verifier),
        corner_net=None if args.corner_net is None else on_off_or_file(args.corner_net),
        contain_threshold=1.0,
    )
    threshold = det.default_threshold
    counts = {t: {f: DetectionCounts() for f in (*FOLDERS, "all")} for t in thresholds}
    for folder in FOLDERS:
        labels = Path(default_data_root()) / folder / "labels.csv"
        for s in iter_holdout(read_scenes_csv(labels), args.split == "holdout"):
            raw = det.detect_raw([load_image(s.path)])[0]
            gt = np.array([b.as_list() for b in s.boxes], np.float32).reshape(-1, 4)
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
    for t in thresholds:
        m = summarize(counts[t].items())
        for v in m.values():
            r, p = float(v["recall50"]), float(v["precision50"])
            v["f1"] = round(2 * r * p / (r + p), 4) if r + p else 0.0
        result[f"{t:g}"] = m
        print(f"{t:g}: " + "  ".join(f"{f} R {m[f]['recall50']} P {m[f]['precision50']} F1 {m[f]['f1']}" for f in m))
    path = Path(__file__).parent / "results" / f"contain_suppress_{args.split}{'_' + args.tag if args.tag else ''}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
