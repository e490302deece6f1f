"""Training of the plate reader: optional MAE pre-training, then supervised training on real + synthetic crops.

Written as a plain, linear loop (nanoGPT style) split into small functions. Each run directory holds
``last.pt`` / ``best.pt`` (weights + model config + step + metrics), ``log.jsonl`` and ``curves.png``.
A run restarts from ``last.pt`` of its directory (or ``--resume PATH``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from platewise.data.sources import default_data_root
from platewise.ocr.config import OcrConfig, OcrTrainConfig
from platewise.ocr.dataset import (
    LABELLED_CROP_FOLDERS,
    SCENE_FOLDERS,
    Sample,
    augment,
    eval_crops,
    load_pseudo_dir,
    load_real,
    load_synth_dir,
    load_synth_npz,
    load_unlabelled,
)
from platewise.ocr.decode import decode_logits
from platewise.ocr.mae import MaskedAutoencoder
from platewise.ocr.net import PlateOCR
from platewise.ocr.preprocess import normalize_batch, resize_crop
from platewise.ocr.registry import recognizer_config
from platewise.plates import Tokenizer
from platewise.training.checkpoint import load_checkpoint, save_checkpoint
from platewise.training.runlog import RunLog, plot_curves
from platewise.training.schedule import PlateauDetector

__all__ = ["evaluate", "loss_fn", "train"]

EVAL_FOLDERS = LABELLED_CROP_FOLDERS + SCENE_FOLDERS


def model_config(tc: OcrTrainConfig) -> OcrConfig:
    return recognizer_config(tc.model, **dict(tc.arch))


def loss_fn(model: PlateOCR, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per position (parallel head) or CTC; ``y`` (B, max_len) ids padded with 0."""
    logits = model(x)
    if model.cfg.head == "ctc":
        logp = logits.log_softmax(-1).transpose(0, 1)  # (T, B, C)
        lengths = (y > 0).sum(1)
        targets = y[y > 0]
        T = torch.full((x.shape[0],), logp.shape[0], dtype=torch.long)
        return F.ctc_loss(logp, targets, T, lengths, blank=0, zero_infinity=True)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), label_smoothing=0.05)


@torch.no_grad()
def evaluate(model: PlateOCR, sets: dict[str, tuple[np.ndarray, list[str]]]) -> dict[str, float]:
    """Exact-match accuracy per hold-out set (inputs already resized + normalized like the runtime)."""
    model.eval()
    out: dict[str, float] = {}
    for name, (x, texts) in sets.items():
        preds = []
        for i in range(0, len(x), 128):
            logits = model(torch.from_numpy(x[i : i + 128])).numpy()
            preds += [p.text for p in decode_logits(logits, model.cfg.alphabet, model.cfg.head, top_n=0)]
        out[f"val_{name}"] = float(np.mean([p == t for p, t in zip(preds, texts, strict=False)])) if texts else 0.0
    out["val_mean"] = float(np.mean([out[f"val_{n}"] for n in sets])) if sets else 0.0
    model.train()
    return out


