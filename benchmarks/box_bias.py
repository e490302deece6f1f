"""Where a detector's boxes and corners fall against the truth, on the synthetic hold-out scenes: for every
plate the pipeline finds, its box's width and height over the true box's, its centre's offset (in true
widths and heights), and its corners' mean error in plate widths, as :class:`platewise.pipeline.alpr.ALPR`
reports them. A diagnosis of whether a new detector cuts its plates differently (larger, smaller, shifted).

    PYTHONPATH=src python benchmarks/box_bias.py [--detector F.onnx --verifier F.onnx --corner-net F.onnx] [--tag T]

Writes ``benchmarks/results/box_bias[_TAG].json`` (medians, means and quartiles of each measure).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def _summary(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, np.float64)
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return {
        "median": round(float(med), 4),
        "mean": round(float(a.mean()), 4),
        "q1": round(float(q1), 4),
        "q3": round(float(q3), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detector", help="detector ONNX (default: shipped)")
    ap.add_argument("--verifier", help="on, off or an ONNX file (default: the pipeline's)")
    ap.add_argument("--corner-net", help="on, off or an ONNX file (default: the pipeline's)")
    ap.add_argument("--n", type=int, default=300, help="scenes")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--tag", default="", help="suffix of the result file")
    args = ap.parse_args()
    from platewise.cli._inputs import detector_companions
    from platewise.data.sources import default_data_root
    from platewise.detection.dataset import holdout_synthetic_scenes
    from platewise.pipeline.alpr import ALPR
    from platewise.pipeline.evaluate import match_reads

    kw = detector_companions(args.verifier, args.corner_net)
    alpr = ALPR(detector_path=args.detector, threads=args.threads, **kw)
    m: dict[str, list[float]] = {"w_ratio": [], "h_ratio": [], "dx": [], "dy": [], "corner_error": []}
    plates = 0
    for sc in holdout_synthetic_scenes(default_data_root(), args.n, args.seed):
        reads = alpr.read(sc.image)
        match = match_reads([p.box for p in sc.plates], reads)
        for p, j in zip(sc.plates, match, strict=True):
            plates += 1
            if j is None:
                continue
            t, b = p.box, reads[j].detection.box
            tw, th = t.x2 - t.x1, t.y2 - t.y1
            m["w_ratio"].append((b.x2 - b.x1) / tw)
            m["h_ratio"].append((b.y2 - b.y1) / th)
            m["dx"].append(((b.x1 + b.x2) - (t.x1 + t.x2)) / 2 / tw)
            m["dy"].append(((b.y1 + b.y2) - (t.y1 + t.y2)) / 2 / th)
            truth = np.asarray(p.corners, np.float64).reshape(4, 2)
            pred = reads[j].detection.corners.as_array().astype(np.float64)
            width = float(np.linalg.norm(truth[1] - truth[0]))
            m["corner_error"].append(float(np.linalg.norm(pred - truth, axis=1).mean()) / width)
    result = {
        "benchmark": "box_bias",
        "detector": args.detector or "shipped",
        "verifier": args.verifier or "default",
        "corner_net": args.corner_net or "default",
        "scenes": args.n,
        "plates": plates,
        "found": len(m["w_ratio"]),
        **{k: _summary(v) for k, v in m.items()},
    }
    out = Path(__file__).parent / "results" / f"box_bias{'_' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
