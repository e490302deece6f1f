"""Corner refinement settings: corner error on synthetic hold-out scenes and plates read on openalpr-dev.

For each setting of :func:`platewise.detection.refine.refine_corners`: the mean corner error (share of the
plate width) of the shipped detector on ``--n`` synthetic scenes per source over the hold-out negatives
(built-in plates and SceneSynthesizer, seed 12345, as ``platewise eval detect --synthetic``), and how many of
the 222 labelled openalpr-dev plates (hold-out and training side) the pipeline reads exactly when it reads
each plate straightened with the network's corners, with the refined corners and as its box.

    PYTHONPATH=src python benchmarks/corner_refine.py [--n 100] -> benchmarks/results/corner_refine.json
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import numpy as np

SETTINGS: dict[str, dict[str, float] | None] = {
    "no refinement": None,
    "left/right free (inward_w=1)": {"inward_w": 1.0},
    "left/right inward up to half (inward_w=0.5, default)": {},
    "left/right inward up to a quarter (inward_w=0.25)": {"inward_w": 0.25},
    "top/bottom only (search_w=0)": {"search_w": 0.0},
}


def corner_error(setting: dict[str, float] | None, source: str, n: int, root: Path) -> float:
    from platewise.detection.dataset import holdout_synthetic_quads
    from platewise.detection.detector import PlateDetector
    from platewise.detection.evaluate import corner_errors
    from platewise.detection.refine import refine_corners

    det = PlateDetector(threads=1, corner_refine=False)
    errors: list[float] = []
    for img, quads in holdout_synthetic_quads(root, n, source):
        raw = det.detect_raw([img])[0]
        corners = raw.corners if setting is None else refine_corners(img, raw.corners, **setting)
        errors += corner_errors(raw.boxes, corners, quads)
    return round(float(np.mean(errors)), 4)


def plates_read(setting: dict[str, float] | None, root: Path) -> dict[str, float]:
    import platewise.pipeline.alpr as alpr_module
    from platewise.data.sources import read_scenes_csv
    from platewise.detection.refine import refine_corners
    from platewise.imageio import load_image
    from platewise.pipeline.evaluate import evaluate_e2e

    alpr_module.refine_corners = functools.partial(refine_corners, **(setting or {}))  # type: ignore[assignment]
    alpr = alpr_module.ALPR(threads=1, corner_refine=setting is not None)
    res = evaluate_e2e(alpr, read_scenes_csv(root / "openalpr-dev" / "labels.csv"), load_image)["overall"]
    alpr_module.refine_corners = refine_corners
    return {
        "read": round(res["accuracy"] * res["plates"]),
        "plates": res["plates"],
        "fp_per_image": res["false_positives_per_image"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100, help="synthetic scenes per source")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "corner_refine.json"))
    args = ap.parse_args()
    from platewise.data.sources import default_data_root

    root = default_data_root()
    rows = {}
    for name, setting in SETTINGS.items():
        rows[name] = {
            "corner_error_builtin": corner_error(setting, "builtin", args.n, root),
            "corner_error_scenes": corner_error(setting, "scenes", args.n, root),
            "openalpr_dev": plates_read(setting, root),
        }
        print(name, rows[name])
    Path(args.out).write_text(json.dumps({"scenes_per_source": args.n, "results": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
