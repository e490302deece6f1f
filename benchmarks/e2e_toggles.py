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
    ap.add_argument("--detector", required=True, help="the second pipeline's detector ONNX")
    ap.add_argument("--verifier", help="its verifier: on, off or an ONNX file")
    ap.add_argument("--corner-net", help="its corner network: on, off or an ONNX file")
    ap.add_argument("--n", type=int, default=300, help="scenes")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tag", default="", help="suffix of the result file")
    args = ap.parse_args()
    from platewise.cli._inputs import detector_companions
    from platewise.pipeline.alpr import ALPR

    kw = detector_companions(args.verifier, args.corner_net)
    first = reads_ok(ALPR(threads=args.threads), args.n, args.seed)
    second = reads_ok(ALPR(detector_path=args.detector, threads=args.threads, **kw), args.n, args.seed)
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
