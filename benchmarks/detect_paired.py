"""Two detectors compared plate by plate on the hold-out: which labelled plates only one of them finds, and
which images only one of them adds false detections to, with exact sign tests.

The bars of a candidate's rule compare means (recall, AP50) that move with a plate or two: a 131-plate folder
turns one plate into 0.008 of recall. Paired counts say whether a difference is more than that: of the plates
exactly one detector finds (IoU 0.5 at its own default threshold, the evaluation's matching), how many go each
way, and how likely a split at least that uneven is if neither detector finds plates better (two-sided exact
binomial test at p = 1/2). The same for false detections, image by image: images where A makes more false
detections than B against images where it makes fewer. Both against the folders' labels and against the
labels completed by the label audit (``benchmarks/label_audit/holdout_unlabelled.csv``: its ``plate`` rows are
plates; a detection on an ``unsure`` box is neither found nor false). It decides nothing by itself.

    PYTHONPATH=src python benchmarks/detect_paired.py --b-detector B.onnx --b-verifier B_V.onnx
        [--a-detector A.onnx --a-verifier A_V.onnx] [--threads 1] [--tag T]
        -> benchmarks/results/detect_paired[_T].json

A is the shipped detector unless given; each runs with every default (close-up pass, verifier, corner network,
edge snapping) at its default threshold.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).parent))
from _detect import FOLDERS, scenes, write_result  # noqa: E402
from e2e_paired import sign_test  # noqa: E402

AUDIT = Path(__file__).parent / "label_audit" / "holdout_unlabelled.csv"
F32 = npt.NDArray[np.float32]


def read_audit(path: Path = AUDIT) -> dict[str, dict[str, F32]]:
    """Per image key (``folder/image``), the audit's ``plate`` and ``unsure`` boxes (K,4) xyxy."""
    from platewise.detection.dataset import read_audit as read_verdicts

    by_verdict = {v: read_verdicts(path, (v,)) for v in ("plate", "unsure")}
    none = np.zeros((0, 4), np.float32)
    keys = set(by_verdict["plate"]) | set(by_verdict["unsure"])
    return {k: {v: boxes.get(k, none) for v, boxes in by_verdict.items()} for k in keys}


def judge(boxes: F32, scores: F32, plates: F32, ignore: F32) -> tuple[npt.NDArray[np.bool_], int]:
    """Which of ``plates`` the detections find (IoU 0.5), and how many detections are false: matching no
    plate and no ``ignore`` box (IoU 0.5)."""
    from platewise.detection.evaluate import box_iou_matrix, found_truths, match_detections

    found = found_truths(boxes, scores, plates, 0.5)
    tp = match_detections(boxes, scores, plates, 0.5)
    false = ~tp
    if len(ignore) and false.any():
        false &= box_iou_matrix(boxes, ignore).max(1) < 0.5
    return found, int(false.sum())


def compare_side(pairs: list[tuple[str, bool, bool]], false: list[tuple[int, int]]) -> dict[str, Any]:
    """One folder and one view: ``pairs`` lists (plate id, A found it, B found it), ``false`` per image (A's
    false detections, B's)."""
    only_a = [p for p, a, b in pairs if a and not b]
    only_b = [p for p, a, b in pairs if b and not a]
    more_a = sum(1 for a, b in false if a > b)
    more_b = sum(1 for a, b in false if b > a)
    return {
        "plates": len(pairs),
        "found_a": sum(1 for _, a, _ in pairs if a),
        "found_b": sum(1 for _, _, b in pairs if b),
        "only_a": only_a,
        "only_b": only_b,
        "found_sign_test_p": round(sign_test(len(only_a), len(only_b)), 4),
        "false_a": sum(a for a, _ in false),
        "false_b": sum(b for _, b in false),
        "images_more_false_a": more_a,
        "images_more_false_b": more_b,
        "false_sign_test_p": round(sign_test(more_a, more_b), 4),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a-detector", help="A's detector ONNX (default: shipped)")
    ap.add_argument("--a-verifier", help="A's verifier ONNX (default: the detector's)")
    ap.add_argument("--b-detector", help="B's detector ONNX (default: shipped)")
    ap.add_argument("--b-verifier", help="B's verifier ONNX (default: the detector's)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)
    if not (args.b_detector or args.b_verifier):
        ap.error("give --b-detector and/or --b-verifier: B would be the shipped detector, as A")

    from platewise.detection.detector import PlateDetector
    from platewise.imageio import load_image

    dets = [
        PlateDetector(args.a_detector, threads=args.threads, verifier=args.a_verifier),
        PlateDetector(args.b_detector, threads=args.threads, verifier=args.b_verifier),
    ]
    audit = read_audit()
    none = np.zeros((0, 4), np.float32)
    result: dict[str, Any] = {
        "a": {"detector": args.a_detector or "shipped", "verifier": args.a_verifier or "default"},
        "b": {"detector": args.b_detector or "shipped", "verifier": args.b_verifier or "default"},
        "thresholds": [d.score_threshold for d in dets],
    }
    for folder in FOLDERS:
        views: dict[str, dict[str, Any]] = {v: {"plates": [], "false": []} for v in ("labels", "audited")}
        for s, gt in scenes(folder, holdout=True):
            img = load_image(s.path)
            raws = [d.detect_raw([img])[0] for d in dets]
            extra = audit.get(s.key, {})
            truths = {
                "labels": (gt, none),
                "audited": (np.concatenate([gt, extra.get("plate", none)]), extra.get("unsure", none)),
            }
            for view, (plates, ignore) in truths.items():
                (fa, na), (fb, nb) = (judge(r.boxes, r.scores, plates, ignore) for r in raws)
                views[view]["plates"] += [
                    (f"{s.key}#{i}", bool(a), bool(b)) for i, (a, b) in enumerate(zip(fa, fb, strict=True))
                ]
                views[view]["false"].append((na, nb))
        result[folder] = {v: compare_side(d["plates"], d["false"]) for v, d in views.items()}
        for v, r in result[folder].items():
            print(
                f"{folder} {v}: found A {r['found_a']} B {r['found_b']} of {r['plates']} "
                f"(only A {len(r['only_a'])}, only B {len(r['only_b'])}, p {r['found_sign_test_p']}); "
                f"false A {r['false_a']} B {r['false_b']} (p {r['false_sign_test_p']})",
                flush=True,
            )
    print(f"wrote {write_result('detect_paired', args.tag, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
