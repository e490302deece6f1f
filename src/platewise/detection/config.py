"""The detector's architecture config (saved in every checkpoint) and its training config (TOML + overrides)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DetectorConfig", "DetectorTrainConfig"]


@dataclass(frozen=True)
class DetectorConfig:
    """Architecture of one detector variant.

    Attributes:
        name: registry name this config came from.
        width_mult: backbone channel multiplier (MobileNetV3-like stack).
        neck_channels: channels of every BiFPN level and of the head.
        bifpn_repeats: number of BiFPN layers.
        head_convs: depthwise-separable convs in the shared head tower.
        reg_max: the box distribution has ``reg_max + 1`` bins of one stride each (distances 0..reg_max strides).
        strides: feature strides the head runs on.
        input_size: default (height, width) of the letterboxed input; multiples of the largest stride.
        mean, std: per-channel normalization in RGB order on 0..255 pixels.
    """

    name: str = "detector_s"
    width_mult: float = 1.0
    neck_channels: int = 48
    bifpn_repeats: int = 2
    head_convs: int = 1
    reg_max: int = 8
    strides: tuple[int, ...] = (8, 16, 32)
    input_size: tuple[int, ...] = (384, 640)
    mean: tuple[float, ...] = (127.5, 127.5, 127.5)
    std: tuple[float, ...] = (128.0, 128.0, 128.0)


@dataclass(frozen=True)
class DetectorTrainConfig:
    """A training run: ``platewise train detector --config configs/detector/<name>.toml [--key=value]``.

    Data folders are relative to ``data_root`` (default ``../shared/data``); hold-out images
    (:func:`platewise.data.splits.is_holdout`) are never trained on.
    """

    model: DetectorConfig = field(default_factory=DetectorConfig)
    run_dir: str = "runs/detector"
    data_root: str = ""
    cache: str = ""  # a packed data cache (platewise.detection.dataset.build_cache); used instead of data_root when set
    scene_folders: tuple[str, ...] = ("openlpr-scenes", "ro-dashcam", "openalpr-dev")
    negative_folder: str = "negatives"
    # label audits (benchmarks/label_audit/*.csv): their "plate" rows become boxes, "unsure" rows ignore regions
    audit: tuple[str, ...] = ()
    train_size: int = 416
    batch_size: int = 16
    steps: int = 2000
    max_minutes: float = 0.0  # stop (and save) after this many minutes; 0 = no limit
    final_decay_fraction: float = 0.2  # with max_minutes: anneal the LR linearly over this last share of the time
    lr: float = 2e-3
    backbone_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    warmup_steps: int = 300
    plateau_patience: int = 1500
    lr_drop: float = 0.2
    min_lr: float = 1e-5
    synth_fraction: float = 0.4  # share of samples that are synthetic scenes with exact corners
    scene_synth_fraction: float = 0.0  # share from platewise.data.synthetic.SceneSynthesizer (when installed)
    negative_fraction: float = 0.08
    mosaic_prob: float = 0.3
    # random zoom of a training crop, log-uniform between these multiples of "whole image fits the crop"
    # (the test image is letterboxed at model input size, so test-time plates look input_size/train_size
    # times larger than at 1.0): raise scale_max so that large close-up plates are seen whole
    scale_min: float = 0.6
    scale_max: float = 2.2
    distractor_prob: float = 0.0  # real-scene samples that get unlabelled text drawn in (hard negatives)
    corner_weight: float = 0.5
    quality_power: float = 1.0  # the classification's soft target is the assigned IoU to this power (loss.py)
    workers: int = 0
    threads: int = 1
    device: str = "cpu"
    seed: int = 0
    log_every: int = 20
    save_every: int = 200
    resume: str = ""
    # with resume: start again from lr (lr_scale 1) instead of the learning rate the resumed run's plateau drops
    # had reached (lr x its lr_scale: 0.008 in checkpoints/detector_s_last.pt)
    restart_lr: bool = False
    ema_decay: float = 0.999
    amp: bool = True  # bfloat16 autocast on CUDA
