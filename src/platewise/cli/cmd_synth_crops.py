"""``platewise synth crops``: write synthetic plate crops in the crops format of the shared data."""

from __future__ import annotations

import argparse

COMMAND = ("synth", "crops")
HELP = "write N synthetic plate crops: DIR/images/*.jpg + DIR/labels.csv (image,region,plate)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--style", default="all", help="us, eu, br, ar, cn or all (a mix; default)")
    parser.add_argument("--n", type=int, required=True, help="number of crops")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--strength", type=float, default=0.5, help="augmentation strength 0..1 (default 0.5)")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality of the written files (default 95)")


def run(args: argparse.Namespace) -> int:
    import csv

    import cv2

    from platewise.cli._synth_common import check_count, check_strength, prepare_out_dir
    from platewise.data.synthetic import STYLE_NAMES, PlateRenderer
    from platewise.errors import InvalidInput

    if args.style not in (*STYLE_NAMES, "all"):
        raise InvalidInput(f"unknown --style {args.style!r}; use one of {', '.join(STYLE_NAMES)} or all")
    n, strength = check_count(args.n), check_strength(args.strength)
    out = prepare_out_dir(args.out)
    r = PlateRenderer(seed=args.seed)
    style = None if args.style == "all" else args.style
    width = len(str(n - 1))
    with (out / "labels.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["image", "region", "plate"])
        for i in range(n):
            img, text, region = r.render_crop(style=style, strength=strength)
            name = f"images/{i:0{max(width, 6)}d}.jpg"
            if not cv2.imwrite(str(out / name), img, [cv2.IMWRITE_JPEG_QUALITY, int(args.quality)]):
                raise InvalidInput(f"cannot write {out / name}")
            w.writerow([name, region, text])
    print(f"wrote {n} crops to {out} (labels.csv)")
    return 0
