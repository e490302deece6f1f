"""Trains the plate verifier (:mod:`platewise.detection.verifier`) for a detector, in one command:

    python -m platewise.detection.verifier_train --out runs/verifier [--detector F.onnx] [--steps 6000]
        -> runs/verifier/verifier.onnx (+ verifier.pt, candidates.npz, log.jsonl, summary.json)

1. Candidates. The detector (its network alone: no verifier) runs down to score 0.05 on the training side of
   openlpr-scenes, ro-dashcam, openalpr-dev and negatives (hold-out images are never read) and on synthetic
   scenes (``SceneSynthesizer`` over training-side backgrounds). A candidate overlapping a labelled plate by
   IoU >= 0.5 is a plate; one under 0.4 with every plate is not (fragments and loose duplicates of a plate
   included: the evaluation counts those as false detections), the rest the CNN does not train on. Each
   labelled plate also gives one jittered box of its own (plates the detector scored under 0.05 are plates
   too).
2. Split. Real images whose name hashes into 25% (salt ``verifier``) are the calibration part: the CNN
   never trains on them.
3. The CNN (~120k parameters) trains on the rest: batches of half plates, a quarter not-plates and a quarter
   hard not-plates (detector score >= ``--hard-score``: signs, logos, fragments), light
   photometric and shift jitter, AdamW, cosine learning rate over ``--steps`` (``--minutes`` is only a
   safety stop; a run it cuts short is not the reproducible one).
4. Calibration, on the calibration part's real candidates only: a logistic regression of "is a plate" on
   (logit detector score, logit verifier probability) gives the combination. Then the detector with this
   verifier runs on the calibration images as ``platewise eval detect`` does, once per candidate threshold of
   ``--candidate-thresholds`` (the network score down to which candidates are verified), and the candidate
   and score thresholds with the best F1 at IoU 0.5 there are kept (one detection per labelled plate, as
   the evaluation counts).
5. Export: ONNX (uint8-range float input NCHW in [0, 1] -> one logit per crop) with the metadata
   :class:`~platewise.detection.verifier.PlateVerifier` reads.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from platewise.cli._inputs import on_off_or_file
from platewise.data.splits import hash_fraction
from platewise.detection.dataset import load_records, read_audit
from platewise.detection.decode import FLIP_FUSIONS
from platewise.detection.evaluate import box_iou_matrix
from platewise.detection.verifier import verifier_crops
from platewise.training.export import export_crop_model
from platewise.training.runlog import printing_log

__all__ = [
    "VerifierNet",
    "calibration_candidates",
    "collect_candidates",
    "fit_combination",
    "fit_logistic",
    "logit64",
    "main",
]

SIZE = (32, 96)
PAD = (0.25, 0.5)
REAL_FOLDERS = ("openlpr-scenes", "ro-dashcam", "openalpr-dev", "negatives")
KIND_REAL, KIND_GT, KIND_SYNTH = 0, 1, 2


class VerifierNet(nn.Module):
    """A small plain CNN: a stem and four stride-2 stages of two 3x3 convolutions, mean+max pooling, a linear
    logit. Input (N, 3, H, W) in [0, 1] (BGR); normalization is inside, so the ONNX file takes raw pixels/255."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 48, 64)) -> None:
        super().__init__()

        def block(cin: int, cout: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

        layers: list[nn.Module] = [block(3, widths[0], 1)]
        cin = widths[0]
        for w in widths:
            layers += [block(cin, w, 2), block(w, w, 1)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(2 * cin, 1)
        self.widths = tuple(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features((x - 0.5) / 0.25)
        pooled = torch.cat([f.mean((2, 3)), f.amax((2, 3))], 1)
        return self.head(pooled).squeeze(1)


def _is_calibration(key: str, fraction: float = 0.25) -> bool:
    # a plain hash: is_holdout would keep every key under a train/ folder on the training side
    return hash_fraction(key, "verifier") < fraction


def _jitter_box(box: npt.NDArray[np.float32], rng: np.random.Generator) -> npt.NDArray[np.float32]:
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    dx = rng.uniform(-0.08, 0.08, 2) * w
    dy = rng.uniform(-0.15, 0.15, 2) * h
    return np.array([x1 + dx[0], y1 + dy[0], x2 + dx[1], y2 + dy[1]], np.float32)


def collect_candidates(
    detector_path: str | None,
    data_root: Path,
    n_synth: int,
    seed: int,
    threads: int,
    log: Any = print,
    refined_boxes: bool = False,
    size: tuple[int, int] = SIZE,
    distractor_prob: float = 0.0,
) -> dict[str, npt.NDArray[Any]]:
    """The candidate crops and their labels (see the module docstring, step 1). Arrays: ``crops`` (N,h,w,3)
    uint8, ``iou`` (N,) best IoU with a labelled plate (1 for the jittered labelled boxes), ``score`` (N,)
    detector score (-1 for the jittered labelled boxes), ``kind`` (real candidate / labelled box /
    synthetic), ``calib`` (N,) bool, ``image`` (N,) image index, ``key`` (N,) its key, ``box`` (N, 4)
    the candidate's box. Crops are ``size`` (h, w); a synthetic
    scene gets 1-3 lines of unlabelled text (:func:`~platewise.detection.synth.paste_distractors`) with
    probability ``distractor_prob``."""
    from platewise.data.synthetic.backgrounds import real_scene_backgrounds
    from platewise.data.synthetic.scenes import SceneSynthesizer
    from platewise.detection.dataset import HOLDOUT_SCENE_SIZES
    from platewise.detection.detector import PlateDetector
    from platewise.detection.synth import paste_distractors
    from platewise.imageio import load_image

    # The boxes the verifier sees at inference: the network's (it runs before corner refinement and blending).
    det = PlateDetector(
        detector_path,
        threads=threads,
        score_threshold=0.05,
        verifier=False,
        corner_refine=refined_boxes,
        box_blend=0.5 if refined_boxes else 0.0,
    )
    rng = np.random.default_rng(seed)
    crops: list[npt.NDArray[np.uint8]] = []
    cols: dict[str, list[Any]] = {"iou": [], "score": [], "kind": [], "calib": [], "image": [], "key": [], "box": []}

    def add(
        img: npt.NDArray[np.uint8], gt: npt.NDArray[np.float32], idx: int, kind: int, calib: bool, key: str
    ) -> None:
        raw = det.detect_raw([img])[0]
        iou = box_iou_matrix(raw.boxes, gt).max(1) if len(gt) else np.zeros(len(raw.boxes))
        boxes = raw.boxes
        extra = np.array([_jitter_box(b, rng) for b in gt], np.float32).reshape(-1, 4)
        all_boxes = np.concatenate([boxes, extra])
        if not len(all_boxes):
            return
        crops.append(verifier_crops(img, all_boxes, size, *PAD))
        n, m = len(boxes), len(extra)
        cols["iou"] += [*iou.tolist(), *[1.0] * m]
        cols["score"] += [*raw.scores.tolist(), *[-1.0] * m]
        cols["kind"] += [kind] * n + [KIND_GT if kind == KIND_REAL else kind] * m
        cols["calib"] += [calib] * (n + m)
        cols["image"] += [idx] * (n + m)
        cols["key"] += [key] * (n + m)
        cols["box"] += all_boxes.tolist()

    t0 = time.monotonic()
    records = load_records(data_root, REAL_FOLDERS, holdout=False)
    for i, r in enumerate(records):
        try:
            img = load_image(r.source)
        except Exception as e:  # noqa: BLE001 - a bad file is skipped, said in the log
            log(f"skipped {r.key}: {e}")
            continue
        add(img, np.asarray(r.boxes, np.float32).reshape(-1, 4), i, KIND_REAL, _is_calibration(r.key), r.key)
        if i % 500 == 0:
            log(f"real {i}/{len(records)} {time.monotonic() - t0:.0f}s {sum(len(c) for c in crops)} crops")
    backgrounds: list[Any] = [str(r.source) for r in load_records(data_root, ("negatives",), holdout=False)]
    backgrounds += real_scene_backgrounds(data_root)
    synth = SceneSynthesizer(backgrounds, seed=seed)
    for j in range(n_synth):
        w, h = HOLDOUT_SCENE_SIZES[j % len(HOLDOUT_SCENE_SIZES)]
        sc = synth.sample(w, h)
        gt = np.array([p.box.as_list() for p in sc.plates], np.float32).reshape(-1, 4)
        img = sc.image
        if distractor_prob > 0 and rng.random() < distractor_prob:
            img = paste_distractors(rng, img, int(rng.integers(1, 4)), avoid=gt)
        add(img, gt, len(records) + j, KIND_SYNTH, False, f"synthetic/{j}")
    log(f"candidates: {sum(len(c) for c in crops)} crops in {time.monotonic() - t0:.0f}s")
    out = {k: np.asarray(v) for k, v in cols.items()}
    out["crops"] = np.concatenate(crops)
    return out


def _augment(x: npt.NDArray[np.uint8], rng: np.random.Generator, strong: bool = False) -> npt.NDArray[np.float32]:
    """Photometric (gain, bias, per-channel tint, greyscale) and small shift/scale jitter; -> float [0, 1].
    ``strong`` adds what night dashcam frames look like: a stronger tint (red light), lower contrast, blur
    and noise."""
    n, h, w, _ = x.shape
    out = np.empty((n, h, w, 3), np.float32)
    for i in range(n):
        s = rng.uniform(0.9, 1.1)
        tx, ty = rng.uniform(-0.06, 0.06) * w, rng.uniform(-0.1, 0.1) * h
        m = np.array([[s, 0, (1 - s) * w / 2 + tx], [0, s, (1 - s) * h / 2 + ty]], np.float32)
        img = cv2.warpAffine(x[i], m, (w, h), borderMode=cv2.BORDER_REFLECT)
        if strong and rng.random() < 0.3:
            k = int(rng.choice([3, 5]))
            img = cv2.GaussianBlur(img, (k, k), 0)
        f = img.astype(np.float32) / 255.0
        if rng.random() < 0.15:
            f = np.repeat(f.mean(2, keepdims=True), 3, 2)
        tint = rng.uniform(0.7, 1.3, 3) if strong and rng.random() < 0.5 else rng.uniform(0.9, 1.1, 3)
        f = f * rng.uniform(0.6, 1.4) * tint + rng.uniform(-0.15, 0.15)
        if strong and rng.random() < 0.3:  # washed out: toward the crop's mean
            a = rng.uniform(0.2, 0.6)
            f = (1 - a) * f + a * f.mean((0, 1), keepdims=True)
        if strong and rng.random() < 0.3:
            f = f + rng.normal(0, rng.uniform(0.01, 0.05), f.shape)
        out[i] = f
    return np.clip(out, 0, 1)


def _probs(net: VerifierNet, crops: npt.NDArray[np.uint8], batch: int = 512) -> npt.NDArray[np.float32]:
    net.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(crops), batch):
            x = torch.from_numpy(crops[s : s + batch].transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
            out.append(torch.sigmoid(net(x)).numpy())
    net.train()
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)


def logit64(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``log(p / (1 - p))`` in float64, ``p`` clipped to [1e-6, 1 - 1e-6]."""
    q = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)), np.float64)


def fit_logistic(
    x: npt.NDArray[np.float64], y: npt.NDArray[Any], l2: float = 1e-3, max_iter: int = 50
) -> npt.NDArray[np.float64]:
    """Logistic regression weights of ``y`` on the columns of ``x`` (include a column of ones for a bias),
    Newton's method with a small L2 penalty."""
    y = np.asarray(y, np.float64)
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        p = 1 / (1 + np.exp(-x @ beta))
        g = x.T @ (p - y) + l2 * beta
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, g)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def fit_combination(
    det_scores: npt.NDArray[np.float32],
    probs: npt.NDArray[np.float32],
    labels: npt.NDArray[Any],
    l2: float = 1e-3,
    verifier_weight: float | None = None,
) -> tuple[float, float, float]:
    """Logistic regression of ``labels`` on (logit detector score, logit verifier probability), Newton's
    method with a small L2 penalty: the ``(a, b, c)`` of :func:`~platewise.detection.verifier.combine_scores`.

    With ``verifier_weight`` w in (0, 1) the direction is fixed, ``(a, b) = s * (1 - w, w)``: only the scale
    ``s`` and the bias ``c`` are fitted."""
    ld, lv = logit64(det_scores), logit64(probs)
    if verifier_weight is not None:
        w = float(verifier_weight)
        if not 0.0 < w < 1.0:
            raise ValueError(f"verifier_weight must be in (0, 1), got {w}")
        scale, bias = fit_logistic(np.stack([(1 - w) * ld + w * lv, np.ones(len(probs))], 1), labels, l2)
        return float(scale * (1 - w)), float(scale * w), float(bias)
    beta = fit_logistic(np.stack([ld, lv, np.ones(len(probs))], 1), labels, l2)
    return float(beta[0]), float(beta[1]), float(beta[2])


def f1_threshold(counts: dict[float, Any]) -> tuple[float, dict[str, float]]:
    """The threshold of ``{threshold: DetectionCounts}`` with the best F1 at IoU 0.5 (ties: the lower one)."""
    best: tuple[float, dict[str, float]] = (0.5, {"f1": -1.0})
    for t in sorted(counts):
        m = _f1_at(counts[t])
        if m["f1"] > best[1]["f1"]:
            best = (t, m)
    return best


def _calibration_records(
    data_root: Path, extra: dict[str, npt.NDArray[np.float32]]
) -> list[tuple[str, npt.NDArray[np.uint8], npt.NDArray[np.float32], npt.NDArray[np.float32]]]:
    """The calibration part's real images as (key, image, labelled boxes (K,4), labelled plus ``extra`` boxes)."""
    out = []
    for r in load_records(data_root, REAL_FOLDERS[:3], holdout=False):
        if _is_calibration(r.key):
            gt = np.asarray(r.boxes, np.float32).reshape(-1, 4)
            full = np.concatenate([gt, extra.get(r.key, np.zeros((0, 4), np.float32))])
            out.append((r.key, r.image(), gt, full))
    return out


def _calibration_images(
    data_root: Path, extra: dict[str, npt.NDArray[np.float32]]
) -> list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32], npt.NDArray[np.float32]]]:
    """The calibration part's real images as (image, labelled boxes (K,4), labelled plus ``extra`` boxes)."""
    return [(img, gt, full) for _, img, gt, full in _calibration_records(data_root, extra)]


