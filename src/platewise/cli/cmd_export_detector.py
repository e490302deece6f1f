"""``platewise export detector CHECKPOINT --out FILE.onnx [--format onnx|torchscript]``."""

from __future__ import annotations

import argparse

COMMAND = ("export", "detector")
HELP = "export a detector checkpoint to ONNX (with platewise metadata) or TorchScript"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a last.pt written by 'platewise train detector'")
    parser.add_argument("--out", required=True, help="output file (.onnx or .pt)")
    parser.add_argument("--format", choices=("onnx", "torchscript"), default="onnx")
    parser.add_argument("--input-size", help="default inference size HxW stored in the metadata, e.g. 384x640")
    parser.add_argument("--score-threshold", type=float, default=None)
    parser.add_argument("--nms-threshold", type=float, default=None)
    parser.add_argument("--raw-weights", action="store_true", help="export the raw weights instead of the EMA")


def run(args: argparse.Namespace) -> int:
    from platewise.detection.export import (
        DEFAULT_NMS_THRESHOLD,
        DEFAULT_SCORE_THRESHOLD,
        detector_metadata,
        export_onnx,
        export_torchscript,
    )
    from platewise.detection.train import load_trained
    from platewise.errors import InvalidInput

    net = load_trained(args.checkpoint, use_ema=not args.raw_weights)
    if args.format == "torchscript":
        print(f"wrote {export_torchscript(net, args.out)}")
        return 0
    size = None
    if args.input_size:
        try:
            h, w = (int(v) for v in args.input_size.lower().split("x"))
        except ValueError:
            raise InvalidInput(f"--input-size {args.input_size!r}: expected HxW, e.g. 384x640") from None
        if h % 32 or w % 32 or h <= 0 or w <= 0:
            raise InvalidInput(f"--input-size {args.input_size}: both sides must be positive multiples of 32")
        size = (h, w)
    meta = detector_metadata(
        net,
        size,
        args.score_threshold if args.score_threshold is not None else DEFAULT_SCORE_THRESHOLD,
        args.nms_threshold if args.nms_threshold is not None else DEFAULT_NMS_THRESHOLD,
    )
    print(f"wrote {export_onnx(net, args.out, meta)}")
    return 0
