"""End to end on synthetic scenes, by how much each plate is turned: does the pipeline read tilted plates?

Scenes of ``platewise.data.synthetic.SceneSynthesizer`` over the *hold-out* negatives (seed 12345, 1280x720,
640x480 and 960x540 in turn; the same scenes as ``benchmarks/crop_views.py --synthetic``), read by
``platewise.ALPR`` with default settings. A plate counts as read when a returned plate overlaps it by IoU
0.5 and its text equals the label. Each plate's tilt is the angle of its top edge (from the exact corners),
so the table shows how reading falls off as plates turn, per region family and plate width too; the "wide"
rows repeat the tilt table for plates at least 80 px wide (many synthetic plates are small and blurred, and
size rather than tilt decides those). The synthetic plates are
rendered by the same generator the reader trains on (other seeds), so absolute numbers flatter the reader;
compare models with each other here, and use the real hold-outs (``benchmarks/accuracy.sh``) for accuracy.

    PYTHONPATH=src python benchmarks/synthetic_e2e.py [--reader F.onnx] [--detector F.onnx] [--n 300] [--tag T]
        [--corner-refine on|off] [--detector-threshold T] [--pad PX]
    -> benchmarks/results/synthetic_e2e[_T].json
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from _pipeline import add_pipeline_args, build_alpr

BINS = ((0.0, 5.0), (5.0, 10.0), (10.0, 20.0), (20.0, 90.0))
WIDTHS = ((0, 60), (60, 120), (120, 100000))  # plate width in pixels (top edge length)
READABLE = 80  # the "wide" rows: plates at least this many pixels wide, where size does not dominate


def _family(region: str) -> str:
    r = region.lower()
    for f in ("us", "br", "cn"):
        if r.startswith(f):
            return f
    return "eu" if r.startswith("eu") else "other"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_pipeline_args(ap, scenes=True)
    ap.add_argument("--corner-refine", choices=("default", "on", "off"), default="default", help="ALPR(corner_refine=)")
    ap.add_argument(
        "--pad",
        type=int,
        default=0,
        help="add this many pixels (edge-replicated) above and left of every scene: the same plates, cut a "
        "little differently by the same detector (how much the read count moves with tiny crop changes)",
    )
    args = ap.parse_args()

    from platewise.data.sources import default_data_root
    from platewise.detection.dataset import holdout_synthetic_scenes
    from platewise.pipeline.evaluate import match_reads, shift_box, shift_image
    from platewise.plates.normalize import normalize

    root = default_data_root()
    kw: dict[str, object] = {} if args.corner_refine == "default" else {"corner_refine": args.corner_refine == "on"}
    alpr = build_alpr(args, **kw)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # plates, detected, read
    false_pos = 0
    for sc in holdout_synthetic_scenes(root, args.n, args.seed):
        reads = alpr.read(shift_image(sc.image, args.pad))
        match = match_reads([shift_box(p.box, args.pad) for p in sc.plates], reads)
        false_pos += len(reads) - sum(j is not None for j in match)
        for p, j in zip(sc.plates, match, strict=True):
            tl, tr = p.corners[0], p.corners[1]
            tilt = abs(float(np.degrees(np.arctan2(tr[1] - tl[1], tr[0] - tl[0]))))
            tilt = min(tilt, 180.0 - tilt)
            b = next(f"{lo:g}-{hi:g} deg" for lo, hi in BINS if lo <= tilt < hi or hi == 90.0)
            pw = float(np.hypot(*(tr - tl)))
            wb = next(f"{lo}-{hi} px" if hi < 100000 else f">= {lo} px" for lo, hi in WIDTHS if pw < hi)
            ok = j is not None and reads[j].text == normalize(p.text)
            keys = ["overall", f"tilt {b}", f"region {_family(p.region)}", f"width {wb}"]
            if pw >= READABLE:
                keys += [f"wide, tilt {b}", "wide"]
            for key in keys:
                c = counts[key]
                c[0] += 1
                c[1] += j is not None
                c[2] += ok
    rows = {
        k: {"plates": n, "detected": round(d / n, 4), "read": round(r / n, 4)}
        for k, (n, d, r) in sorted(counts.items(), key=lambda kv: (kv[0] != "overall", kv[0]))
    }
    result = {
        "benchmark": "synthetic_e2e",
        "reader": args.reader or "shipped",
        "detector": args.detector or "shipped",
        "verifier": args.verifier or "default",
        "corner_net": args.corner_net or "default",
        "corner_refine": alpr.corner_refine,
        "scenes": args.n,
        "seed": args.seed,
        "pad": args.pad,
        "candidate_threshold": getattr(alpr.detector, "candidate_threshold", None),
        "detector_threshold": getattr(alpr.detector, "score_threshold", None),
        "contain_threshold": getattr(alpr.detector, "contain_threshold", None),
        "false_positives_per_image": round(false_pos / max(args.n, 1), 3),
        "results": rows,
    }
    out = Path(__file__).parent / "results" / f"synthetic_e2e{'_' + args.tag if args.tag else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    for k, v in rows.items():
        print(f"{k:22s} {v['plates']:5d} detected {v['detected']:.3f} read {v['read']:.3f}")
    print(f"false positives per image {result['false_positives_per_image']}; wrote {out}")


if __name__ == "__main__":
    main()
