"""Which synthetic hold-out plates two pipelines read differently: plates the second reads and the first does
not (gained) and the reverse (lost), on the scenes of ``benchmarks/synthetic_e2e.py``.

    PYTHONPATH=src python benchmarks/e2e_toggles.py --detector runs/det-audit/detector.onnx \
        --verifier runs/v-audit/verifier.onnx --corner-net src/platewise/weights/corners.onnx

The first pipeline is the shipped one; writes ``benchmarks/results/e2e_toggles[_TAG].json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _pipeline import add_pipeline_args, build_alpr


def reads_ok(alpr: object, n: int, seed: int) -> list[int]:
    from platewise.data.sources import default_data_root
    from platewise.detection.dataset import holdout_synthetic_scenes
    from platewise.pipeline.evaluate import match_reads
    from platewise.plates.normalize import normalize

    ok: list[int] = []
    for sc in holdout_synthetic_scenes(default_data_root(), n, seed):
        reads = alpr.read(sc.image)  # type: ignore[attr-defined]
        match = match_reads([p.box for p in sc.plates], reads)
        ok += [int(j is not None and reads[j].text == normalize(p.text)) for p, j in zip(sc.plates, match, strict=True)]
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_pipeline_args(ap, scenes=True, detector_required=True, threads=1)  # the second pipeline's parts
    args = ap.parse_args()
    from platewise.pipeline.alpr import ALPR

    first = reads_ok(ALPR(threads=args.threads), args.n, args.seed)
    second = reads_ok(build_alpr(args), args.n, args.seed)
    result = {
        "benchmark": "e2e_toggles",
        "second": {"detector": args.detector, "verifier": args.verifier, "corner_net": args.corner_net},
        "plates": len(first),
        "read_first": sum(first),
        "read_second": sum(second),
        "gained": sum(1 for a, b in zip(first, second, strict=True) if b and not a),
        "lost": sum(1 for a, b in zip(first, second, strict=True) if a and not b),
    }
    out = Path(__file__).parent / "results" / f"e2e_toggles{'_' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(result)


if __name__ == "__main__":
    main()