def precision_floor_threshold(
    counts: dict[float, Any], floors: list[tuple[dict[float, Any], float]]
) -> tuple[float, dict[str, float], bool]:
    """The threshold of ``counts`` (``{threshold: DetectionCounts}``) with the best F1 at IoU 0.5 among those
    where each ``(counts_k, floor_k)`` of ``floors`` (e.g. one folder's counts) has precision at IoU 0.5 of at
    least ``floor_k`` (ties: the lower threshold). Returns ``(threshold, figures, True)``; where no threshold
    meets every floor, :func:`f1_threshold`'s choice and ``False``."""
    best: tuple[float, dict[str, float]] | None = None
    for t in sorted(counts):
        # NaN precision (no detections, so none false) meets a floor
        if any(_f1_at(c[t])["precision50"] < floor for c, floor in floors):
            continue
        m = _f1_at(counts[t])
        if best is None or m["f1"] > best[1]["f1"]:
            best = (t, m)
    if best is None:
        t, m = f1_threshold(counts)
        return t, m, False
    return best[0], best[1], True


def calibrate_threshold(
    detector_path: str | None,
    verifier_path: Path,
    data_root: Path,
    threads: int,
    candidates: tuple[float, ...] = (0.1,),
    extra: dict[str, npt.NDArray[np.float32]] | None = None,
    min_label_precision: float | None = None,
    min_precision: float | None = None,
    corner_net: str | Path | bool = True,
    detector_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Sweeps the candidate and final score thresholds on the calibration images (module docstring, step 4).

    The detector runs as ``PlateDetector(detector_path, verifier=..., corner_net=corner_net)``: by default
    with the shipped corner network, as the pipeline and the candidates' checks run it, whichever detector file
    is named (``PlateDetector`` itself loads the corner network only for the shipped detector given as None).

    Returns ``candidate_threshold`` and ``score_threshold`` with the best F1 at IoU 0.5 (``at``: its recall,
    precision and F1), the best F1 per candidate threshold, and the detector alone's best for comparison.
    With ``extra`` (unlabelled plates found by an audit, :func:`read_audit`) the plates are the labelled ones
    plus those, and ``at_labels`` gives the chosen thresholds' figures against the labels alone.

    Precision floors, on each folder's calibration images: with ``min_label_precision`` the thresholds are the
    best F1 among those whose precision against the labels alone is at least that (``per_folder_at_labels``),
    with ``min_precision`` against the labels plus ``extra`` (``per_folder``). A pair that meets the floors beats
    one that does not (``floor_met``). ``detector_options``: more ``PlateDetector`` keyword arguments (e.g.
    ``tile_size``) for both the detector alone and with the verifier."""
    from platewise.detection.detector import PlateDetector

    opts = dict(detector_options or {})
    from platewise.detection.evaluate import DetectionCounts

    extra = extra or {}
    records = _calibration_records(data_root, extra)
    grid = [round(float(t), 2) for t in np.arange(0.05, 0.96, 0.01)]
    folders = sorted({key.split("/", 1)[0] for key, *_ in records})

    class Sweep(NamedTuple):
        threshold: float
        at: dict[str, float]  # against the labels plus ``extra``
        at_labels: dict[str, float]
        floor_met: bool
        per_folder_at_labels: dict[str, dict[str, float]]
        per_folder: dict[str, dict[str, float]]

    def sweep(det: PlateDetector, with_floors: bool) -> Sweep:
        # per folder and threshold, against the labels alone and against the labels plus extra (the same
        # counts where there is no extra); the totals over the folders are merged from them
        by_labels = {f: {t: DetectionCounts() for t in grid} for f in folders}
        by_plates = {f: {t: DetectionCounts() for t in grid} for f in folders} if extra else by_labels
        for key, img, gt, full in records:
            raw = det.detect_raw([img])[0]
            folder = key.split("/", 1)[0]
            for t in grid:
                by_labels[folder][t].add(raw.boxes, raw.scores, gt, t)
                if extra:
                    by_plates[folder][t].add(raw.boxes, raw.scores, full, t)
        counts = {t: DetectionCounts.merged(by_plates[f][t] for f in folders) for t in grid}
        floors = []
        if with_floors and min_label_precision is not None:
            floors += [(by_labels[f], min_label_precision) for f in folders]
        if with_floors and min_precision is not None:
            floors += [(by_plates[f], min_precision) for f in folders]
        if floors:
            t, m, met = precision_floor_threshold(counts, floors)
        else:
            (t, m), met = f1_threshold(counts), True
        return Sweep(
            t,
            m,
            _f1_at(DetectionCounts.merged(by_labels[f][t] for f in folders)),
            met,
            {f: _f1_at(by_labels[f][t]) for f in folders},
            {f: _f1_at(by_plates[f][t]) for f in folders},
        )

    alone = sweep(
        PlateDetector(
            detector_path, threads=threads, score_threshold=0.05, verifier=False, corner_net=corner_net, **opts
        ),
        False,
    )
    per_candidate = {}
    for cand in candidates:
        det = PlateDetector(
            detector_path,
            threads=threads,
            score_threshold=0.05,
            verifier=verifier_path,
            candidate_threshold=cand,
            corner_net=corner_net,
            **opts,
        )
        per_candidate[cand] = sweep(det, True)
    # the floors first (when asked for), then F1; ties: the first (lowest) candidate threshold
    best = max(per_candidate, key=lambda c: (per_candidate[c].floor_met, per_candidate[c].at["f1"]))
    chosen = per_candidate[best]
    out = {
        "candidate_threshold": best,
        "score_threshold": chosen.threshold,
        "at": chosen.at,
        "per_candidate_threshold": {
            str(c): {"score_threshold": r.threshold, **r.at, "floor_met": r.floor_met} for c, r in per_candidate.items()
        },
        "detector_alone": {"best_threshold": alone.threshold, **alone.at},
        "corner_net": ("shipped" if corner_net else "off") if isinstance(corner_net, bool) else str(corner_net),
        "per_folder": chosen.per_folder,
        "per_folder_at_labels": chosen.per_folder_at_labels,
    }
    if min_label_precision is not None or min_precision is not None:
        out["min_label_precision"] = min_label_precision
        out["min_precision"] = min_precision
        out["floor_met"] = chosen.floor_met
    if extra:
        out["audited_plates"] = int(sum(len(v) for v in extra.values()))
        out["at_labels"] = chosen.at_labels
    return out


def _f1_at(counts: Any) -> dict[str, float]:
    m = counts.metrics()
    r, p = float(m["recall50"]), float(m["precision50"])
    f1 = 2 * p * r / (p + r) if p + r > 0 and not math.isnan(p) else 0.0
    return {"f1": round(f1, 4), "recall50": round(r, 4), "precision50": round(p, 4)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the plate verifier for a detector.")
    ap.add_argument("--out", required=True, help="run folder")
    ap.add_argument("--detector", help="detector ONNX (default: shipped)")
    ap.add_argument("--data-root", help="default: ../shared/data")
    ap.add_argument("--synthetic", type=int, default=1500, help="synthetic scenes (default 1500)")
    ap.add_argument("--steps", type=int, default=6000, help="training steps (cosine learning rate over them)")
    ap.add_argument("--minutes", type=float, default=60.0, help="safety stop (a run cut short is not reproducible)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument(
        "--candidate-thresholds",
        default="0.1,0.15,0.2,0.25,0.3,0.35",
        help="network scores down to which candidates are verified: the one with the best calibration F1 is kept",
    )
    ap.add_argument(
        "--hard-score",
        type=float,
        default=0.2,
        help="not-plates the detector scores this high fill a quarter of each batch",
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", default="32x96", help="crop size HxW (default 32x96)")
    ap.add_argument("--widths", default="16,32,48,64", help="the CNN's stage widths (default 16,32,48,64)")
    ap.add_argument(
        "--strong-augment",
        action="store_true",
        help="also blur, tint strongly, wash out and add noise to the crops (night dashcam frames)",
    )
    ap.add_argument(
        "--distractor-prob",
        type=float,
        default=0.0,
        help="share of the synthetic scenes that get unlabelled text (watermarks, words, numbers) drawn in",
    )
    ap.add_argument(
        "--refined-boxes",
        action="store_true",
        help="collect candidates with refined, blended boxes (the shipped verifier's training; inference "
        "verifies the network's boxes)",
    )
    ap.add_argument(
        "--audit",
        help="a label audit CSV of the calibration images (benchmarks/label_audit/calibration_unlabelled.csv): its "
        "'plate' rows count as plates in the calibration (combination and thresholds)",
    )
    ap.add_argument(
        "--train-audit",
        help="a label audit CSV of the training side (benchmarks/label_audit/training_unlabelled.csv): candidates on "
        "its 'plate' boxes (IoU >= 0.5) are trained on as plates, those near them or on 'unsure' boxes are left out",
    )
    ap.add_argument(
        "--pu-ignore",
        type=float,
        default=None,
        metavar="P",
        help="cross-fit two verifiers on halves of the real images and leave out of training the unlabelled "
        "candidates the other half's verifier gives a plate probability >= P (unlabelled plates)",
    )
    ap.add_argument(
        "--min-label-precision",
        type=float,
        default=None,
        metavar="P",
        help="choose the thresholds with the best calibration F1 among those whose precision against the labels "
        "alone (not --audit's) is at least P on each folder's calibration images (e.g. 0.95, the target)",
    )
    ap.add_argument(
        "--min-precision",
        type=float,
        default=None,
        metavar="P",
        help="like --min-label-precision, against the labels plus --audit's plates",
    )
    ap.add_argument(
        "--recalibrate",
        action="store_true",
        help="only redo step 4's threshold sweeps for the run's verifier (verifier.pt, or verifier.onnx alone: "
        "its metadata is rewritten); the combination is kept unless --refit-combination",
    )
    ap.add_argument(
        "--refit-combination",
        action="store_true",
        help="with --recalibrate: also refit the combination on --detector's candidates of the calibration images "
        "(for new detector weights)",
    )
    ap.add_argument(
        "--corner-net",
        default="on",
        help="the corner network of the threshold sweeps: on (default: the shipped one, as the pipeline and "
        "benchmarks/detector_candidate.sh run it), off or an ONNX file. Before the seventeenth session a named "
        "--detector swept without one",
    )
    ap.add_argument(
        "--verifier-weight",
        type=float,
        default=None,
        metavar="W",
        help="with --refit-combination: fix the combination's direction, (a, b) proportional to (1 - W, W), and fit "
        "only its scale and bias (W in (0, 1))",
    )
    ap.add_argument(
        "--flip",
        choices=FLIP_FUSIONS,
        default=None,
        help="with --recalibrate: fit the combination (with --refit-combination) and sweep the thresholds for the "
        "detector's test-time flip with this fusion (PlateDetector(flip=...))",
    )
    args = ap.parse_args(argv)
    if args.flip and not args.recalibrate:
        ap.error("--flip goes with --recalibrate (the verifier is trained on the detector's candidates without it)")
    if args.verifier_weight is not None and not (0.0 < args.verifier_weight < 1.0 and args.refit_combination):
        ap.error(f"--verifier-weight must be in (0, 1) and goes with --refit-combination, got {args.verifier_weight}")
    for flag, value in (("--min-label-precision", args.min_label_precision), ("--min-precision", args.min_precision)):
        if value is not None and not 0.0 < value <= 1.0:
            ap.error(f"{flag} must be in (0, 1], got {value}")

    from platewise.data.sources import default_data_root

    root = Path(args.data_root) if args.data_root else default_data_root()
    size = _size(args.size)
    widths = _widths(args.widths)
    if args.recalibrate:
        return _recalibrate(args, root)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = printing_log(out)

    cache = out / "candidates.npz"
    if cache.is_file():
        data = dict(np.load(cache))
        log(f"candidates from {cache}")
    else:
        data = collect_candidates(
            args.detector,
            root,
            args.synthetic,
            args.seed,
            args.threads,
            log,
            refined_boxes=args.refined_boxes,
            size=size,
            distractor_prob=args.distractor_prob,
        )
        np.savez(cache, **data)
    crops, iou, calib = data["crops"], data["iou"], data["calib"].astype(bool)
    if crops.shape[1:3] != size:
        have = f"{crops.shape[1]}x{crops.shape[2]}"
        raise SystemExit(f"{cache} holds {have} crops, not --size {args.size}: give a new --out")
    label = (iou >= 0.5).astype(np.int64)
    train_idx = np.flatnonzero(~calib)
    if args.train_audit:
        train_idx, added = _apply_training_audit(data, label, train_idx, args.train_audit)
        left_out = int((~calib).sum()) - len(train_idx)
        log(f"training audit: {added} candidates on unlabelled plates are plates now, {left_out} left out")
    pos = train_idx[label[train_idx] == 1]
    neg = train_idx[(label[train_idx] == 0) & (iou[train_idx] < 0.4)]  # 0.4-0.5: too close to call
    hard = neg[data["score"][neg] >= args.hard_score]
    if not len(pos) or not len(neg):
        raise SystemExit(f"need both plates and not-plates to train on: {len(pos)} and {len(neg)} found")
    if not len(hard):
        hard = neg
    log(f"train: {len(pos)} plates, {len(neg)} not ({len(hard)} hard); calibration: {int(calib.sum())} crops")

    if args.pu_ignore is not None:
        ignored = _crossfit_ignore(data, label, Pools(pos, neg, hard), args, widths, log)
        neg, hard = np.setdiff1d(neg, ignored), np.setdiff1d(hard, ignored)
        log(
            f"left out {len(ignored)} unlabelled candidates the other fold's verifier calls plates: "
            f"{len(neg)} not-plates ({len(hard)} hard) remain"
        )
    t0 = time.monotonic()
    net, step = _train(crops, label, Pools(pos, neg, hard), args, widths, args.steps, args.seed, log)
    torch.save(
        {"state_dict": net.state_dict(), "widths": list(net.widths), "size": list(size), "steps": step},
        out / "verifier.pt",
    )
    # Calibration on the held-back real candidates (the jittered labelled boxes have no detector score).
    cal = np.flatnonzero(calib & (data["kind"] == KIND_REAL))
    p_cal = _probs(net, crops[cal])
    audit = read_audit(args.audit) if args.audit else None
    weights = fit_combination(
        data["score"][cal].astype(np.float32), p_cal, _calibration_labels(data, label, cal, audit)
    )
    path = out / "verifier.onnx"
    cal_res = _calibrate_and_export(lambda c, t: export(net, path, weights, c, t, size), path, root, args, audit)
    summary = {
        "steps": step,
        "minutes": round((time.monotonic() - t0) / 60, 1),
        "train_plates": len(pos),
        "train_not_plates": len(neg),
        "calibration_candidates": len(cal),
        "combine": weights,
        **cal_res,
    }
    log("summary", **summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {out / 'verifier.onnx'}")
    return 0


def _audit_iou(
    data: dict[str, npt.NDArray[Any]], idx: npt.NDArray[np.int64], audit: dict[str, npt.NDArray[np.float32]]
) -> npt.NDArray[np.float64]:
    """For the candidates ``idx``, the best IoU of each one's box with the ``audit`` boxes of its image (0 where
    its image has none)."""
    if "box" not in data:
        raise SystemExit("the run's candidates.npz has no boxes (collected by an older version): give a new --out")
    keys = data["key"].astype(str)
    out = np.zeros(len(idx))
    for j, i in enumerate(idx):
        boxes = audit.get(keys[i])
        if boxes is not None:
            out[j] = box_iou_matrix(data["box"][i][None].astype(np.float32), boxes).max()
    return out


def _apply_training_audit(
    data: dict[str, npt.NDArray[Any]], label: npt.NDArray[np.int64], train_idx: npt.NDArray[np.int64], path: str
) -> tuple[npt.NDArray[np.int64], int]:
    """``--train-audit``: training candidates overlapping an audited unlabelled plate by IoU 0.5 or more become
    plates (``label`` is changed in place); those overlapping one by 0.3-0.5, or an ``unsure`` box by 0.3 or
    more, are left out. Returns the remaining training indices and the number of candidates made plates."""
    p = _audit_iou(data, train_idx, read_audit(path))
    u = _audit_iou(data, train_idx, read_audit(path, ("unsure",)))
    unlabelled = label[train_idx] == 0
    made = unlabelled & (p >= 0.5)
    label[train_idx[made]] = 1
    drop = unlabelled & ~made & ((p >= 0.3) | (u >= 0.3))
    return train_idx[~drop], int(made.sum())


def _calibration_labels(
    data: dict[str, npt.NDArray[Any]],
    label: npt.NDArray[np.int64],
    cal: npt.NDArray[np.int64],
    audit: dict[str, npt.NDArray[np.float32]] | None,
) -> npt.NDArray[np.int64]:
    """``label[cal]``, with the ``audit``'s unlabelled plates (IoU 0.5 or more) counted as plates too."""
    out = label[cal].copy()
    if audit:
        out[_audit_iou(data, cal, audit) >= 0.5] = 1
    return out


