"""Training loop for the plate detector (torch).

AdamW (weight decay on weights only), backbone learning rate ``backbone_lr_ratio`` of the rest, linear warm-up,
then the learning rate drops by ``lr_drop`` whenever :class:`~platewise.training.schedule.PlateauDetector`
sees the loss flatten. An exponential moving average of the weights is kept and exported. Checkpoints
(``last.pt``) hold the weights, the EMA, the optimizer, the step and the config; ``resume`` continues one.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from platewise.config import config_to_dict
from platewise.data.sources import default_data_root
from platewise.detection.config import DetectorConfig, DetectorTrainConfig
from platewise.detection.dataset import DetectionSampler, apply_audit, load_cache, load_records
from platewise.detection.loss import DetectorLoss
from platewise.detection.net import PlateDetectorNet, anchor_points
from platewise.errors import InvalidInput
from platewise.training.checkpoint import load_checkpoint, save_checkpoint
from platewise.training.runlog import RunLog, plot_curves
from platewise.training.schedule import PlateauDetector

__all__ = ["SampleDataset", "collate", "train"]


class SampleDataset(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """Endless random samples: item ``i`` is drawn with a generator seeded by (seed, i)."""

    def __init__(self, sampler: DetectionSampler, length: int, seed: int) -> None:
        self.sampler, self.length, self.seed = sampler, length, seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> Any:
        s = self.sampler.sample(np.random.default_rng([self.seed, i]))
        return s.image, s.boxes, s.corners, s.has_corners, s.ignore


def collate(items: list[Any]) -> dict[str, torch.Tensor]:
    """Images (N,S,S,3) uint8 and padded targets: boxes (N,M,4), corners (N,M,8), valid/has_corners (N,M),
    ignore regions (N,K,4) with ignore_valid (N,K). Items are (image, boxes, corners, has_corners[, ignore])."""
    n, m = len(items), max(1, max(len(it[1]) for it in items))
    kmax = max(len(it[4]) if len(it) > 4 else 0 for it in items)
    boxes = torch.zeros(n, m, 4)
    corners = torch.zeros(n, m, 8)
    valid = torch.zeros(n, m, dtype=torch.bool)
    has = torch.zeros(n, m, dtype=torch.bool)
    ignore = torch.zeros(n, kmax, 4)
    ignore_valid = torch.zeros(n, kmax, dtype=torch.bool)
    for i, it in enumerate(items):
        b, c, h = it[1], it[2], it[3]
        k = len(b)
        if k:
            boxes[i, :k] = torch.from_numpy(b)
            corners[i, :k] = torch.from_numpy(c.reshape(k, 8))
            valid[i, :k] = True
            has[i, :k] = torch.from_numpy(h)
        if len(it) > 4 and len(it[4]):
            ignore[i, : len(it[4])] = torch.from_numpy(it[4])
            ignore_valid[i, : len(it[4])] = True
    images = torch.from_numpy(np.stack([it[0] for it in items]))
    return {
        "images": images,
        "boxes": boxes,
        "corners": corners,
        "valid": valid,
        "has_corners": has,
        "ignore": ignore,
        "ignore_valid": ignore_valid,
    }


def normalize_batch(images: torch.Tensor, cfg: DetectorConfig) -> torch.Tensor:
    """(N,H,W,3) uint8 BGR -> (N,3,H,W) float, RGB, ``(x - mean) / std``."""
    x = images.flip(-1).permute(0, 3, 1, 2).float()
    mean = torch.tensor(cfg.mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def _param_groups(model: PlateDetectorNet, lr: float, ratio: float, wd: float) -> list[dict[str, Any]]:
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        key = (name.startswith("backbone."), p.ndim > 1)
        groups.setdefault(key, []).append(p)
    return [
        {
            "params": ps,
            "lr": lr * (ratio if bb else 1.0),
            "base_lr": lr * (ratio if bb else 1.0),
            "weight_decay": wd if decay else 0.0,
        }
        for (bb, decay), ps in groups.items()
    ]


def _load_data(cfg: DetectorTrainConfig) -> DetectionSampler:
    if cfg.cache:
        if cfg.audit:  # a cache holds rescaled boxes; the audits' are in the stored images' pixels
            raise InvalidInput("audit= works on data_root's images: build the cache from audited records instead")
        recs = load_cache(cfg.cache)
        scenes = [r for r in recs if len(r.boxes) and r.key.split("/")[0] in cfg.scene_folders]
        negatives = [r for r in recs if r.key.startswith(cfg.negative_folder + "/")]
    else:
        root = Path(cfg.data_root) if cfg.data_root else default_data_root()
        scenes = load_records(root, cfg.scene_folders)
        negatives = load_records(root, (cfg.negative_folder,)) if cfg.negative_folder else []
    if cfg.audit:
        scenes, n_plates, n_ignore = apply_audit(scenes, cfg.audit)
        print(f"label audits: {n_plates} unlabelled plates added as boxes, {n_ignore} unsure ones ignored", flush=True)
    return DetectionSampler(
        scenes,
        negatives,
        cfg.train_size,
        cfg.synth_fraction,
        cfg.negative_fraction,
        cfg.mosaic_prob,
        cfg.scene_synth_fraction,
        scale_range=(cfg.scale_min, cfg.scale_max),
        distractor_prob=cfg.distractor_prob,
    )


def train(cfg: DetectorTrainConfig) -> Path:
    """Runs (or resumes) a training run; returns the path of the last checkpoint."""
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = torch.device(cfg.device)
    run_dir = Path(cfg.run_dir)
    log = RunLog(run_dir)
    model = PlateDetectorNet(cfg.model).to(device)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(_param_groups(model, cfg.lr, cfg.backbone_lr_ratio, cfg.weight_decay), lr=cfg.lr)
    step, lr_scale = 0, 1.0
    if cfg.resume:
        ck = load_checkpoint(cfg.resume)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck.get("ema", ck["model"]))
        if "optimizer" in ck:
            fresh = [(g["base_lr"], g["weight_decay"]) for g in opt.param_groups]
            with contextlib.suppress(ValueError):
                opt.load_state_dict(ck["optimizer"])
            # the saved groups carry the old run's learning rates; this run's config decides them
            for g, (base_lr, wd) in zip(opt.param_groups, fresh, strict=True):
                g["base_lr"], g["weight_decay"] = base_lr, wd
        step, lr_scale = int(ck.get("step", 0)), 1.0 if cfg.restart_lr else float(ck.get("lr_scale", 1.0))
        print(
            f"resumed {cfg.resume} at step {step}: learning rate {cfg.lr:g} x {lr_scale:g}"
            + (
                "" if cfg.restart_lr or lr_scale == 1.0 else " (the plateau drops it had reached; restart_lr=true: x 1)"
            ),
            flush=True,
        )
    plateau = PlateauDetector(patience=cfg.plateau_patience, window=2 * cfg.plateau_patience)
    loss_fn = DetectorLoss(cfg.model.reg_max, cfg.corner_weight, cfg.quality_power)
    s = cfg.train_size
    points, strides = (t.to(device) for t in anchor_points(s, s, cfg.model.strides))
    data = SampleDataset(_load_data(cfg), length=10**9, seed=cfg.seed * 1_000_003 + step)
    loader = torch.utils.data.DataLoader(
        data,
        batch_size=cfg.batch_size,
        shuffle=False,
        num_workers=cfg.workers,
        collate_fn=collate,
        persistent_workers=cfg.workers > 0,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if cfg.workers > 0 else None,
    )
    amp = cfg.amp and device.type == "cuda"
    t0 = time.time()
    last_t, avg = time.time(), {}
    ckpt = run_dir / "last.pt"

    def save() -> None:
        save_checkpoint(
            ckpt,
            model=model.state_dict(),
            ema=ema.state_dict(),
            optimizer=opt.state_dict(),
            step=step,
            lr_scale=lr_scale,
            config=config_to_dict(cfg),
            model_config=asdict(cfg.model),
        )
        plot_curves(log.path, run_dir / "curves.png", keys=("loss", "loss_cls", "loss_box", "loss_corner", "lr"))

    model.train()
    for batch in loader:
        if step >= cfg.steps or (cfg.max_minutes and time.time() - t0 > cfg.max_minutes * 60):
            break
        x = normalize_batch(batch["images"].to(device, non_blocking=True), cfg.model)
        tg = {k: v.to(device, non_blocking=True) for k, v in batch.items() if k != "images"}
        warm = min(1.0, (step + 1) / max(1, cfg.warmup_steps))
        if cfg.max_minutes and cfg.final_decay_fraction > 0:  # linear anneal to 5% over the last part of the time
            left = 1.0 - (time.time() - t0) / (cfg.max_minutes * 60)
            warm *= max(0.05, min(1.0, left / cfg.final_decay_fraction))
        for g in opt.param_groups:
            g["lr"] = g["base_lr"] * lr_scale * warm
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = model(x)
        out = tuple(o.float() for o in out)
        loss, parts = loss_fn(
            out,
            points,
            strides,
            tg["boxes"],
            tg["corners"],
            tg["valid"],
            tg["has_corners"],
            tg["ignore"],
            tg["ignore_valid"],
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        d = cfg.ema_decay * (1 - math.exp(-(step + 1) / 500))
        with torch.no_grad():
            for pe, pm in zip(ema.state_dict().values(), model.state_dict().values(), strict=False):
                if pe.dtype.is_floating_point:
                    pe.mul_(d).add_(pm.detach(), alpha=1 - d)
                else:
                    pe.copy_(pm)
        step += 1
        lv = float(loss.detach())
        if not math.isfinite(lv):
            raise FloatingPointError(f"loss is {lv} at step {step}")
        if step > cfg.warmup_steps and plateau.step(lv) and lr_scale * cfg.lr > cfg.min_lr:
            lr_scale *= cfg.lr_drop
            log.write(step=step, event="lr_drop", lr=cfg.lr * lr_scale)
        for k, v in {"loss": lv, **parts}.items():
            avg[k] = avg.get(k, 0.0) + v
        if step % cfg.log_every == 0:
            now = time.time()
            rec = {k: round(v / cfg.log_every, 5) for k, v in avg.items()}
            log.write(
                step=step,
                lr=max(g["lr"] for g in opt.param_groups),  # the head's (the backbone runs at a fraction of it)
                sec_per_step=round((now - last_t) / cfg.log_every, 4),
                elapsed_min=round((now - t0) / 60, 2),
                **rec,
            )
            print(
                f"step {step} loss {rec['loss']:.4f} cls {rec['loss_cls']:.4f} box {rec['loss_box']:.4f} "
                f"corner {rec['loss_corner']:.4f} fg {rec['num_fg']:.1f} {(now - last_t) / cfg.log_every:.3f}s/step",
                flush=True,
            )
            avg, last_t = {}, now
        if step % cfg.save_every == 0:
            save()
    save()
    log.write(step=step, event="done", elapsed_min=round((time.time() - t0) / 60, 2))
    return ckpt


def load_trained(path: str | Path, use_ema: bool = True) -> PlateDetectorNet:
    """The network of a checkpoint (EMA weights by default), in eval mode on the CPU."""
    from platewise.config import from_dict

    ck = load_checkpoint(path)
    mc = from_dict(DetectorConfig, {k: tuple(v) if isinstance(v, list) else v for k, v in ck["model_config"].items()})
    net = PlateDetectorNet(mc)
    net.load_state_dict(ck["ema"] if use_ema and "ema" in ck else ck["model"])
    return net.eval()
