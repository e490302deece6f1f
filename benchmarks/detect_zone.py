"""Detection zones on a fixed camera: ro-dashcam's hold-out frames (1280x720, one camera mount) with a zone
chosen on the training side, detected whole and then filtered to the zone, against detected in the zone
(``PlateDetector(zone=...)``: the zone's rectangle seen at an input fitted to it).

The zone is the rectangle holding the centres of the training side's labelled plates between their 1st and
99th percentiles (x and y apart), rounded outward to 10 pixels: where this camera's plates are, learned without
the hold-out. On the hold-out, the plates that count are those whose centre lies in the zone, against the
folder's labels and against the labels completed by the ninth session's audit
(``benchmarks/label_audit/holdout_unlabelled.csv``, its ``plate`` rows). Recall and precision at the detector's
default threshold, AP50 from scores down to 0.05, and the median time per frame at batch 1 (the two ways
timed in turn on each frame).

    PYTHONPATH=src python benchmarks/detect_zone.py [--folder ro-dashcam] [--tag T]
        -> benchmarks/results/detect_zone[_T].json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _detect import add_detector_args, build_detector, scenes, summarize_f1, write_result  # noqa: E402

AUDIT = Path(__file__).parent / "label_audit" / "holdout_unlabelled.csv"


def training_zone(folder: str) -> Any:
    """The zone: the 1st-99th percentile rectangle of the training side's plate centres (``Zone.around``)."""
    from platewise.detection.zone import Zone

    centres = np.concatenate([(b[:, :2] + b[:, 2:]) / 2 for _, b in scenes(folder, holdout=False) if len(b)])
    return Zone.around(centres, 1, 99, step=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", default="ro-dashcam")
    add_detector_args(ap)
    args = ap.parse_args()

    from platewise.detection.dataset import read_audit
    from platewise.detection.evaluate import DetectionCounts
    from platewise.detection.zone import fitted_input
    from platewise.imageio import load_image

    zone = training_zone(args.folder)
    audit = read_audit(AUDIT)
    det = build_detector(args)
    thr = det.default_threshold
    ways = ("whole frame, filtered to the zone", "detected in the zone")
    counts: dict[str, dict[str, DetectionCounts]] = {
        w: {"labels": DetectionCounts(), "audited": DetectionCounts()} for w in ways
    }
    ms: dict[str, list[float]] = {w: [] for w in ways}
    frame_hw: tuple[int, int] | None = None
    for s, gt in scenes(args.folder, holdout=True):
        img = load_image(s.path)
        h, w = img.shape[:2]
        frame_hw = frame_hw or (h, w)
        extra = audit.get(s.key, np.zeros((0, 4), np.float32))
        truths = {"labels": gt, "audited": np.concatenate([gt, extra]).astype(np.float32)}
        truths = {k: b[zone.holds(h, w, b)] for k, b in truths.items()}
        for way in ways:
            t0 = time.perf_counter()
            if way == ways[0]:
                raw = det.detect_raw([img])[0]
                raw = raw.take(zone.holds(h, w, raw.boxes))
            else:
                raw = det.detect_raw([img], zones=zone)[0]
            ms[way].append((time.perf_counter() - t0) * 1e3)
            for k, b in truths.items():
                counts[way][k].add(raw.boxes, raw.scores, b, thr)
    assert frame_hw is not None
    x0, y0, x1, y1 = zone.crop_rect(*frame_hw)
    size = fitted_input(y1 - y0, x1 - x0, det.input_size, max(det.strides))
    result: dict[str, Any] = {
        "folder": args.folder,
        "zone": str(zone),
        "frame": f"{frame_hw[1]}x{frame_hw[0]}",
        "zone_rectangle_seen": [x0, y0, x1, y1],
        "input_whole_frame": list(det.input_size),
        "input_in_zone": list(size),
        "scale_whole_frame": round(min(det.input_size[0] / frame_hw[0], det.input_size[1] / frame_hw[1]), 3),
        "scale_in_zone": round(min(size[0] / (y1 - y0), size[1] / (x1 - x0)), 3),
        "threshold": thr,
    }
    for way in ways:
        result[way] = summarize_f1(counts[way])
        result[way]["median_ms_per_frame"] = round(statistics.median(ms[way]), 2)
        line = "  ".join(
            f"{k} R {v['recall50']} P {v['precision50']} AP50 {v['ap50']}"
            for k, v in result[way].items()
            if isinstance(v, dict)
        )
        print(f"{way}: {line}  {result[way]['median_ms_per_frame']} ms")
    print(f"zone {zone}: input {size} at scale {result['scale_in_zone']} (whole frame {result['scale_whole_frame']})")
    print(f"wrote {write_result('detect_zone', args.tag, result)}")


if __name__ == "__main__":
    main()
