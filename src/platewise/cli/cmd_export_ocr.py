"""``platewise export ocr CHECKPOINT --out FILE.onnx [--format onnx|torchscript]``."""

from __future__ import annotations

import argparse

COMMAND = ("export", "ocr")
HELP = "export a plate reader checkpoint to ONNX (with metadata) or TorchScript; needs the [train] extra"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a checkpoint written by `platewise train ocr` (best.pt / last.pt)")
    parser.add_argument("--out", required=True, help="output file (.onnx or .pt)")
    parser.add_argument("--format", choices=("onnx", "torchscript"), default="onnx")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17)")
    parser.add_argument(
        "--int8",
        action="store_true",
        help="also write FILE.int8.onnx: static int8 quantization calibrated on 256 real training crops",
    )
    parser.add_argument("--data-root", default=None, help="real data for --int8 calibration (default ../shared/data)")
    parser.add_argument("--no-check", action="store_true", help="skip the torch vs ONNX Runtime parity check")


def run(args: argparse.Namespace) -> int:
    from platewise.errors import InvalidInput
    from platewise.ocr.export import check_parity, export_onnx, export_torchscript
    from platewise.ocr.train import load_model

    if args.opset < 17:
        raise InvalidInput(f"--opset {args.opset} is too old; use 17 or newer")
    model = load_model(args.checkpoint)
    if args.format == "torchscript":
        print(f"wrote {export_torchscript(model, args.out)}")
        return 0
    out = export_onnx(model, args.out, opset=args.opset)
    msg = f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)"
    if not args.no_check:
        msg += f"; max |torch - onnxruntime| = {check_parity(model, out):.2e}"
    print(msg)
    if args.int8:
        from pathlib import Path

        from platewise.data.sources import default_data_root
        from platewise.ocr.dataset import calibration_crops
        from platewise.ocr.export import quantize_int8

        root = Path(args.data_root) if args.data_root else default_data_root()
        crops = calibration_crops(root, (model.cfg.img_height, model.cfg.img_width))
        q = quantize_int8(out, out.with_suffix(".int8.onnx"), crops)
        print(f"wrote {q} ({q.stat().st_size / 1e6:.2f} MB)")
    return 0
