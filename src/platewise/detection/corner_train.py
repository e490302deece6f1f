"""Trains the corner network (:mod:`platewise.detection.corner_net`) in one command:

    python -m platewise.detection.corner_train --out runs/corners [--detector F.onnx] [--steps 8000]
        -> runs/corners/corners.onnx (+ corners.pt, samples.npz, log.jsonl, summary.json)

1. Samples. Synthetic plates with exact corners on training-side backgrounds (hold-out images are never
   read): half the scenes from ``SceneSynthesizer`` (over the negatives and the parts of real scenes away
   from their plates), half from the built-in renderer pasted into negatives
   (:func:`~platewise.detection.synth.paste_plates`), the two sources of ``platewise eval detect
   --synthetic``; ``--surround-prob`` of the plates get a recess or a frame around them
   (:func:`add_surround`), as plates on cars have. The detector's network (no verifier, no refinement)
   runs on each scene; every detection with IoU >= 0.5 with a plate's box gives a crop around the detected
   box, and each plate gives ``--jitter`` more crops around its own box, moved and resized at random (the
   boxes a detector could give). Targets: the plate's corners in crop coordinates.
2. The CNN (:class:`CornerRegressor`, 277k parameters) trains on them: the loss is the mean distance of
   the predicted corners to the true ones divided by the plate's width, in image pixels (the ``platewise
   eval detect`` corner error), with photometric jitter and horizontal flips (corner order swapped); AdamW,
   cosine learning rate over ``--steps``. ``--val`` scenes drawn after the training ones (other random
   draws, same backgrounds) give the error it reaches.
3. Export: ONNX (float input NCHW in [0, 1], BGR -> (N, 8) corner coordinates as fractions of the crop's
   width and height) with the metadata :class:`~platewise.detection.corner_net.CornerNet` reads.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from platewise.detection.corner_net import corner_crops, corner_regions
from platewise.detection.evaluate import box_iou_matrix
from platewise.training.export import export_crop_model
from platewise.training.runlog import printing_log

__all__ = ["CornerRegressor", "add_surround", "collect_samples", "corner_distances", "corner_loss", "main"]

SIZE = (48, 144)
PAD = (0.15, 0.3)


class CornerRegressor(nn.Module):
    """A small encoder-decoder CNN with integral (soft-argmax) corner regression: a stem and four stride-2
    stages of two 3x3 convolutions (strides 2-16), a top-down path back to stride 4 (FPN-like: upsample and
    add), four heatmaps there, one per corner (TL, TR, BR, BL), and each corner the expectation of its
    heatmap's softmax -> (N, 8) x, y as fractions of the crop's width and height. Input (N, 3, H, W) in
    [0, 1]; normalization is inside. Localising by heatmaps is translation-equivariant and learns far faster
    than a linear layer on flattened features (the first design: 8.6% of the plate width after 2,000 steps)."""

    def __init__(self, widths: tuple[int, ...] = (24, 48, 64, 96), neck: int = 48) -> None:
        super().__init__()

        def block(cin: int, cout: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

        self.stem = block(3, 16, 1)
        stages: list[nn.Module] = []
        cin = 16
        for w in widths:
            stages.append(nn.Sequential(block(cin, w, 2), block(w, w, 1)))
            cin = w
        self.stages = nn.ModuleList(stages)
        self.lateral = nn.ModuleList([nn.Conv2d(w, neck, 1) for w in widths[1:]])  # strides 4, 8, 16
        self.smooth = block(neck, neck, 1)
        self.heat = nn.Conv2d(neck, 4, 3, 1, 1)
        self.widths = tuple(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.stem((x - 0.5) / 0.25)
        feats = []
        for stage in self.stages:
            f = stage(f)
            feats.append(f)
        top = self.lateral[-1](feats[-1])
        for lat, feat in zip(reversed(self.lateral[:-1]), reversed(feats[1:-1]), strict=True):
            top = lat(feat) + F.interpolate(top, size=feat.shape[2:], mode="nearest")
        heat = self.heat(self.smooth(top))  # (N, 4, h, w) at stride 4
        n, _, h, w = heat.shape
        p = torch.softmax(heat.reshape(n, 4, h * w), 2).reshape(n, 4, h, w)
        xs = (torch.arange(w, dtype=x.dtype) + 0.5) / w
        ys = (torch.arange(h, dtype=x.dtype) + 0.5) / h
        cx = (p.sum(2) * xs).sum(2)  # (N, 4)
        cy = (p.sum(3) * ys).sum(2)
        return torch.stack([cx, cy], 2).reshape(n, 8)


def corner_distances(pred: torch.Tensor, target: torch.Tensor, scale: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """(N, 4) corner distances / plate width: ``pred`` and ``target`` (N, 8) in crop fractions, ``scale`` (N, 2)
    the crop region's width and height divided by the plate's width (``eps`` keeps the gradient finite at 0)."""
    d = (pred - target).view(-1, 4, 2) * scale[:, None, :]
    return torch.sqrt((d * d).sum(2) + eps)


def corner_loss(pred: torch.Tensor, target: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Mean corner distance / plate width (:func:`corner_distances`), the training loss."""
    return corner_distances(pred, target, scale, eps=1e-8).mean()


