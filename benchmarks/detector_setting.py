"""One ``PlateDetector`` setting at several values: recall, precision, AP50 and F1 at IoU 0.5 per folder and
over the three folders together, on the training side (the default, to choose a value) or the hold-out.

    PYTHONPATH=src python benchmarks/detector_setting.py --setting closeup_min_width --values 0.4,0.3,0.2
        [--split train|holdout] [--tag T]

Each value builds ``PlateDetector(**{setting: value}, score_threshold=0.05)`` (the shipped detector, verifier
and corner network) and scores it as ``platewise eval detect`` does, at the detector's default threshold.
Writes ``benchmarks/results/detector_setting_<setting>_<split>[_T].json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

FOLDERS = ("openlpr-scenes", "ro-dashcam", "openalpr-dev")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--setting", required=True, help="a PlateDetector keyword taking a number")
    ap.add_argument("--values", required=True, help="comma-separated")
    ap.add_argument("--split", choices=("train", "holdout"), default="train")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--tag", default="", help="suffix of the result file")
    args = ap.parse_args()
    from platewise.data.sources import default_data_root, iter_holdout, read_scenes_csv
    from platewise.detection.detector import PlateDetector
    from platewise.detection.evaluate import DetectionCounts, summarize
    from platewise.imageio import load_image

    values = [float(v) for v in args.values.split(",")]
    dets = {v: PlateDetector(threads=args.threads, score_threshold=0.05, **{args.setting: v}) for v in values}
    counts = {v: {f: DetectionCounts() for f in (*FOLDERS, "all")} for v in values}
    for folder in FOLDERS:
        labels = Path(default_data_root()) / folder / "labels.csv"
        for s in iter_holdout(read_scenes_csv(labels), args.split == "holdout"):
            img = load_image(s.path)
            gt = np.array([b.as_list() for b in s.boxes], np.float32).reshape(-1, 4)
            for v, det in dets.items():
                raw = det.detect_raw([img])[0]
                for name in (folder, "all"):
                    counts[v][name].add(raw.boxes, raw.scores, gt, det.default_threshold)
    result: dict[str, object] = {"benchmark": "detector_setting", "setting": args.setting, "split": args.split}
    for v in values:
        m = summarize(counts[v].items())
        for x in m.values():
            r, p = float(x["recall50"]), float(x["precision50"])
            x["f1"] = round(2 * r * p / (r + p), 4) if r + p else 0.0
        result[f"{v:g}"] = m
        print(f"{v:g}: " + "  ".join(f"{f} R {m[f]['recall50']} P {m[f]['precision50']} F1 {m[f]['f1']}" for f in m))
    tag = f"_{args.tag}" if args.tag else ""
    path = Path(__file__).parent / "results" / f"detector_setting_{args.setting}_{args.split}{tag}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
