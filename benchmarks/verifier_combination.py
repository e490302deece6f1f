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
different from ``verifier_train``'s; compare rows within one run.

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


def _logit(p: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    q = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)), np.float64)


def fit_logistic(x: npt.NDArray[np.float64], y: npt.NDArray[Any], l2: float = 1e-3) -> npt.NDArray[np.float64]:
    """Logistic regression weights (the last column of ``x`` is the bias), Newton's method."""
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-x @ beta))
        step = np.linalg.solve((x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1]), x.T @ (p - y) + l2 * beta)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def collect(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Per calibration image: the network's candidates (boxes, features by name) and the labelled boxes."""
    from platewise.cli._inputs import on_off_or_file
    from platewise.data.sources import default_data_root
    from platewise.detection.detector import PlateDetector
    from platewise.detection.evaluate import box_iou_matrix
    from platewise.detection.verifier import PlateVerifier
    from platewise.detection.verifier_train import _calibration_images

    net = PlateDetector(
        args.detector,
        threads=args.threads,
        score_threshold=0.05,
        verifier=False,
        corner_net=False,
        corner_refine=False,
        box_blend=0.0,
    )
    chosen = on_off_or_file(args.verifier) if args.verifier else True
    ver = PlateVerifier(None if chosen is True else chosen, threads=args.threads)
    h_in, w_in = net.input_size
    out = []
    for img, gt, _ in _calibration_images(Path(default_data_root()), {}):
        raw = net.detect_raw([img])[0]
        b = raw.boxes.astype(np.float64)
        scale = min(h_in / img.shape[0], w_in / img.shape[1])
        w, h = np.maximum(b[:, 2] - b[:, 0], 1.0), np.maximum(b[:, 3] - b[:, 1], 1.0)
        probs = ver.probabilities(img, raw.boxes) if len(b) else np.zeros(0, np.float32)
        feats = {
            "net": _logit(raw.scores),
            "ver": _logit(probs),
            "width": np.log(w * scale),
            "aspect": np.log(w / h),
        }
        feats["product"] = feats["net"] * feats["ver"] / 10
        iou = box_iou_matrix(b, gt) if len(b) and len(gt) else np.zeros((len(b), len(gt)))
        out.append(
            {
                "boxes": raw.boxes,
                "net_score": raw.scores,
                "feats": feats,
                "gt": gt,
                "y": (iou.max(1) >= 0.5).astype(np.float64) if len(gt) else np.zeros(len(b)),
            }
        )
    return out


def best_f1(images: list[dict[str, Any]], scores: list[npt.NDArray[np.float64]], cand: float) -> dict[str, float]:
    """Best F1 at IoU 0.5 over the score thresholds, as the evaluation counts (nested boxes suppressed)."""
    from platewise.detection.decode import suppress_contained
    from platewise.detection.detector import DEFAULT_CONTAIN_THRESHOLD
    from platewise.detection.evaluate import match_detections

    tp = np.zeros(len(GRID))
    det = np.zeros(len(GRID))
    plates = 0
    for im, s in zip(images, scores, strict=True):
        plates += len(im["gt"])
        for i, t in enumerate(GRID):
            k = np.flatnonzero((im["net_score"] >= cand) & (s >= t))
            if len(k) > 1:
                k = k[suppress_contained(im["boxes"][k], s[k].astype(np.float32), DEFAULT_CONTAIN_THRESHOLD)]
            det[i] += len(k)
            tp[i] += int(match_detections(im["boxes"][k], s[k].astype(np.float32), im["gt"], 0.5).sum())
    r = tp / max(plates, 1)
    p = tp / np.maximum(det, 1)
    f1 = 2 * r * p / np.maximum(r + p, 1e-9)
    i = int(np.argmax(f1))
    return {
        "f1": round(float(f1[i]), 4),
        "threshold": GRID[i],
        "recall50": round(float(r[i]), 4),
        "precision50": round(float(p[i]), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_detector_args(ap)
    ap.add_argument(
        "--candidate-thresholds", default="0.05,0.15,0.25", help="network score floors (default 0.05,0.15,0.25)"
    )
    args = ap.parse_args()
    from platewise.cli._inputs import on_off_or_file
    from platewise.detection.verifier import PlateVerifier

    images = collect(args)
    chosen = on_off_or_file(args.verifier) if args.verifier else True
    shipped = PlateVerifier(None if chosen is True else chosen, threads=1).combine
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
        z = [shipped[0] * im["feats"]["net"] + shipped[1] * im["feats"]["ver"] + shipped[2] for im in images]
        sc = [1 / (1 + np.exp(-v)) for v in z]
        halves = [best_f1(folds[f], sc[f::2], cand) for f in range(2)]
        row["shipped combination"] = {"halves": halves, "mean_f1": round(float(np.mean([h["f1"] for h in halves])), 4)}
        for name, cols in FEATURES.items():
            halves = []
            for f in range(2):
                train, test = folds[1 - f], folds[f]

                def design(im: dict[str, Any], cols: tuple[str, ...] = cols) -> npt.NDArray[np.float64]:
                    return np.stack([im["feats"][c] for c in cols] + [np.ones(len(im["y"]))], 1)

                x = np.concatenate([design(im) for im in train])
                y = np.concatenate([im["y"] for im in train])
                beta = fit_logistic(x, y)
                halves.append(best_f1(test, [1 / (1 + np.exp(-design(im) @ beta)) for im in test], cand))
            row[name] = {"halves": halves, "mean_f1": round(float(np.mean([h["f1"] for h in halves])), 4)}
        result["rows"][str(cand)] = row
        print(f"candidates >= {cand}: " + "  ".join(f"{k}: {v['mean_f1']}" for k, v in row.items()))
    print(write_result("verifier_combination", args.tag, result))


if __name__ == "__main__":
    main()