def add_surround(
    rng: np.random.Generator, image: npt.NDArray[np.uint8], quad: npt.NDArray[np.float32]
) -> npt.NDArray[np.uint8]:
    """``image`` with what surrounds a plate on a car drawn around the plate ``quad`` (4,2), the plate kept on
    top: a recess (a larger quadrilateral, often a trapezoid, darker or lighter than the background, with
    a shaded edge) or a plate frame (a thin band of one colour). Real plates sit in these; a corner network
    trained on plates pasted flat onto backgrounds took the recess's outline for the plate's."""
    img = image.copy()
    h, w = img.shape[:2]
    q = np.asarray(quad, np.float64)
    c = q.mean(0)
    ux = (q[1] - q[0] + q[2] - q[3]) / 2  # along the plate, one width
    uy = (q[3] - q[0] + q[2] - q[1]) / 2  # across it, one height
    if rng.random() < 0.65:  # recess: grown by 10-50% of the width and 20-120% of the height, unevenly
        gx = rng.uniform(0.1, 0.5, 4) / 2
        gy = rng.uniform(0.2, 1.2, 4) / 2
        top_x = 1.0 + (rng.uniform(-0.3, 0.3) if rng.random() < 0.5 else 0.0)  # a trapezoid sometimes
        signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64)
        outer = np.array(
            [
                c + signs[k, 0] * ux * (0.5 + gx[k]) * (top_x if k < 2 else 1.0) + signs[k, 1] * uy * (0.5 + gy[k])
                for k in range(4)
            ]
        )
        x0, y0 = np.clip(np.floor(outer.min(0)).astype(int), 0, [w, h])
        x1, y1 = np.clip(np.ceil(outer.max(0)).astype(int) + 1, 0, [w, h])
        if x1 - x0 < 2 or y1 - y0 < 2:
            return img
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, np.round((outer - [x0, y0]) * 16).astype(np.int32), 255, cv2.LINE_AA, shift=4)
        k = max(1, int(np.linalg.norm(uy) * rng.uniform(0.05, 0.3))) * 2 + 1
        soft = cv2.GaussianBlur(mask, (k, k), 0).astype(np.float32)[..., None] / 255.0
        roi = img[y0:y1, x0:x1].astype(np.float32)
        if rng.random() < 0.5:  # shade the background
            fill = roi * rng.uniform(0.25, 0.8) if rng.random() < 0.7 else roi * 0.5 + 255 * rng.uniform(0.2, 0.5)
        else:  # a painted or plastic surface
            fill = np.broadcast_to(rng.uniform(0, 255, 3).astype(np.float32), roi.shape) + rng.normal(0, 6, roi.shape)
        img[y0:y1, x0:x1] = np.clip(roi * (1 - soft) + fill * soft, 0, 255).astype(np.uint8)
    else:  # frame: a band of 4-15% of the plate height around it
        t = rng.uniform(0.04, 0.15) + 0.02
        outer = np.array(
            [c + sx * ux * (0.5 + t) + sy * uy * (0.5 + 2 * t) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        )
        colour = tuple(float(v) for v in (rng.uniform(0, 60, 3) if rng.random() < 0.5 else rng.uniform(150, 255, 3)))
        cv2.fillConvexPoly(img, np.round(outer * 16).astype(np.int32), colour, cv2.LINE_AA, shift=4)
    # the plate back on top
    pm = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(pm, np.round(q * 16).astype(np.int32), 255, cv2.LINE_AA, shift=4)
    a = pm.astype(np.float32)[..., None] / 255.0
    return np.clip(image * a + img * (1 - a), 0, 255).astype(np.uint8)


def _jitter(box: npt.NDArray[np.float32], rng: np.random.Generator) -> npt.NDArray[np.float32]:
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    dx = rng.normal(0, 0.06, 2) * w
    dy = rng.normal(0, 0.12, 2) * h
    return np.array([x1 + dx[0], y1 + dy[0], x2 + dx[1], y2 + dy[1]], np.float32)


def collect_samples(
    detector_path: str | None,
    data_root: Path,
    n_scenes: int,
    seed: int,
    threads: int,
    jitter: int = 2,
    log: Any = print,
    surround_prob: float = 0.0,
) -> dict[str, npt.NDArray[Any]]:
    """Step 1 of the module docstring: ``crops`` (N,h,w,3) uint8, ``target`` (N,8) float32 corner fractions,
    ``scale`` (N,2) float32 region width and height over plate width, ``source`` (N,) 0 scenes / 1 built-in."""
    from platewise.data.synthetic.backgrounds import real_scene_backgrounds
    from platewise.data.synthetic.scenes import SceneSynthesizer
    from platewise.detection.dataset import HOLDOUT_SCENE_SIZES, load_records
    from platewise.detection.detector import PlateDetector
    from platewise.detection.synth import paste_plates

    det = PlateDetector(
        detector_path, threads=threads, score_threshold=0.2, verifier=False, corner_refine=False, box_blend=0.0
    )
    rng = np.random.default_rng(seed)
    negatives = load_records(data_root, ("negatives",), holdout=False)
    if not negatives:
        raise SystemExit(f"no training-side negatives under {data_root}/negatives")
    backgrounds: list[Any] = [str(r.source) for r in negatives]
    backgrounds += real_scene_backgrounds(data_root)
    synth = SceneSynthesizer(backgrounds, seed=seed)
    cols: dict[str, list[Any]] = {"crops": [], "target": [], "scale": [], "source": []}
    t0 = time.monotonic()
    for j in range(n_scenes):
        if j % 2 == 0:
            w, h = HOLDOUT_SCENE_SIZES[(j // 2) % len(HOLDOUT_SCENE_SIZES)]
            sc = synth.sample(w, h)
            img = sc.image
            quads = np.array([p.corners for p in sc.plates], np.float32).reshape(-1, 4, 2)
        else:
            bg = negatives[int(rng.integers(len(negatives)))].image()
            img, quads = paste_plates(rng, bg, int(rng.integers(1, 4)))
        if not len(quads):
            continue
        for q in quads:
            if rng.random() < surround_prob:
                img = add_surround(rng, img, q)
        gt = np.concatenate([quads.min(1), quads.max(1)], 1)
        raw = det.detect_raw([img])[0]
        boxes, which = [], []
        if len(raw.boxes):
            iou = box_iou_matrix(raw.boxes, gt)
            for k in range(len(raw.boxes)):
                g = int(iou[k].argmax())
                if iou[k, g] >= 0.5:
                    boxes.append(raw.boxes[k])
                    which.append(g)
        for g in range(len(gt)):
            for _ in range(jitter):
                boxes.append(_jitter(gt[g], rng))
                which.append(g)
        b = np.asarray(boxes, np.float32).reshape(-1, 4)
        regions = corner_regions(b, *PAD)
        cols["crops"].append(corner_crops(img, regions, SIZE))
        r = regions.astype(np.float32)
        q = quads[which]
        rw, rh = r[:, 2] - r[:, 0], r[:, 3] - r[:, 1]
        cols["target"].append(((q - r[:, None, :2]) / np.stack([rw, rh], 1)[:, None, :]).reshape(-1, 8))
        pw = (np.linalg.norm(q[:, 1] - q[:, 0], axis=1) + np.linalg.norm(q[:, 2] - q[:, 3], axis=1)) / 2
        cols["scale"].append(np.stack([rw, rh], 1) / np.maximum(pw, 1.0)[:, None])
        cols["source"].append(np.full(len(b), j % 2, np.int8))
        if j % 500 == 0:
            n = sum(len(c) for c in cols["crops"])
            log(f"scene {j}/{n_scenes} {time.monotonic() - t0:.0f}s {n} crops")
    return {
        k: np.concatenate(v).astype(np.float32 if k in ("target", "scale") else v[0].dtype) for k, v in cols.items()
    }


def _augment(x: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Photometric jitter (gain, bias, tint, greyscale, blur, noise); -> float [0, 1]."""
    out = x.astype(np.float32) / 255.0
    n = len(out)
    grey = rng.random(n) < 0.15
    out[grey] = out[grey].mean(3, keepdims=True)
    for i in np.flatnonzero(rng.random(n) < 0.25):
        k = int(rng.choice([3, 5]))
        out[i] = cv2.GaussianBlur(out[i], (k, k), 0)
    out = out * rng.uniform(0.5, 1.5, (n, 1, 1, 1)) * rng.uniform(0.9, 1.1, (n, 1, 1, 3))
    out += rng.uniform(-0.2, 0.2, (n, 1, 1, 1))
    noisy = rng.random(n) < 0.3
    out[noisy] += rng.normal(0, 0.03, out[noisy].shape)
    return np.clip(out, 0, 1).astype(np.float32)


_FLIP = [2, 3, 0, 1, 6, 7, 4, 5]  # TL<->TR, BR<->BL (x, y pairs)


def _flip(x: npt.NDArray[np.float32], t: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_]) -> None:
    x[mask] = x[mask][:, :, ::-1]
    tf = t[mask][:, _FLIP]
    tf[:, 0::2] = 1.0 - tf[:, 0::2]
    t[mask] = tf


def evaluate(net: CornerRegressor, data: dict[str, npt.NDArray[Any]], batch: int = 256) -> dict[str, float]:
    """Mean corner error / plate width of ``net`` on ``data``: ``mean``, ``median`` and per source (``scenes``,
    ``builtin``; a source without crops is left out), and the number of ``crops``."""
    net.eval()
    errs = []
    with torch.no_grad():
        for s in range(0, len(data["crops"]), batch):
            x = torch.from_numpy(data["crops"][s : s + batch].transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
            target = torch.from_numpy(data["target"][s : s + batch])
            errs.append(
                corner_distances(net(x), target, torch.from_numpy(data["scale"][s : s + batch])).mean(1).numpy()
            )
    net.train()
    e = np.concatenate(errs) if errs else np.zeros(0)
    src = data["source"]
    out: dict[str, float] = {"crops": len(e)}
    for name, part in (("mean", e), ("scenes", e[src == 0]), ("builtin", e[src == 1])):
        if len(part):
            out[name] = round(float(part.mean()), 4)
    if len(e):
        out["median"] = round(float(np.median(e)), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the corner network for a detector.")
    ap.add_argument("--out", required=True, help="run folder")
    ap.add_argument("--detector", help="detector ONNX (default: shipped)")
    ap.add_argument("--data-root", help="default: ../shared/data")
    ap.add_argument("--scenes", type=int, default=6000, help="synthetic training scenes (default 6000)")
    ap.add_argument("--val", type=int, default=400, help="synthetic validation scenes (default 400)")
    ap.add_argument("--jitter", type=int, default=2, help="jittered boxes per plate (default 2)")
    ap.add_argument(
        "--surround-prob",
        type=float,
        default=0.5,
        help="share of the plates drawn in a recess or a frame (add_surround; default 0.5)",
    )
    ap.add_argument("--steps", type=int, default=8000, help="training steps (cosine learning rate over them)")
    ap.add_argument("--minutes", type=float, default=90.0, help="safety stop (a run cut short is not reproducible)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from platewise.data.sources import default_data_root

    root = Path(args.data_root) if args.data_root else default_data_root()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = printing_log(out)

    def samples(name: str, n: int, seed: int, jitter: int) -> dict[str, npt.NDArray[Any]]:
        cache = out / f"{name}.npz"
        if cache.is_file():
            log(f"{name} from {cache}")
            return dict(np.load(cache))
        data = collect_samples(args.detector, root, n, seed, args.threads, jitter, log, args.surround_prob)
        np.savez(cache, **data)
        return data

    data = samples("samples", args.scenes, args.seed, args.jitter)
    val = samples("val", args.val, args.seed + 1000, 0)  # detections only, as at inference
    log(f"train: {len(data['crops'])} crops; validation: {len(val['crops'])}")

    net = CornerRegressor()
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    rng = np.random.default_rng(args.seed)
    t0 = time.monotonic()
    step = 0
    n = len(data["crops"])
    while step < args.steps and (time.monotonic() - t0) < args.minutes * 60:
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = rng.integers(0, n, args.batch)
        x = _augment(data["crops"][idx], rng)
        t = data["target"][idx].copy()
        _flip(x, t, rng.random(args.batch) < 0.5)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        loss = corner_loss(net(xt), torch.from_numpy(t), torch.from_numpy(data["scale"][idx]))
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        step += 1
        if step % 100 == 0:
            log(f"step {step}/{args.steps} loss {loss.item():.4f} lr {lr:.2e}", step=step, loss=loss.item())
        if step % 2000 == 0:
            log(f"step {step} validation", step=step, **evaluate(net, val))
            torch.save({"state_dict": net.state_dict(), "step": step}, out / "corners.pt")

    torch.save(
        {"state_dict": net.state_dict(), "widths": list(net.widths), "size": list(SIZE), "steps": step},
        out / "corners.pt",
    )
    summary = {
        "steps": step,
        "minutes": round((time.monotonic() - t0) / 60, 1),
        "train_crops": n,
        "validation": evaluate(net, val),
    }
    export(net, out / "corners.onnx")
    log("summary", **summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {out / 'corners.onnx'}")
    return 0


def export(net: CornerRegressor, path: Path, iterations: int = 1) -> None:
    """ONNX with the metadata :class:`~platewise.detection.corner_net.CornerNet` reads."""
    meta = {
        "kind": "corners",
        "input_size": list(SIZE),
        "pad": list(PAD),
        "color": "bgr",
        "iterations": iterations,
        "version": "1",
    }
    export_crop_model(net, path, SIZE, "corners", meta)


if __name__ == "__main__":
    sys.exit(main())
