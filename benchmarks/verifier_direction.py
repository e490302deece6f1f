"""How much weight the verifier's logit should carry against the network's, on the training side only.

The verifier's combination ``sigmoid(a * logit(network) + b * logit(verifier) + c)`` is a logistic regression
on the calibration images' candidates: it minimises log-loss over some 37,000 candidates, most of them easy
not-plates, not the F1 at the operating point. This fixes the direction, ``(a, b) = s * (1 - w, w)`` for each
``w`` asked, fits the scale ``s`` and bias ``c`` by logistic regression (``fit_combination(verifier_weight=w)``,
as ``verifier_train --refit-combination --verifier-weight w`` does), writes them into a copy of the verifier and
sweeps the score threshold on the calibration images as ``verifier_train --recalibrate`` does (candidate
threshold 0.25 only, precision floor 0.95 per folder against the labels plus the calibration audit). The shipped
fit's direction is w = 0.21.

    PYTHONPATH=src python benchmarks/verifier_direction.py [--weights 0.21,0.3,0.4,0.5,0.15] [--verifier F.onnx]
        -> benchmarks/results/verifier_direction[_T].json
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _detect import calibration_args, write_result  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default="0.21,0.3,0.4,0.5,0.15", help="verifier weights w in (0, 1)")
    args, root, audit = calibration_args(ap)

    from platewise.detection.verifier_train import calibrate_threshold, calibration_candidates, fit_combination
    from platewise.training.export import update_metadata

    s, p, y = calibration_candidates(None, args.verifier, root, args.threads, audit)
    print(f"{len(y)} candidates, {int(y.sum())} plates", flush=True)
    result: dict[str, Any] = {"verifier": args.verifier, "candidates": len(y), "plates": int(y.sum()), "rows": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for w in (float(v) for v in args.weights.split(",")):
            combine = fit_combination(s, p, y, verifier_weight=w)
            path = Path(tmp) / f"v_{w}.onnx"
            shutil.copy(args.verifier, path)
            update_metadata(path, {"combine": list(combine)})
            r = calibrate_threshold(None, path, root, args.threads, (0.25,), extra=audit, min_precision=0.95)
            row = {"combine": list(combine), **{k: r[k] for k in ("score_threshold", "at", "floor_met", "per_folder")}}
            result["rows"][str(w)] = row
            print(w, row, flush=True)
    print(f"wrote {write_result('verifier_direction', args.tag, result)}")


if __name__ == "__main__":
    main()
