"""``platewise eval e2e``: end-to-end plate accuracy on a labelled scenes CSV."""

from __future__ import annotations

import argparse
import json
import sys

COMMAND = ("eval", "e2e")
HELP = "end-to-end accuracy (detect + read) on a scenes CSV (image,region,x,y,w,h,plate)"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labels", required=True, metavar="CSV", help="scenes labels.csv")
    p.add_argument("--root", metavar="DIR", help="folder the image paths are relative to (default: the CSV's)")
    p.add_argument(
        "--split",
        choices=["all", "holdout", "train"],
        default="all",
        help="only the platewise hold-out (platewise.data.splits) or the rest; default all",
    )
    p.add_argument(
        "--region",
        help="bias readings toward a region's formats (us, eu, eu-de, br, cn ...); "
        "'labels' = each image's own labelled region, as a camera set to its country",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--errors", action="store_true", help="also list each labelled plate not read (what was read there, IoU)"
    )
    p.add_argument("--detector", metavar="FILE.onnx", help="detector model (default: shipped)")
    p.add_argument("--reader", metavar="FILE.onnx", help="reader model (default: shipped)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument(
        "--rectify-pad",
        type=float,
        default=None,
        help="margin around straightened plates, a fraction of their size (default: the pipeline's)",
    )
    p.add_argument(
        "--box-pad",
        type=float,
        default=None,
        help="margin of the box view, a fraction of the box (negative: cut inside it; default: the pipeline's)",
    )
    p.add_argument(
        "--corner-refine",
        choices=("on", "off"),
        default=None,
        help="also read each plate straightened with corners snapped to its edges (default: the pipeline's)",
    )
    p.add_argument(
        "--detector-threshold",
        type=float,
        default=None,
        help="score threshold of the detector (default: the pipeline's, 0.2 with the verifier, 0.3 without)",
    )
    p.add_argument(
        "--verifier",
        default=None,
        help="the detector's plate verifier: on, off or an ONNX file (default: the shipped one with the shipped "
        "detector)",
    )
    p.add_argument(
        "--corner-net",
        default=None,
        help="the detector's corner network: on, off or an ONNX file (default: the shipped one with the shipped "
        "detector)",
    )
    p.add_argument(
        "--box-blend",
        type=float,
        default=None,
        help="move reported boxes this share of the way toward their corners' bounding box (default: the pipeline's)",
    )
    p.add_argument(
        "--min-confidence", type=float, default=None, help="drop plates read with less (default: the pipeline's, 0.15)"
    )
    p.add_argument("--min-chars", type=int, default=4, help="drop plates read with fewer characters (default 4)")
    p.add_argument(
        "--tile-size",
        type=int,
        default=None,
        help="the detector's tiles for large images, 0 = never (default: tiles of 1280 for images whose longer side "
        "is over 1920 pixels)",
    )
    p.add_argument(
        "--no-box-view",
        action="store_true",
        help="read only the straightened plate (default: also its box crop, keeping the more confident reading)",
    )


def run(args: argparse.Namespace) -> int:
    from platewise.cli._inputs import detector_companions
    from platewise.data.sources import read_scenes_csv
    from platewise.data.splits import is_holdout
    from platewise.errors import InvalidInput
    from platewise.imageio import load_image
    from platewise.pipeline import ALPR
    from platewise.pipeline.evaluate import evaluate_e2e

    if args.min_chars < 1:
        raise InvalidInput("--min-chars must be >= 1")
    if args.detector_threshold is not None and not 0.0 <= args.detector_threshold <= 1.0:
        raise InvalidInput("--detector-threshold must be in [0, 1]")
    samples = read_scenes_csv(args.labels, args.root)
    if args.split != "all":
        samples = [s for s in samples if is_holdout(s.key) == (args.split == "holdout")]
    alpr = ALPR(
        region=None if args.region == "labels" else args.region,
        threads=args.threads,
        detector_path=args.detector,
        reader_path=args.reader,
        **{k: v for k, v in (("rectify_pad", args.rectify_pad), ("box_pad", args.box_pad)) if v is not None},
        box_view=not args.no_box_view,
        min_chars=args.min_chars,
        **({} if args.corner_refine is None else {"corner_refine": args.corner_refine == "on"}),
        **({} if args.min_confidence is None else {"min_confidence": args.min_confidence}),
        **({} if args.box_blend is None else {"box_blend": args.box_blend}),
        **({} if args.detector_threshold is None else {"detector_threshold": args.detector_threshold}),
        **detector_companions(args.verifier, args.corner_net),
        detector_tile_size=args.tile_size,
    )
    res = evaluate_e2e(alpr, samples, load_image, region_from_labels=args.region == "labels")
    for e in res["errors"]:
        print(f"platewise: skipped {e}", file=sys.stderr)
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"{'region':<12}{'plates':>8}{'accuracy':>10}{'det.recall':>12}{'FP/img':>8}{'ms/img':>8}")
    for name, st in [*res["regions"].items(), ("overall", res["overall"])]:
        acc = "-" if st["accuracy"] is None else f"{100 * st['accuracy']:.1f}%"
        rec = "-" if st["detection_recall"] is None else f"{100 * st['detection_recall']:.1f}%"
        print(
            f"{name:<12}{st['plates']:>8}{acc:>10}{rec:>12}{st['false_positives_per_image']:>8.2f}"
            f"{st['ms_per_image']:>8.1f}"
        )
    if args.errors:
        for m in res["misses"]:
            got = "nothing found" if m["read"] is None else f"read as {m['read']} (IoU {m['iou']:.2f})"
            print(f"  {m['image']}  {m['label']}  {got}")
    return 0
