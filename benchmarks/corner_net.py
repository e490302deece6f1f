"""The corner network against the network's own corners: corner error on synthetic hold-out scenes and plates
read on openalpr-dev, for each way of getting a plate's corners.

Settings: the detector network's (voted) corners, snapped to the plate's edges (the seventh session's
default); the corner network's corners, alone and snapped; and the corner network run twice (the second look
around its first answer), alone and snapped. Corner error: the mean corner distance over the plate width
of the default detector's detections (verifier on, its threshold) on ``--n`` synthetic scenes per source over
the hold-out negatives (built-in plates and SceneSynthesizer, seed 12345), as ``platewise eval detect
--synthetic``. Plates read: the default pipeline (``ALPR()``, which reads each plate straightened with its
corners and, when ``corner_refine`` is on, with them snapped too) on all 222 labelled openalpr-dev plates
(hold-out and training side).

    PYTHONPATH=src python benchmarks/corner_net.py [--corner-net F.onnx] [--n 300]
        -> benchmarks/results/corner_net.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

# name: (corner network on, its passes, edge snapping on)
SETTINGS: dict[str, tuple[bool, int, bool]] = {
    "network corners, snapped (seventh session)": (False, 1, True),
    "corner network": (True, 1, False),
    "corner network, snapped": (True, 1, True),
    "corner network x2": (True, 2, False),
    "corner network x2, snapped": (True, 2, True),
}


def corner_error(det: Any, source: str, n: int, root: Path) -> dict[str, float]:
    from platewise.detection.dataset import holdout_synthetic_quads
    from platewise.detection.evaluate import corner_errors

    errors: list[float] = []
    for img, quads in holdout_synthetic_quads(root, n, source):
        raw = det.detect_raw([img])[0]
        keep = raw.scores >= det.default_threshold
        errors += corner_errors(raw.boxes[keep], raw.corners[keep], quads)
    return {
        "mean": round(float(np.mean(errors)), 4),
        "median": round(float(np.median(errors)), 4),
        "plates": len(errors),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corner-net", help="corner network ONNX (default: the shipped one)")
    ap.add_argument("--n", type=int, default=300, help="synthetic scenes per source")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "corner_net.json"))
    args = ap.parse_args()
    from platewise.data.sources import default_data_root, read_scenes_csv
    from platewise.detection.detector import PlateDetector
    from platewise.imageio import load_image
    from platewise.pipeline import ALPR
    from platewise.pipeline.evaluate import evaluate_e2e

    root = default_data_root()
    net: str | bool = args.corner_net or True
    samples = read_scenes_csv(root / "openalpr-dev" / "labels.csv")
    rows: dict[str, Any] = {}
    for name, (on, passes, snap) in SETTINGS.items():
        t0 = time.monotonic()
        det = PlateDetector(
            threads=args.threads, score_threshold=0.05, corner_net=net if on else False, corner_refine=snap
        )
        alpr = ALPR(threads=args.threads, detector_corner_net=net if on else False, corner_refine=snap)
        for d in (det, alpr.detector):
            if on:
                d.corner_net.iterations = passes  # type: ignore[attr-defined,union-attr]
        res = evaluate_e2e(alpr, samples, load_image)["overall"]
        rows[name] = {
            "corner_error_builtin": corner_error(det, "builtin", args.n, root),
            "corner_error_scenes": corner_error(det, "scenes", args.n, root),
            "openalpr_dev": {
                "read": round(res["accuracy"] * res["plates"]),
                "plates": res["plates"],
                "fp_per_image": res["false_positives_per_image"],
            },
            "seconds": round(time.monotonic() - t0, 1),
        }
        print(name, rows[name], flush=True)
    out = {
        "corner_net": str(det.corner_net.model.path) if det.corner_net is not None else None,
        "scenes_per_source": args.n,
        "results": rows,
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
