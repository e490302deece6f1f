"""Does the verifier's score combination leave anything on the table? Richer combinations of the network's
score and the verifier's probability, cross-validated on the verifier's calibration images.

The shipped combination is a logistic regression on (logit network score, logit verifier probability). This
fits others on the same candidates (the network's, down to 0.05, its own boxes, as inference verifies them),
adding the box's width in the letterboxed input (log), its aspect ratio (log) and the product of the two
logits, each in two folds by image (fit on one half, score the other). For each it picks the best F1 at IoU
0.5 over score thresholds 0.05-0.95 on the scored half, with the candidates also cut at the network score
``--candidate-thresholds`` and nested boxes suppressed at 0.6 as ``PlateDetector`` does, and reports the mean
of the two halves. The shipped combination, which was fitted on all of these images, is scored the same way.
Boxes are the network's, not the refined and blended ones the evaluation scores, so the F1 is a little
different from ``verifier_train``'s; compare rows within one run. ``--corner-net`` has no effect here (the
candidates are the network's own boxes).

    PYTHONPATH=src python benchmarks/verifier_combination.py [--detector F.onnx --verifier F.onnx --tag T]
        -> benchmarks/results/verifier_combination[_T].json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).parent))
from _detect import add_detector_args, write_result  # noqa: E402

FEATURES = {
    "network+verifier (the shipped form)": ("net", "ver"),
    "+ log width": ("net", "ver", "width"),
    "+ log width + log aspect": ("net", "ver", "width", "aspect"),
    "+ log width + logit product": ("net", "ver", "width", "product"),
}
GRID = [round(float(t), 2) for t in np.arange(0.05, 0.96, 0.01)]


def collect(args: argparse.Namespace, ver: Any) -> list[dict[str, Any]]:
    """Per calibration image: the network's candidates (boxes, scores, the verifier ``ver``'s probabilities,
    features by name) and the labelled boxes."""
    from platewise.data.sources import default_data_root
    from platewise.detection.detector import PlateDetector
    from platewise.detection.evaluate import box_iou_matrix
    from platewise.detection.verifier_train import _calibration_images, logit64

    net = PlateDetector(
        args.detector,
        threads=args.threads,
        score_threshold=0.05,
        verifier=False,
        corner_net=False,
        corner_refine=False,
        box_blend=0.0,
    )
    h_in, w_in = net.input_size
    out = []
    for img, gt, _ in _calibration_images(Path(default_data_root()), {}):
        raw = net.detect_raw([img])[0]
        b = raw.boxes.astype(np.float64)
        scale = min(h_in / img.shape[0], w_in / img.shape[1])
        w, h = np.maximum(b[:, 2] - b[:, 0], 1.0), np.maximum(b[:, 3] - b[:, 1], 1.0)
        probs = ver.probabilities(img, raw.boxes) if len(b) else np.zeros(0, np.float32)
        feats = {
            "net": logit64(raw.scores),
            "ver": logit64(probs),
            "width": np.log(w * scale),
            "aspect": np.log(w / h),
        }
        feats["product"] = feats["net"] * feats["ver"] / 10
        iou = box_iou_matrix(b, gt) if len(b) and len(gt) else np.zeros((len(b), len(gt)))
        out.append(
            {
                "boxes": raw.boxes,
                "net_score": raw.scores,
                "ver_prob": probs,
                "feats": feats,
                "gt": gt,
                "y": (iou.max(1) >= 0.5).astype(np.float64) if len(gt) else np.zeros(len(b)),
            }
        )
    return out


def best_f1(images: list[dict[str, Any]], scores: list[npt.NDArray[Any]], cand: float) -> dict[str, float]:
    """Best F1 at IoU 0.5 over the score thresholds, counted as the verifier's calibration counts them
    (``verifier_train.f1_threshold``), with nested boxes suppressed among each threshold's detections."""
    from platewise.detection.decode import suppress_contained
    from platewise.detection.detector import DEFAULT_CONTAIN_THRESHOLD
    from platewise.detection.evaluate import DetectionCounts
    from platewise.detection.verifier_train import f1_threshold

    counts = {t: DetectionCounts() for t in GRID}
    for im, s in zip(images, scores, strict=True):
        s = np.asarray(s, np.float32)
        for t in GRID:
            k = np.flatnonzero((im["net_score"] >= cand) & (s >= t))
            if len(k) > 1:
                k = k[suppress_contained(im["boxes"][k], s[k], DEFAULT_CONTAIN_THRESHOLD)]
            counts[t].add(im["boxes"][k], s[k], im["gt"], t)
    t, m = f1_threshold(counts)
    return {"f1": m["f1"], "threshold": t, "recall50": m["recall50"], "precision50": m["precision50"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_detector_args(ap)
    ap.add_argument(
        "--candidate-thresholds", default="0.05,0.15,0.25", help="network score floors (default 0.05,0.15,0.25)"
    )
    args = ap.parse_args()
    from platewise.cli._inputs import on_off_or_file
    from platewise.detection.verifier import PlateVerifier, combine_scores
    from platewise.detection.verifier_train import fit_logistic

    chosen = on_off_or_file(args.verifier) if args.verifier else True
    ver = PlateVerifier(None if chosen is True else chosen, threads=args.threads)
    images = collect(args, ver)
    shipped = ver.combine
    shipped_scores = [combine_scores(im["net_score"], im["ver_prob"], shipped) for im in images]
    folds = [images[0::2], images[1::2]]
    result: dict[str, Any] = {
        "benchmark": "verifier_combination",
        "detector": args.detector or "shipped",
        "verifier": args.verifier or "shipped",
        "calibration_images": len(images),
        "plates": int(sum(len(im["gt"]) for im in images)),
        "candidates": int(sum(len(im["y"]) for im in images)),
        "shipped_combination": list(shipped),
        "rows": {},
    }
    for cand in (float(c) for c in args.candidate_thresholds.split(",")):
        row: dict[str, Any] = {}
        halves = [best_f1(folds[f], shipped_scores[f::2], cand) for f in range(2)]
        row["shipped combination"] = {"halves": halves, "mean_f1": round(float(np.mean([h["f1"] for h in halves])), 4)}
        for name, cols in FEATURES.items():
            halves = []
            for f in range(2):
                train, test = folds[1 - f], folds[f]

                def design(im: dict[str, Any], cols: tuple[str, ...] = cols) -> npt.NDArray[np.float64]:
                    return np.stack([im["feats"][c] for c in cols] + [np.ones(len(im["y"]))], 1)

                x = np.concatenate([design(im) for im in train])
                y = np.concatenate([im["y"] for im in train])
                beta = fit_logistic(x, y, max_iter=100)
                halves.append(best_f1(test, [1 / (1 + np.exp(-design(im) @ beta)) for im in test], cand))
            row[name] = {"halves": halves, "mean_f1": round(float(np.mean([h["f1"] for h in halves])), 4)}
        result["rows"][str(cand)] = row
        print(f"candidates >= {cand}: " + "  ".join(f"{k}: {v['mean_f1']}" for k, v in row.items()))
    print(write_result("verifier_combination", args.tag, result))


if __name__ == "__main__":
    main()
