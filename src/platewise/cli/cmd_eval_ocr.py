"""``platewise eval ocr --labels CSV [--root DIR] [--split all|holdout|train] [--json] [--model FILE.onnx]``."""

from __future__ import annotations

import argparse
import json

COMMAND = ("eval", "ocr")
HELP = "plate reader accuracy (exact match, character accuracy per region) and ms per plate on a labels CSV"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--labels",
        required=True,
        help="crops CSV (image,region,plate) or scenes CSV "
        "(image,region,x,y,w,h,plate: each box is cut with 10%% padding)",
    )
    parser.add_argument("--root", default=None, help="folder the image paths are relative to (default: the CSV's)")
    parser.add_argument("--model", default=None, help="reader ONNX file (default: the shipped weights/ocr.onnx)")
    parser.add_argument(
        "--split",
        choices=("all", "holdout", "train"),
        default="all",
        help="rows to use: all, or only the fixed hold-out / training side (platewise.data.splits)",
    )
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default 2)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--tta",
        choices=("on", "off"),
        default="on",
        help="read unsure crops again in two shifted views and fuse them (default: on, as PlateReader)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--errors", action="store_true", help="also list the misread plates")
    parser.add_argument(
        "--region",
        default=None,
        help="choose among the reader's candidates the best that fits this region's formats, as "
        "'platewise read --region' does (us, eu, eu-de, br, cn ...); 'labels' = each row's own region",
    )


def run(args: argparse.Namespace) -> int:
    from platewise.errors import InvalidInput
    from platewise.ocr.evaluate import evaluate_reader, load_eval_items
    from platewise.ocr.reader import PlateReader

    if args.region and args.region != "labels":
        from platewise.plates.formats import formats_for

        try:
            formats_for(args.region)
        except ValueError as e:
            raise InvalidInput(f"--region: {e}") from None
    items = load_eval_items(args.labels, args.root, split=args.split)
    if not items:
        raise InvalidInput(f"{args.labels}: no labelled plate to evaluate (split {args.split})")
    reader = PlateReader(
        args.model,
        threads=args.threads,
        top_n=3 if args.region else 0,
        batch_size=args.batch_size,
        tta=args.tta == "on",
    )
    res = evaluate_reader(reader, items, batch_size=args.batch_size, region=args.region)
    if args.region:
        res["region_hint"] = args.region
    errors = res.pop("predictions")
    if args.errors:
        res["errors"] = errors
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
        return 0
    o = res["overall"]
    print(f"{'region':<10} {'n':>6} {'exact':>8} {'char':>8}")
    for name, r in res["regions"].items():
        print(f"{name:<10} {r['n']:>6} {r['exact_match']:>8.3f} {r['char_accuracy']:>8.3f}")
    print(f"{'overall':<10} {o['n']:>6} {o['exact_match']:>8.3f} {o['char_accuracy']:>8.3f}")
    print(f"ms per plate: {res['ms_per_plate']:.3f} (batch {args.batch_size}, preprocessing included)")
    for e in errors if args.errors else []:
        print(f"  {e['text']:<12} read as {e['pred']}")
    return 0
