"""Typed configs of the reader network and of its training run (frozen dataclasses, loaded from TOML)."""

from __future__ import annotations

from dataclasses import dataclass, field

from platewise.plates import ALPHABET, MAX_LEN

__all__ = ["OcrConfig", "OcrTrainConfig"]


@dataclass(frozen=True)
class OcrConfig:
    """The network: a strip-patch ViT encoder plus a parallel query decoder (or a CTC head).

    Attributes:
        name: registry name the config came from (informative).
        img_height, img_width: network input size in pixels (the whole plate is resized to it).
        patch_width: width of one vertical strip patch (full height x patch_width); must divide img_width.
        embed_dim, depth, heads, mlp_ratio: the encoder.
        dec_depth: query decoder blocks (parallel head only).
        head: ``"parallel"`` (one learned query per character position, cross-entropy per position) or
            ``"ctc"`` (a linear CTC head on the strip tokens).
        dropout: on attention maps and MLPs.
        alphabet, max_len: what the head predicts; class 0 is padding ("no character") / the CTC blank.
        mean, std: input normalization of 0..1 pixels, per channel (BGR order).
        mae_dim, mae_depth, mask_ratio: the MAE pre-training decoder and masking ratio.
    """

    name: str = "ocr_s"
    img_height: int = 48
    img_width: int = 144
    patch_width: int = 6
    embed_dim: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 2.0
    dec_depth: int = 2
    head: str = "parallel"
    dropout: float = 0.1
    alphabet: str = ALPHABET
    max_len: int = MAX_LEN
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    std: tuple[float, ...] = (0.5, 0.5, 0.5)
    mae_dim: int = 96
    mae_depth: int = 1
    mask_ratio: float = 0.7

    def __post_init__(self) -> None:
        from platewise.errors import ConfigError

        if self.img_width % self.patch_width:
            raise ConfigError(f"patch_width {self.patch_width} must divide img_width {self.img_width}")
        if self.head not in ("parallel", "ctc"):
            raise ConfigError(f"head must be 'parallel' or 'ctc', got {self.head!r}")
        if self.embed_dim % self.heads:
            raise ConfigError(f"embed_dim {self.embed_dim} must be divisible by heads {self.heads}")
        if self.head == "ctc" and self.num_patches < 2 * self.max_len:
            raise ConfigError(f"a CTC head needs >= {2 * self.max_len} strips, got {self.num_patches}")

    @property
    def num_patches(self) -> int:
        return self.img_width // self.patch_width

    @property
    def num_classes(self) -> int:
        return len(self.alphabet) + 1


@dataclass(frozen=True)
class OcrTrainConfig:
    """One training run: optional MAE pre-training, then supervised training on real + synthetic crops.

    Attributes:
        model: registry name of the starting architecture; ``arch`` fields override it.
        arch: overrides of :class:`OcrConfig` fields (``--arch.embed_dim=160``), empty = registry defaults.
        run_dir: where checkpoints, the JSONL log and curves go.
        data_root: ``../shared/data`` when empty.
        init_from: a checkpoint whose weights of matching name and shape start this run (e.g. the MAE
            pre-trained encoder ``pretrained.pt`` of another run); the run itself starts at step 0.
        synth_dir: pre-rendered synthetic crops, comma separated: crops folders (``labels.csv``) or ``.npz``
            files from ``platewise.ocr.dataset.render_synth_npz``.
        pseudo_dir: pseudo-labelled real crops (``python -m platewise.ocr.pseudo``), comma separated; drawn as
            one more real folder (each real folder is equally likely).
        pipeline_dir: crops straightened the way the pipeline straightens them (``python -m
            platewise.ocr.pipeline_crops``), comma separated; each drawn as one more real folder.
        synth_live: crops rendered on the fly per batch by ``platewise.data.synthetic`` (0 = off).
        real_fraction: share of each batch drawn from real crops (oversampled).
        pretrain_steps, pretrain_lr: MAE steps on unlabelled + real + synthetic images.
        steps, batch_size, lr, weight_decay, warmup: supervised phase (AdamW).
        plateau_patience, lr_drop, min_lr: LR drops by ``lr_drop`` on a loss plateau.
        aug_strength: 0 = none, 1 = heavy.
        tilt_prob, tilt_deg: share of training views cut from a plate turned by up to ``tilt_deg`` degrees
            (uniform) and sheared, as the box a detector draws around a tilted plate, or a plate straightened
            with imprecise corners, looks (0 = off; ``aug_strength`` alone turns plates by about 1.5 deg).
        eval_every, ckpt_every, log_every: in steps.
        threads: torch intra-op threads.
        seed: everything random derives from it.
        max_minutes: stop (with a checkpoint) after this wall time; 0 = no limit.
        final_decay_minutes: with ``max_minutes``, the LR also decays linearly to ``min_lr`` over the last
            so many minutes (a time-boxed run ends annealed even when no plateau was detected).
        restart_lr: when resuming, start again from ``lr`` (with a fresh warm-up) instead of the learning rate
            the resumed run had reached: for a new time-boxed session after an annealed or plateaued one.
    """

    model: str = "ocr_s"
    arch: dict[str, str] = field(default_factory=dict)
    run_dir: str = "runs/ocr"
    data_root: str = ""
    init_from: str = ""
    synth_dir: str = ""
    pseudo_dir: str = ""
    pipeline_dir: str = ""
    synth_live: int = 0
    real_fraction: float = 0.5
    pretrain_steps: int = 0
    pretrain_lr: float = 1e-3
    steps: int = 20000
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup: int = 300
    plateau_patience: int = 2000
    lr_drop: float = 0.3
    min_lr: float = 1e-5
    aug_strength: float = 0.5
    tilt_prob: float = 0.0
    tilt_deg: float = 15.0
    eval_every: int = 1000
    ckpt_every: int = 500
    log_every: int = 50
    threads: int = 1
    seed: int = 0
    max_minutes: float = 0.0
    final_decay_minutes: float = 0.0
    restart_lr: bool = False
