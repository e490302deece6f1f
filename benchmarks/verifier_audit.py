"""A plate verifier on the verifier's calibration images, against the labels completed by the label audit.

1. The calibration sweep of ``python -m platewise.detection.verifier_train`` (candidate threshold 0.25, the best
   score threshold by F1) with ``benchmarks/label_audit/calibration_unlabelled.csv``'s plates counted as plates:
   the figures the ninth session compared verifiers by (``DETECTOR_MODEL_CARD.md``, "Label audit").
2. How the verifier scores the unlabelled candidates the audit looked at (the network's candidates scoring 0.25
   or more that overlap no labelled plate by IoU 0.3): the audited plates, the unsure ones and the rest (not
   plates), with how many of each it gives 0.5 or more.

    PYTHONPATH=src python benchmarks/verifier_audit.py [--verifier FILE.onnx] [--tag NAME]
        -> benchmarks/results/verifier_audit[_NAME].json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from platewise.detection.dataset import load_records, read_audit
from platewise.detection.detector import PlateDetector
from platewise.detection.evaluate import box_iou_matrix
from platewise.detection.verifier import DEFAULT_VERIFIER, PlateVerifier
from platewise.detection.verifier_train import REAL_FOLDERS, _is_calibration, calibrate_threshold

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "benchmarks" / "label_audit" / "calibration_unlabelled.csv"


def unlabelled_scores(verifier: Path, data: Path) -> dict[str, dict[str, int]]:
    """Step 2: per kind of unlabelled candidate, how many there are and how many the verifier gives >= 0.5."""
    plates, unsure = read_audit(AUDIT), read_audit(AUDIT, ("unsure",))
    det = PlateDetector(score_threshold=0.25, verifier=False, corner_refine=False, box_blend=0.0)
    ver = PlateVerifier(verifier)
    out = {k: {"candidates": 0, "verifier_0.5_or_more": 0} for k in ("plate", "unsure", "not_a_plate")}
    for r in load_records(data, REAL_FOLDERS[:3], holdout=False):
        if not _is_calibration(r.key):
            continue
        img = r.image()
        boxes = det.detect_raw([img])[0].boxes
        gt = np.asarray(r.boxes, np.float32).reshape(-1, 4)
        if len(gt) and len(boxes):
            boxes = boxes[box_iou_matrix(boxes, gt).max(1) < 0.3]
        if not len(boxes):
            continue
        probs = ver.probabilities(img, boxes)
        for b, p in zip(boxes, probs, strict=True):
            kind = "not_a_plate"
            for name, audit in (("plate", plates), ("unsure", unsure)):
                if r.key in audit and box_iou_matrix(b[None], audit[r.key]).max() >= 0.5:
                    kind = name
                    break
            out[kind]["candidates"] += 1
            out[kind]["verifier_0.5_or_more"] += int(p >= 0.5)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--verifier", default=str(DEFAULT_VERIFIER), help="verifier ONNX (default: the shipped one)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="default: ../shared/data")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tag", default="", help="suffix of the result file")
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"no data at {data}: pass --data DIR", file=sys.stderr)
        return 2
    verifier = Path(args.verifier)
    result = {
        "verifier": str(verifier),
        "audit_file": str(AUDIT.relative_to(ROOT)),
        "calibration": calibrate_threshold(None, verifier, data, args.threads, (0.25,), extra=read_audit(AUDIT)),
        "unlabelled_candidates": unlabelled_scores(verifier, data),
    }
    out = ROOT / "benchmarks" / "results" / f"verifier_audit{'_' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=1))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
