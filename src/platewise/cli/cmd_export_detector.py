"""``platewise export detector CHECKPOINT --out FILE.onnx [--format onnx|torchscript] [--int8]``."""

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
    parser.add_argument(
        "--int8",
        action="store_true",
        help="also write FILE.int8.onnx: static int8 quantization calibrated on 128 real training scenes",
    )
    parser.add_argument("--data-root", default=None, help="real data for --int8 calibration (default ../shared/data)")


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
    out = export_onnx(net, args.out, meta)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    if args.int8:
        from pathlib import Path

        from platewise.data.sources import default_data_root
        from platewise.detection.export import calibration_images, quantize_int8

        root = Path(args.data_root) if args.data_root else default_data_root()
        if not root.is_dir():
            raise InvalidInput(f"--data-root {root}: no such folder (int8 calibration needs the real scenes)")
        q = quantize_int8(out, out.with_suffix(".int8.onnx"), calibration_images(root))
        print(f"wrote {q} ({q.stat().st_size / 1e6:.2f} MB)")
    return 0
