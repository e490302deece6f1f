"""Detection on the hold-outs with the images shifted by a few pixels: how much do recall, precision and AP50
move when the same photos are cut a little differently?

Every hold-out image of openlpr-scenes, ro-dashcam and openalpr-dev gets ``pad`` edge-replicated pixels above
and to its left (its labels move with it; ``platewise.pipeline.evaluate.shift_image``) for every pad in
``--pads``, and is scored as ``platewise eval detect --holdout`` scores it (IoU 0.5, the detector's default
threshold, AP over scores down to 0.05). Pad 0 is ``benchmarks/accuracy.sh detect``. The spread over the pads
is how much of a difference between two detectors one evaluation can show by chance (openalpr-dev has 41
plates: one detection more or less moves its precision by about 0.02).

    PYTHONPATH=src python benchmarks/detect_pads.py [--pads 0,1,2,3,4,5,6,7]
        [--detector F.onnx --verifier F.onnx --corner-net F.onnx] [--input-size HxW] [--tag T]

Writes ``benchmarks/results/detect_pads[_T].json``: per folder and pad recall50, precision50 and ap50, and
their means, minima and maxima.
"""

from __future__ import annotations

import argparse

import numpy as np
from _detect import FOLDERS, add_detector_args, build_detector, scenes, write_result

KEYS = ("recall50", "precision50", "ap50")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pads", default="0,1,2,3,4,5,6,7", help="comma-separated pixel counts")
    add_detector_args(ap)
    ap.add_argument("--input-size", help="HxW network input (default: the model's, e.g. 384x640)")
    args = ap.parse_args()
    from platewise.detection.evaluate import DetectionCounts, summarize
    from platewise.imageio import load_image
    from platewise.pipeline.evaluate import shift_box, shift_image

    pads = [int(p) for p in args.pads.split(",")]
    size = tuple(int(v) for v in args.input_size.lower().split("x")) if args.input_size else None
    det = build_detector(args, input_size=size)
    threshold = det.default_threshold
    out: dict[str, dict[str, object]] = {}
    for folder in FOLDERS:
        samples = [(s, load_image(s.path)) for s, _ in scenes(folder, holdout=True)]
        per_pad: dict[str, dict[str, float | int]] = {}
        for k in pads:
            counts = DetectionCounts()
            for s, img in samples:
                raw = det.detect_raw([shift_image(img, k)])[0]
                gt = np.array([shift_box(b, k).as_list() for b in s.boxes], np.float32).reshape(-1, 4)
                counts.add(raw.boxes, raw.scores, gt, threshold)
            m = summarize([("overall", counts)])["overall"]
            per_pad[str(k)] = {key: m[key] for key in ("plates", "detections_per_image", *KEYS)}
            print(f"{folder} pad {k}: " + " ".join(f"{key} {m[key]}" for key in KEYS), flush=True)
        stats = {
            key: {
                "mean": round(float(np.mean([v[key] for v in per_pad.values()])), 4),
                "min": min(v[key] for v in per_pad.values()),
                "max": max(v[key] for v in per_pad.values()),
            }
            for key in KEYS
        }
        out[folder] = {"pads": per_pad, **stats}
        print(f"{folder}: " + " ".join(f"{key} {stats[key]['mean']}" for key in KEYS), flush=True)
    result = {
        "benchmark": "detect_pads",
        "detector": args.detector or "shipped",
        "verifier": args.verifier or "default",
        "corner_net": args.corner_net or "default",
        "input_size": list(det.input_size),
        "contain_threshold": det.contain_threshold,
        "score_threshold": threshold,
        "folders": out,
    }
    print(f"wrote {write_result('detect_pads', args.tag, result)}")


if __name__ == "__main__":
    main()
