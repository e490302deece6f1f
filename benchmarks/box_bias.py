"""Where a detector's boxes and corners fall against the truth, on the synthetic hold-out scenes: for every
plate the pipeline finds, its box's width and height over the true box's, its centre's offset (in true
widths and heights), and its corners' mean error in plate widths, as :class:`platewise.pipeline.alpr.ALPR`
reports them. A diagnosis of whether a new detector cuts its plates differently (larger, smaller, shifted).

    PYTHONPATH=src python benchmarks/box_bias.py [--detector F.onnx --verifier F.onnx --corner-net F.onnx] [--tag T]
        [--real train|holdout]   (openalpr-dev's labelled boxes instead)

Writes ``benchmarks/results/box_bias[_TAG].json`` (medians, means and quartiles of each measure).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from _pipeline import add_pipeline_args, build_alpr


def _summary(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, np.float64)
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return {
        "median": round(float(med), 4),
        "mean": round(float(a.mean()), 4),
        "q1": round(float(q1), 4),
        "q3": round(float(q3), 4),
    }


def _scenes(args: argparse.Namespace) -> Iterator[tuple[npt.NDArray[np.uint8], list[tuple[Any, Any]]]]:
    """(image, [(true box, true corners or None)]) for each scene of the chosen data."""
    from platewise.data.sources import default_data_root, iter_holdout, read_scenes_csv
    from platewise.detection.dataset import holdout_synthetic_scenes
    from platewise.imageio import load_image

    root = default_data_root()
    if args.real:
        for s in iter_holdout(read_scenes_csv(Path(root) / "openalpr-dev" / "labels.csv"), args.real == "holdout"):
            if s.boxes:
                yield load_image(s.path), [(b, None) for b in s.boxes]
        return
    for sc in holdout_synthetic_scenes(root, args.n, args.seed):
        yield sc.image, [(p.box, p.corners) for p in sc.plates]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_pipeline_args(ap, scenes=True)
    ap.add_argument(
        "--real",
        choices=("train", "holdout"),
        help="instead of the synthetic scenes, openalpr-dev's labelled boxes on this split (no corner error: "
        "the labels have no corners)",
    )
    args = ap.parse_args()
    from platewise.pipeline.evaluate import match_reads

    alpr = build_alpr(args)
    m: dict[str, list[float]] = {"w_ratio": [], "h_ratio": [], "dx": [], "dy": [], "corner_error": []}
    plates = 0
    for image, truths in _scenes(args):
        reads = alpr.read(image)
        match = match_reads([t for t, _ in truths], reads)
        for (t, corners), j in zip(truths, match, strict=True):
            plates += 1
            if j is None:
                continue
            b = reads[j].detection.box
            m["w_ratio"].append(b.width / t.width)
            m["h_ratio"].append(b.height / t.height)
            m["dx"].append(((b.x1 + b.x2) - (t.x1 + t.x2)) / 2 / t.width)
            m["dy"].append(((b.y1 + b.y2) - (t.y1 + t.y2)) / 2 / t.height)
            if corners is None:
                continue
            truth = np.asarray(corners, np.float64).reshape(4, 2)
            pred = reads[j].detection.corners.as_array().astype(np.float64)
            width = float(np.linalg.norm(truth[1] - truth[0]))
            m["corner_error"].append(float(np.linalg.norm(pred - truth, axis=1).mean()) / width)
    if not m["corner_error"]:
        del m["corner_error"]
    result = {
        "benchmark": "box_bias",
        "data": f"openalpr-dev {args.real}" if args.real else "synthetic hold-out scenes",
        "detector": args.detector or "shipped",
        "verifier": args.verifier or "default",
        "corner_net": args.corner_net or "default",
        "scenes": None if args.real else args.n,
        "plates": plates,
        "found": len(m["w_ratio"]),
        **{k: _summary(v) for k, v in m.items()},
    }
    out = Path(__file__).parent / "results" / f"box_bias{'_' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