class _Batches:
    """Draws mixed batches: ``real_fraction`` real (each folder equally likely), the rest synthetic."""

    def __init__(
        self,
        real: dict[str, list[Sample]],
        synth: list[Sample],
        cfg: OcrConfig,
        tc: OcrTrainConfig,
        tok: Tokenizer,
        rng: np.random.Generator,
    ) -> None:
        self.real = [v for v in real.values() if v]
        self.synth = synth
        self.cfg, self.tc, self.tok, self.rng = cfg, tc, tok, rng

    def pick(self) -> Sample:
        if self.synth and (not self.real or self.rng.random() >= self.tc.real_fraction):
            return self.synth[int(self.rng.integers(len(self.synth)))]
        folder = self.real[int(self.rng.integers(len(self.real)))]
        return folder[int(self.rng.integers(len(folder)))]

    def next(self, n: int, pool: list[Sample] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        size = (self.cfg.img_height, self.cfg.img_width)
        samples = [pool[int(self.rng.integers(len(pool)))] if pool else self.pick() for _ in range(n)]
        tilt = (self.tc.tilt_prob, self.tc.tilt_deg)
        imgs = np.stack([augment(s, size, self.tc.aug_strength, self.rng, *tilt) for s in samples])
        x = torch.from_numpy(normalize_batch(imgs, self.cfg.mean, self.cfg.std))
        y = torch.from_numpy(self.tok.encode_batch([s.text for s in samples])) if samples[0].text or not pool else None
        return x, y  # type: ignore[return-value]


def _holdout_sets(root: Path, cfg: OcrConfig) -> dict[str, tuple[np.ndarray, list[str]]]:
    sets = {}
    for folder in EVAL_FOLDERS:
        items = eval_crops(root, folder)
        if items:
            imgs = np.stack([resize_crop(img, (cfg.img_height, cfg.img_width)) for img, _, _ in items])
            sets[folder] = (normalize_batch(imgs, cfg.mean, cfg.std), [t for _, t, _ in items])
    return sets


def _lr_at(step: int, base: float, warmup: int) -> float:
    return base * min(1.0, (step + 1) / max(1, warmup))


def train(tc: OcrTrainConfig, resume: str | None = None, log: Any = print) -> Path:
    """Runs (or resumes) a training run; returns the path of the best checkpoint."""
    torch.set_num_threads(max(1, tc.threads))
    cv2.setNumThreads(1)
    torch.manual_seed(tc.seed)
    rng = np.random.default_rng(tc.seed)
    run = Path(tc.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    cfg = model_config(tc)
    tok = Tokenizer(cfg.alphabet, cfg.max_len)
    model = PlateOCR(cfg)
    mae = MaskedAutoencoder(model) if tc.pretrain_steps else None
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    state: dict[str, Any] = {"phase": "mae" if mae else "sup", "step": 0, "lr": tc.lr, "best": -1.0}
    if tc.init_from and not (run / "last.pt").is_file() and not resume:
        src = load_checkpoint(tc.init_from)["model"]
        own = model.state_dict()
        same = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(same, strict=False)
        state["phase"] = "sup"
        mae = None
        log(f"initialized {len(same)}/{len(own)} tensors from {tc.init_from}")
    ckpt_path = Path(resume) if resume else run / "last.pt"
    warm_from = 0  # the step the LR warm-up counts from
    if ckpt_path.is_file():
        ck = load_checkpoint(ckpt_path)
        model.load_state_dict(ck["model"])
        state.update(ck["state"])
        if ck.get("optimizer") and state["phase"] == "sup":
            opt.load_state_dict(ck["optimizer"])
        log(f"resumed from {ckpt_path} at phase {state['phase']} step {state['step']}")
        if tc.restart_lr and state["phase"] == "sup":
            state["lr"] = tc.lr
            warm_from = int(state["step"])
            log(f"learning rate restarted at {tc.lr:.2e}")
    runlog = RunLog(run)
    runlog.write(
        event="start",
        config=dataclasses.asdict(tc),
        model=dataclasses.asdict(cfg),
        params=sum(p.numel() for p in model.parameters()),
    )

    root = Path(tc.data_root) if tc.data_root else default_data_root()
    real = load_real(root, holdout=False, tokenizer=tok)
    pseudo = [
        x for d in filter(None, (s.strip() for s in tc.pseudo_dir.split(","))) for x in load_pseudo_dir(Path(d), tok)
    ]
    if pseudo:
        real["pseudo"] = pseudo
    for d in filter(None, (s.strip() for s in tc.pipeline_dir.split(","))):
        real[f"pipeline:{d}"] = load_pseudo_dir(Path(d), tok)  # each folder a real folder of its own
    synth: list[Sample] = []
    for d in filter(None, (s.strip() for s in tc.synth_dir.split(","))):
        if d.endswith(".npz"):
            synth += load_synth_npz(Path(d), tokenizer=tok)
        else:
            synth += load_synth_dir(Path(d), (cfg.img_height, cfg.img_width), tokenizer=tok)
    sets = _holdout_sets(root, cfg)
    log(
        f"real train { ({k: len(v) for k, v in real.items()}) }, synthetic {len(synth)}, "
        f"hold-out { ({k: len(v[1]) for k, v in sets.items()}) }"
    )
    batches = _Batches(real, synth, cfg, tc, tok, rng)
    t0 = time.time()

    def out_of_time() -> bool:
        return tc.max_minutes > 0 and (time.time() - t0) / 60 > tc.max_minutes

    def save(name: str, metrics: dict[str, float] | None = None) -> None:
        save_checkpoint(
            run / name,
            model=model.state_dict(),
            config=dataclasses.asdict(cfg),
            state=dict(state),
            optimizer=opt.state_dict() if state["phase"] == "sup" else None,
            metrics=metrics or {},
            train_config=dataclasses.asdict(tc),
        )

    # --- phase 1: MAE pre-training on unlabelled + real + synthetic images ---
    if state["phase"] == "mae" and mae is not None:
        pool = load_unlabelled(root) + [s for v in real.values() for s in v] + synth[:20000]
        mopt = torch.optim.AdamW(mae.parameters(), lr=tc.pretrain_lr, weight_decay=0.05)
        mae.train()
        while state["step"] < tc.pretrain_steps and not out_of_time():
            step = state["step"]
            lr = tc.pretrain_lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * step / tc.pretrain_steps))
            for g in mopt.param_groups:
                g["lr"] = lr
            x, _ = batches.next(tc.batch_size, pool)
            loss = mae(x)
            mopt.zero_grad(set_to_none=True)
            loss.backward()
            mopt.step()
            state["step"] += 1
            if step % tc.log_every == 0:
                runlog.write(step=step, phase="mae", mae_loss=loss.item(), lr=lr)
                log(f"mae step {step} loss {loss.item():.4f}")
            if state["step"] % tc.ckpt_every == 0:
                save("last.pt")
        state.update(phase="sup", step=0)
        save("last.pt")
        save("pretrained.pt")
        del mae, mopt

    # --- phase 2: supervised ---
    plateau = PlateauDetector(patience=tc.plateau_patience, window=2 * tc.plateau_patience, check_every=100)
    model.train()
    smooth = None
    while state["step"] < tc.steps and not out_of_time():
        step = state["step"]
        lr = _lr_at(step - warm_from, state["lr"], tc.warmup)
        if tc.max_minutes > 0 and tc.final_decay_minutes > 0:
            left = tc.max_minutes - (time.time() - t0) / 60
            if left < tc.final_decay_minutes:
                lr = tc.min_lr + (lr - tc.min_lr) * max(0.0, left) / tc.final_decay_minutes
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batches.next(tc.batch_size)
        loss = loss_fn(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        lv = loss.item()
        smooth = lv if smooth is None else 0.98 * smooth + 0.02 * lv
        if step - warm_from > tc.warmup and plateau.step(lv) and state["lr"] > tc.min_lr:
            state["lr"] = max(tc.min_lr, state["lr"] * tc.lr_drop)
            runlog.write(step=step, event="lr_drop", lr=state["lr"])
            log(f"plateau at step {step}: lr -> {state['lr']:.2e}")
        if step % tc.log_every == 0:
            runlog.write(
                step=step, phase="sup", loss=lv, loss_smooth=smooth, lr=lr, minutes=round((time.time() - t0) / 60, 2)
            )
        if state["step"] % tc.eval_every == 0 or state["step"] == tc.steps:
            metrics = evaluate(model, sets)
            runlog.write(step=step, **metrics)
            log(f"step {step} loss {smooth:.4f} lr {lr:.2e} " + " ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
            if metrics["val_mean"] > state["best"]:
                state["best"] = metrics["val_mean"]
                save("best.pt", metrics)
            save("last.pt", metrics)
            plot_curves(runlog.path, run / "curves.png", keys=("loss_smooth", "lr", "val_mean"))
        elif state["step"] % tc.ckpt_every == 0:
            save("last.pt")
    metrics = evaluate(model, sets)
    runlog.write(step=state["step"], event="end", minutes=round((time.time() - t0) / 60, 2), **metrics)
    save("last.pt", metrics)
    if metrics["val_mean"] > state["best"] or not (run / "best.pt").exists():
        state["best"] = metrics["val_mean"]
        save("best.pt", metrics)
    plot_curves(runlog.path, run / "curves.png", keys=("loss_smooth", "lr", "val_mean"))
    log(f"done: {state['step']} steps, " + " ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    return run / "best.pt"


def load_model(path: str | Path) -> PlateOCR:
    """Rebuilds a :class:`PlateOCR` from a checkpoint (its config travels inside)."""
    from platewise.config import from_dict

    ck = load_checkpoint(path)
    cfg = from_dict(OcrConfig, dict(ck["config"]))
    model = PlateOCR(cfg)
    model.load_state_dict(ck["model"])
    return model.eval()
