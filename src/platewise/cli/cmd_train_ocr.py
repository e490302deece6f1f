"""``platewise train ocr --config configs/ocr/NAME.toml [--key=value ...] [--resume PATH]``."""

from __future__ import annotations

import argparse

COMMAND = ("train", "ocr")
HELP = "train the plate text reader (MAE pre-training + parallel decoder); needs the [train] extra"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="a TOML file of OcrTrainConfig fields (configs/ocr/*.toml)")
    parser.add_argument("--resume", default=None, help="checkpoint to resume from (default: RUN_DIR/last.pt if any)")
    parser.set_defaults(_accepts_overrides=True)


def run(args: argparse.Namespace) -> int:
    from platewise.config import load_config
    from platewise.ocr.config import OcrTrainConfig
    from platewise.ocr.train import model_config, train

    tc = load_config(OcrTrainConfig, args.config, args.overrides)
    model_config(tc)  # validates the architecture before any data is loaded
    best = train(tc, resume=args.resume, log=lambda m: print(m, flush=True))
    print(f"best checkpoint: {best}")
    return 0
