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

from _detect import FOLDERS, scenes, write_sweep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--setting", required=True, help="a PlateDetector keyword taking a number")
    ap.add_argument("--values", required=True, help="comma-separated")
    ap.add_argument("--split", choices=("train", "holdout"), default="train")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--tag", default="", help="suffix of the result file")
    args = ap.parse_args()
    from platewise.detection.detector import PlateDetector
    from platewise.detection.evaluate import DetectionCounts
    from platewise.imageio import load_image

    values = [float(v) for v in args.values.split(",")]
    dets = {v: PlateDetector(threads=args.threads, score_threshold=0.05, **{args.setting: v}) for v in values}
    counts = {v: {f: DetectionCounts() for f in (*FOLDERS, "all")} for v in values}
    for folder in FOLDERS:
        for s, gt in scenes(folder, args.split == "holdout"):
            img = load_image(s.path)
            for v, det in dets.items():
                raw = det.detect_raw([img])[0]
                for name in (folder, "all"):
                    counts[v][name].add(raw.boxes, raw.scores, gt, det.default_threshold)
    result: dict[str, object] = {"benchmark": "detector_setting", "setting": args.setting, "split": args.split}
    write_sweep(f"detector_setting_{args.setting}_{args.split}", args.tag, result, counts)


if __name__ == "__main__":
    main()
