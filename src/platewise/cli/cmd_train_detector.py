"""``platewise train detector --config configs/detector/<name>.toml [--key=value ...]``."""

from __future__ import annotations

import argparse

COMMAND = ("train", "detector")
HELP = "train the plate detector (boxes + 4 corners)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML file (see configs/detector/)")
    parser.set_defaults(_accepts_overrides=True)


def run(args: argparse.Namespace) -> int:
    from platewise.config import load_config
    from platewise.detection.config import DetectorTrainConfig
    from platewise.detection.train import train

    cfg = load_config(DetectorTrainConfig, args.config, args.overrides)
    path = train(cfg)
    print(f"checkpoint: {path}")
    return 0
