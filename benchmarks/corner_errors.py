"""Where the detector's corner error comes from, on synthetic hold-out scenes (exact corners): the error split
along the plate (share of its width) and across it (share of its height), its signed bias per corner, by
plate width, and two box-based alternatives to the predicted corners.

    PYTHONPATH=src python benchmarks/corner_errors.py [--scenes 100] [--detector F.onnx]
    -> benchmarks/results/corner_errors.json

Same scenes as ``platewise eval detect --synthetic N --synth-source scenes`` (hold-out negatives as
backgrounds, seed 12345), plates matched at IoU 0.5 at the detector's threshold.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from platewise.data.sources import default_data_root
from platewise.detection.dataset import holdout_synthetic_scenes
from platewise.detection.detector import PlateDetector
from platewise.detection.evaluate import box_iou_matrix

SIGN_U = np.array([-1, 1, 1, -1])  # outward along the plate, per corner TL TR BR BL
SIGN_V = np.array([-1, -1, 1, 1])  # outward across the plate


def variants(corners: np.ndarray, box: np.ndarray) -> dict[str, np.ndarray]:
    """The predicted corners, the box's own corners, and the corners stretched so their extent is the box."""
    lo, hi = corners.min(0), corners.max(0)
    fitted = box[:2] + (corners - lo) * (box[2:] - box[:2]) / np.maximum(hi - lo, 1e-3)
    box_c = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]], np.float32)
    return {"predicted": corners, "box corners": box_c, "fitted to box": fitted, "half-way": (corners + fitted) / 2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenes", type=int, default=100)
    ap.add_argument("--detector")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "corner_errors.json"))
    args = ap.parse_args()
    det = PlateDetector(args.detector, threads=2)
    errs: dict[str, list[float]] = {}
    along, across, widths, out_u, out_v = [], [], [], [], []
    for scene in holdout_synthetic_scenes(default_data_root(), args.scenes, args.seed):
        raw = det.detect_raw([scene.image])[0]
        keep = np.flatnonzero(raw.scores >= det.score_threshold)
        if not len(keep):
            continue
        for p in scene.plates:
            q = np.asarray(p.corners, np.float32).reshape(4, 2)
            iou = box_iou_matrix(raw.boxes[keep], np.concatenate([q.min(0), q.max(0)]))[:, 0]
            if iou.max() < 0.5:
                continue
            k = keep[int(np.argmax(iou))]
            u = (q[1] - q[0] + q[2] - q[3]) / 2
            pw = float(np.linalg.norm(u))
            v = (q[3] - q[0] + q[2] - q[1]) / 2
            ph = float(np.linalg.norm(v))
            u, v = u / pw, v / ph
            for name, c in variants(raw.corners[k], raw.boxes[k]).items():
                errs.setdefault(name, []).append(float(np.linalg.norm(c - q, axis=1).mean() / pw))
            d = raw.corners[k] - q
            along.append(float(np.abs(d @ u).mean() / pw))
            across.append(float(np.abs(d @ v).mean() / ph))
            out_u.append((d @ u) * SIGN_U / pw)
            out_v.append((d @ v) * SIGN_V / ph)
            widths.append(pw)
    wa = np.array(widths)
    by_width = {}
    for lo, hi in ((0, 40), (40, 80), (80, 160), (160, 10_000)):
        m = (wa >= lo) & (wa < hi)
        if m.any():
            by_width[f"{lo}-{hi} px"] = {
                "plates": int(m.sum()),
                "mean": round(float(np.mean(np.array(errs["predicted"])[m])), 4),
            }
    result = {
        "scenes": args.scenes,
        "plates_matched": len(widths),
        "mean_corner_error_per_width": {k: round(float(np.mean(v)), 4) for k, v in errs.items()},
        "along_plate_per_width": round(float(np.mean(along)), 4),
        "across_plate_per_height": round(float(np.mean(across)), 4),
        "signed_outward_bias_per_corner": {
            "along_per_width": np.mean(out_u, 0).round(4).tolist(),
            "across_per_height": np.mean(out_v, 0).round(4).tolist(),
        },
        "by_plate_width": by_width,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