@dataclass(frozen=True)
class Pools:
    """Indices of the training crops: plates, not-plates, and the hard not-plates among them."""

    pos: npt.NDArray[np.int64]
    neg: npt.NDArray[np.int64]
    hard: npt.NDArray[np.int64]

    def subset(self, keep: npt.NDArray[np.bool_]) -> Pools:
        """The pools' indices ``i`` with ``keep[i]``."""
        return Pools(self.pos[keep[self.pos]], self.neg[keep[self.neg]], self.hard[keep[self.hard]])


def _train(
    crops: npt.NDArray[np.uint8],
    label: npt.NDArray[np.int64],
    pools: Pools,
    args: argparse.Namespace,
    widths: tuple[int, ...],
    total: int,
    seed: int,
    log: Any,
) -> tuple[VerifierNet, int]:
    """Step 3: the CNN trained ``total`` steps on batches of half plates, a quarter not-plates and a quarter
    hard not-plates; returns it and the steps made."""
    pos, neg, hard = pools.pos, pools.neg, pools.hard
    torch.manual_seed(seed)
    net = VerifierNet(widths)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    t0 = time.monotonic()
    step = 0
    half = args.batch // 2
    while step < total and (time.monotonic() - t0) < args.minutes * 60:
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * step / total))
        for g in opt.param_groups:
            g["lr"] = lr
        quarter = (args.batch - half) // 2
        idx = np.concatenate(
            [rng.choice(pos, half), rng.choice(neg, args.batch - half - quarter), rng.choice(hard, quarter)]
        )
        x = torch.from_numpy(_augment(crops[idx], rng, args.strong_augment).transpose(0, 3, 1, 2).copy())
        y = torch.from_numpy(label[idx].astype(np.float32))
        loss = F.binary_cross_entropy_with_logits(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            log(f"step {step}/{total} loss {loss.item():.4f} lr {lr:.2e}", step=step, loss=loss.item())
    return net, step


def _crossfit_ignore(
    data: dict[str, npt.NDArray[Any]],
    label: npt.NDArray[np.int64],
    pools: Pools,
    args: argparse.Namespace,
    widths: tuple[int, ...],
    log: Any,
) -> npt.NDArray[np.int64]:
    """``--pu-ignore``: the real candidates without a label that a verifier trained on the other half of the
    real images (and all synthetic ones) gives a plate probability of ``args.pu_ignore`` or more.

    The scene folders leave many plates unlabelled (``benchmarks/label_audit/``), and a candidate on one
    of those is trained on as a not-plate; a verifier that never saw the image flags many of them (and some
    plate-like signs), and those candidates are left out of the final training. The ``negatives`` folder has
    no plates at all: its candidates are kept."""
    real = data["kind"] != KIND_SYNTH
    fold = data["image"] % 2
    neg = pools.neg
    no_plates = np.char.startswith(data["key"][neg].astype(str), "negatives/")  # that folder has none at all
    flaggable = neg[(data["kind"][neg] == KIND_REAL) & ~no_plates]
    out = []
    for f in (0, 1):
        keep = ~real | (fold != f)
        log(f"cross-fit fold {f}: training on the other half ({args.steps // 2} steps)")
        net, _ = _train(data["crops"], label, pools.subset(keep), args, widths, args.steps // 2, args.seed + 1 + f, log)
        cand = flaggable[fold[flaggable] == f]
        p = _probs(net, data["crops"][cand])
        out.append(cand[p >= args.pu_ignore])
        log(f"fold {f}: {len(out[-1])} of {len(cand)} unlabelled real candidates flagged")
    return np.concatenate(out)


def _floats(text: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise SystemExit(f"--candidate-thresholds {text!r}: expected numbers separated by commas") from None
    if not out or not all(0.0 <= v <= 1.0 for v in out):
        raise SystemExit(f"--candidate-thresholds {text!r}: give one or more values in [0, 1]")
    return out


def _widths(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise SystemExit(f"--widths {text!r}: expected whole numbers separated by commas, e.g. 16,32,48,64") from None
    if not out or min(out) < 1:
        raise SystemExit(f"--widths {text!r}: give one or more positive whole numbers")
    return out


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--size {text!r}: expected HxW, e.g. 32x96") from None
    if h < 16 or w < 16:
        raise SystemExit(f"--size {text!r}: both sides must be at least 16 pixels (four stride-2 stages)")
    return h, w


def _calibrate_and_export(
    write: Callable[[float, float], None],
    path: Path,
    root: Path,
    args: argparse.Namespace,
    audit: dict[str, npt.NDArray[np.float32]] | None = None,
) -> dict[str, Any]:
    """Step 4's threshold sweeps: ``write(candidate_threshold, score_threshold)`` writes the verifier to
    ``path``; it is written once to be swept, then again with the chosen thresholds. Returns
    :func:`calibrate_threshold`'s result."""
    write(0.1, 0.5)
    cal_res = calibrate_threshold(
        args.detector,
        path,
        root,
        args.threads,
        _floats(args.candidate_thresholds),
        extra=audit,
        min_label_precision=args.min_label_precision,
        min_precision=args.min_precision,
        corner_net=on_off_or_file(args.corner_net),
        detector_options={"flip": args.flip} if args.flip else None,
    )
    write(cal_res["candidate_threshold"], cal_res["score_threshold"])
    return cal_res


def calibration_candidates(
    detector_path: str | None,
    verifier_path: str | Path,
    data_root: Path,
    threads: int,
    audit: dict[str, npt.NDArray[np.float32]] | None = None,
    flip: str | None = None,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The network ``detector_path``'s candidates on the calibration images (score 0.05 or more, its own boxes,
    as inference verifies them): their scores, the verifier ``verifier_path``'s probabilities, and their labels
    as in training (1: IoU 0.5 or more with a labelled plate, or with an ``audit`` plate). ``flip``: the
    detector's test-time flip (``PlateDetector(flip=...)``)."""
    from platewise.detection.detector import PlateDetector
    from platewise.detection.verifier import PlateVerifier

    det = PlateDetector(  # the boxes only: no corner network, refinement or blending
        detector_path,
        threads=threads,
        score_threshold=0.05,
        verifier=False,
        corner_net=False,
        corner_refine=False,
        box_blend=0.0,
        flip=flip or False,
    )
    ver = PlateVerifier(verifier_path, threads=threads)
    scores, probs, labels = [], [], []
    for img, _, gt in _calibration_images(data_root, audit or {}):
        raw = det.detect_raw([img])[0]
        if not len(raw.boxes):
            continue
        iou = box_iou_matrix(raw.boxes, gt).max(1) if len(gt) else np.zeros(len(raw.boxes))
        scores.append(raw.scores.astype(np.float32))
        probs.append(ver.probabilities(img, raw.boxes))
        labels.append((iou >= 0.5).astype(np.int64))
    if not scores:
        raise SystemExit("no candidates on the calibration images: check --data-root")
    return np.concatenate(scores), np.concatenate(probs), np.concatenate(labels)


def refit_combination(
    detector_path: str | None,
    verifier_path: Path,
    data_root: Path,
    threads: int,
    audit: dict[str, npt.NDArray[np.float32]] | None = None,
    verifier_weight: float | None = None,
    flip: str | None = None,
) -> tuple[float, float, float]:
    """Step 4's combination fitted again, for the detector ``detector_path``, on
    :func:`calibration_candidates` (``verifier_weight``: :func:`fit_combination`'s; ``flip``: the detector's)."""
    scores, probs, labels = calibration_candidates(detector_path, verifier_path, data_root, threads, audit, flip)
    return fit_combination(scores, probs, labels, verifier_weight=verifier_weight)


def _recalibrate(args: argparse.Namespace, root: Path) -> int:
    from platewise.runtime.onnx import OnnxModel
    from platewise.training.export import update_metadata

    out = Path(args.out)
    path = out / "verifier.onnx"
    if not path.is_file():
        raise SystemExit(f"--recalibrate: {path} not found (copy the verifier to recalibrate there)")
    meta = OnnxModel(path, threads=1).metadata
    weights = (float(meta["combine"][0]), float(meta["combine"][1]), float(meta["combine"][2]))
    audit = read_audit(args.audit) if args.audit else None
    if args.refit_combination:
        weights = refit_combination(args.detector, path, root, args.threads, audit, args.verifier_weight, args.flip)
    write: Callable[[float, float], None]
    if (out / "verifier.pt").is_file():
        ck = torch.load(out / "verifier.pt", map_location="cpu")
        net = VerifierNet(tuple(ck["widths"]))
        net.load_state_dict(ck["state_dict"])
        size = (int(ck.get("size", SIZE)[0]), int(ck.get("size", SIZE)[1]))

        def write(c: float, t: float) -> None:
            export(net, path, weights, c, t, size)

    else:  # the ONNX file alone (the shipped verifier): only its metadata changes

        def write(c: float, t: float) -> None:
            update_metadata(path, {"combine": list(weights), "candidate_threshold": c, "score_threshold": t})

    cal_res = {"combine": weights, **_calibrate_and_export(write, path, root, args, audit)}
    (out / "recalibrated.json").write_text(json.dumps(cal_res, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(cal_res))
    return 0


def export(
    net: VerifierNet,
    path: Path,
    weights: tuple[float, float, float],
    candidate: float,
    thr: float,
    size: tuple[int, int] = SIZE,
) -> None:
    """ONNX with the metadata :class:`~platewise.detection.verifier.PlateVerifier` reads."""
    meta = {
        "kind": "verifier",
        "input_size": list(size),
        "pad": list(PAD),
        "color": "bgr",
        "combine": list(weights),
        "candidate_threshold": candidate,
        "score_threshold": thr,
        "version": "1",
    }
    export_crop_model(net, path, size, "logits", meta)


if __name__ == "__main__":
    sys.exit(main())
