"""How often each view of the pipeline reads a plate right on its own, on the synthetic hold-out scenes: the
plate straightened with the detector's corners (``rectified``), with corners refined again (``refined``), and
its box (``box``), as :class:`platewise.pipeline.alpr.ALPR` builds them; plus the fused reading.

    PYTHONPATH=src python benchmarks/view_reads.py [--detector F.onnx --verifier F.onnx --corner-net F.onnx]

Writes ``benchmarks/results/view_reads[_TAG].json``. A diagnosis of which view a new detector changes. The box
view is cut from the reported box (moved toward the corners by ``box_blend``), where the pipeline cuts the
detector's box, so its count is close to, not equal to, the pipeline's.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from _pipeline import add_pipeline_args, build_alpr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_pipeline_args(ap, scenes=True)
    args = ap.parse_args()
    from platewise.data.sources import default_data_root
    from platewise.detection.dataset import holdout_synthetic_scenes
    from platewise.detection.refine import refine_corners
    from platewise.pipeline.evaluate import match_reads
    from platewise.pipeline.rectify import crop_box, rectify
    from platewise.plates.normalize import normalize
    from platewise.types import Corners

    alpr = build_alpr(args)
    size = alpr.reader.input_size
    counts: Counter[str] = Counter()
    for sc in holdout_synthetic_scenes(default_data_root(), args.n, args.seed):
        reads = alpr.read(sc.image)
        match = match_reads([p.box for p in sc.plates], reads)
        for p, j in zip(sc.plates, match, strict=True):
            counts["plates"] += 1
            if j is None:
                continue
            truth = normalize(p.text)
            d = reads[j].detection
            counts["found"] += 1
            counts["fused"] += reads[j].text == truth
            crop, used = rectify(sc.image, d.corners, d.box, size, pad=alpr.rectify_pad)
            views = {"rectified" if used else "box_only": crop}
            if used:
                q = refine_corners(sc.image, d.corners.as_array()[None])[0]
                views["refined"] = rectify(sc.image, Corners.from_array(q), d.box, size, pad=alpr.rectify_pad)[0]
                views["box"] = crop_box(sc.image, d.box, size, pad=alpr.box_pad)
            names = list(views)
            texts = alpr.reader.read_prepared(np.stack([views[k] for k in names]))
            for k, t in zip(names, texts, strict=True):
                counts[k] += normalize(t.text) == truth
    result = {
        "benchmark": "view_reads",
        "detector": args.detector or "shipped",
        "verifier": args.verifier or "default",
        "corner_net": args.corner_net or "default",
        "scenes": args.n,
        "counts": dict(counts),
    }
    out = Path(__file__).parent / "results" / f"view_reads{'_' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(result)


if __name__ == "__main__":
    main()
