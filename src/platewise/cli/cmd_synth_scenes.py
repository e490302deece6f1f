"""``platewise synth scenes``: write synthetic scenes with plate boxes and exact corners."""

from __future__ import annotations

import argparse

COMMAND = ("synth", "scenes")
HELP = "write N synthetic scenes: DIR/images/*.jpg, labels.csv (image,region,x,y,w,h,plate), corners.csv"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, required=True, help="number of scenes")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument(
        "--backgrounds",
        default=None,
        help="directory of background photos without plates (default: the shared negatives)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--width", type=int, default=640, help="scene width (default 640)")
    parser.add_argument("--height", type=int, default=640, help="scene height (default 640)")
    parser.add_argument("--strength", type=float, default=0.5, help="augmentation strength 0..1 (default 0.5)")


def run(args: argparse.Namespace) -> int:
    import csv
    import math
    from pathlib import Path

    import cv2

    from platewise.cli._synth_common import check_count, check_strength, prepare_out_dir
    from platewise.data.synthetic import SceneSynthesizer
    from platewise.data.synthetic.backgrounds import IMAGE_EXTS
    from platewise.errors import InvalidInput

    n, strength = check_count(args.n), check_strength(args.strength)
    if args.width < 32 or args.height < 32:
        raise InvalidInput(f"--width/--height must be at least 32, got {args.width}x{args.height}")
    backgrounds = None
    if args.backgrounds is not None:
        d = Path(args.backgrounds)
        if not d.is_dir():
            raise InvalidInput(f"--backgrounds {d} is not a directory")
        backgrounds = sorted(p for p in d.rglob("*") if p.suffix.lower() in IMAGE_EXTS)
        if not backgrounds:
            raise InvalidInput(f"--backgrounds {d} holds no images ({', '.join(sorted(IMAGE_EXTS))})")
    out = prepare_out_dir(args.out)
    s = SceneSynthesizer(backgrounds=backgrounds, seed=args.seed, strength=strength)
    width = max(6, len(str(n - 1)))
    with (
        (out / "labels.csv").open("w", newline="", encoding="utf-8") as fl,
        (out / "corners.csv").open("w", newline="", encoding="utf-8") as fc,
    ):
        wl, wc = csv.writer(fl), csv.writer(fc)
        wl.writerow(["image", "region", "x", "y", "w", "h", "plate"])
        wc.writerow(["image", "plate", "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4"])
        for i in range(n):
            scene = s.sample(args.width, args.height)
            name = f"images/{i:0{width}d}.jpg"
            if not cv2.imwrite(str(out / name), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise InvalidInput(f"cannot write {out / name}")
            if not scene.plates:
                wl.writerow([name, "", "", "", "", "", ""])
            for p in scene.plates:
                x1, y1 = math.floor(p.box.x1), math.floor(p.box.y1)
                x2, y2 = math.ceil(p.box.x2), math.ceil(p.box.y2)
                wl.writerow([name, p.region, x1, y1, x2 - x1, y2 - y1, p.text])
                wc.writerow([name, p.text, *(f"{v:.2f}" for v in p.corners.reshape(-1))])
    print(f"wrote {n} scenes to {out} (labels.csv, corners.csv)")
    return 0
