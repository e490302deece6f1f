"""``platewise eval detect --labels CSV [--root DIR] [--json] [--model F]``: detector accuracy and speed."""

from __future__ import annotations

import argparse

COMMAND = ("eval", "detect")
HELP = "recall/precision at IoU 0.5 and 0.7, AP50, detections per image and ms per image on a scenes CSV"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", help="scenes CSV: image,region,x,y,w,h,plate")
    parser.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="N",
        help="instead of --labels: N synthetic scenes with exact corners pasted on the hold-out negatives "
        "(reports the mean corner error as a share of plate width)",
    )
    parser.add_argument("--seed", type=int, default=12345, help="seed of the --synthetic scenes")
    parser.add_argument(
        "--synth-source",
        choices=("builtin", "scenes"),
        default="builtin",
        help="--synthetic plates from the detector's built-in renderer or platewise.data.synthetic.SceneSynthesizer",
    )
    parser.add_argument("--root", help="folder the image paths are relative to (default: the CSV's folder)")
    parser.add_argument("--model", help="detector ONNX file (default: the shipped weights)")
    parser.add_argument("--holdout", action="store_true", help="only the hold-out images (platewise.data.splits)")
    parser.add_argument("--input-size", help="letterbox size HxW, e.g. 384x640 (default: the model's)")
    parser.add_argument("--score-threshold", type=float, help="operating threshold (default: the model's)")
    parser.add_argument(
        "--sweep", default="", help="also report overall recall/precision at these thresholds, e.g. 0.2,0.3,0.4"
    )
    parser.add_argument(
        "--closeup-scale", type=float, help="close-up pass at this fraction of the input size, 0 = off (default: 0.5)"
    )
    parser.add_argument(
        "--closeup-min-width", type=float, help="close-up plates span at least this share of the image (default: 0.4)"
    )
    parser.add_argument(
        "--corner-refine",
        choices=("on", "off"),
        help="snap corners to the plate's edges in the image (default: the detector's default)",
    )
    parser.add_argument(
        "--box-blend",
        type=float,
        help="move boxes this share of the way toward their corners' bounding box, 0 = off (default: 0.5)",
    )
    parser.add_argument(
        "--contain-threshold",
        type=float,
        help="drop a detection lying more than this share inside (or around) a better-scored one, 1 = off "
        "(default: 0.6 with a verifier, off without)",
    )
    parser.add_argument(
        "--contain-margin",
        type=float,
        help="the suppression's tie-break: a detection gives way to a smaller one inside it scored at least its "
        "own score minus this, 0 = off (default: the verifier's metadata, else 0)",
    )
    parser.add_argument(
        "--verifier",
        help="plate verifier: on (the shipped one), off, or an ONNX file (default: the shipped one with the "
        "shipped detector, none with --model)",
    )
    parser.add_argument(
        "--corner-net",
        help="corner network: on (the shipped one), off, or an ONNX file (default: the shipped one with the "
        "shipped detector, none with --model)",
    )
    parser.add_argument(
        "--tile-size",
        type=int,
        help="also detect on overlapping tiles this many pixels wide, 0 = never (default: tiles of 1280 for images "
        "whose longer side is over 1920 pixels)",
    )
    parser.add_argument(
        "--zone",
        metavar='"X,Y X,Y ..."',
        help="detect in this zone only (a rectangle's 2 corners or a polygon, in pixels or as fractions 0-1) and "
        "count only the labelled plates whose box centre lies in it",
    )
    parser.add_argument(
        "--min-plate-width",
        type=float,
        metavar="PX",
        help="report no plate narrower than PX pixels, and count no labelled plate narrower than that",
    )
    parser.add_argument(
        "--flip",
        choices=("mean", "max"),  # decode.FLIP_FUSIONS, not imported here: the CLI starts without numpy or OpenCV
        help="also look at each image mirrored left to right and fuse the two views' scores: their mean or the "
        "higher (about twice the network's time)",
    )
    parser.add_argument("--threads", type=int, help="ONNX Runtime threads")
    parser.add_argument("--limit", type=int, default=0, help="evaluate at most this many images")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    import json
    import time

    import numpy as np

    from platewise.cli._inputs import on_off_or_file
    from platewise.data.sources import read_scenes_csv
    from platewise.data.splits import is_holdout
    from platewise.detection.detector import PlateDetector
    from platewise.detection.evaluate import DetectionCounts, summarize
    from platewise.errors import InvalidInput
    from platewise.imageio import load_image

    size = None
    if args.input_size:
        try:
            h, w = (int(v) for v in args.input_size.lower().split("x"))
        except ValueError:
            raise InvalidInput(f"--input-size {args.input_size!r}: expected HxW, e.g. 384x640") from None
        size = (h, w)
    extra: dict[str, float | bool] = {}
    if args.closeup_scale is not None:
        extra["closeup_scale"] = args.closeup_scale
    if args.closeup_min_width is not None:
        extra["closeup_min_width"] = args.closeup_min_width
    if args.corner_refine:
        extra["corner_refine"] = args.corner_refine == "on"
    if args.box_blend is not None:
        if not 0.0 <= args.box_blend <= 1.0:
            raise InvalidInput("--box-blend must be in [0, 1]")
        extra["box_blend"] = args.box_blend
    if args.contain_threshold is not None:
        extra["contain_threshold"] = args.contain_threshold  # checked by PlateDetector
    if args.contain_margin is not None:
        extra["contain_margin"] = args.contain_margin  # checked by PlateDetector
    if args.tile_size is not None:
        extra["tile_size"] = args.tile_size  # checked by PlateDetector
    if args.min_plate_width is not None:
        extra["min_plate_width"] = args.min_plate_width  # checked by PlateDetector
    if args.flip:
        extra["flip"] = args.flip
    verifier = None if args.verifier is None else on_off_or_file(args.verifier)
    corner_net = None if args.corner_net is None else on_off_or_file(args.corner_net)
    # Scores down to 0.05 for AP and --sweep (with a verifier: of the candidates of normal use).
    det = PlateDetector(
        args.model,
        threads=args.threads,
        input_size=size,
        score_threshold=0.05,
        verifier=verifier,
        corner_net=corner_net,
        zone=args.zone,
        **extra,
    )
    threshold = args.score_threshold if args.score_threshold is not None else det.default_threshold
    if args.synthetic:
        return _run_synthetic(args, det, threshold)
    if not args.labels:
        raise InvalidInput("give --labels CSV (or --synthetic N)")
    samples = read_scenes_csv(args.labels, args.root)
    if args.holdout:
        samples = [s for s in samples if is_holdout(s.key)]
    if args.limit:
        samples = samples[: args.limit]
    if not samples:
        raise InvalidInput(f"{args.labels}: no images to evaluate")
    groups: dict[str, DetectionCounts] = {"overall": DetectionCounts()}
    sweep = {float(t): DetectionCounts() for t in args.sweep.split(",") if t.strip()}
    elapsed = 0.0
    for s in samples:
        img = load_image(s.path)
        t = time.perf_counter()
        raw = det.detect_raw([img])[0]
        elapsed += time.perf_counter() - t
        gt = np.array([b.as_list() for b in s.boxes], np.float32).reshape(-1, 4)
        if det.zone is not None:  # the plates the zone is meant to find
            gt = gt[det.zone.holds(img.shape[0], img.shape[1], gt)]
        gt = gt[gt[:, 2] - gt[:, 0] >= det.min_plate_width]
        region = next((r for r in s.regions if r), "") or "unknown"
        for name in ("overall", region):
            groups.setdefault(name, DetectionCounts()).add(raw.boxes, raw.scores, gt, threshold)
        for t, c in sweep.items():
            c.add(raw.boxes, raw.scores, gt, t)
    result = {
        "labels": str(args.labels),
        "model": str(det.model.path),
        "verifier": str(det.verifier.model.path) if det.verifier is not None else None,
        "corner_net": str(det.corner_net.model.path) if det.corner_net is not None else None,
        "input_size": list(det.input_size),
        "score_threshold": threshold,
        "contain_threshold": det.contain_threshold,
        "contain_margin": det.contain_margin,
        "zone": None if det.zone is None else str(det.zone),
        "flip": det.flip,
        "min_plate_width": det.min_plate_width,
        "ms_per_image": round(1000 * elapsed / len(samples), 2),
        **summarize(sorted(groups.items(), key=lambda kv: (kv[0] != "overall", kv[0]))),
    }
    if sweep:
        result["sweep"] = summarize((str(t), c) for t, c in sweep.items())
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['labels']}  model {result['model']}  input {det.input_size}  threshold {threshold}")
    cols = ("images", "plates", "recall50", "precision50", "recall70", "precision70", "ap50", "detections_per_image")
    print(f"{'group':<12}" + "".join(f"{c:>14}" for c in cols))
    rows = [(k, m) for k, m in result.items() if isinstance(m, dict) and k != "sweep"]
    rows += [(f"@{t}", m) for t, m in result.get("sweep", {}).items()]
    for name, m in rows:
        print(f"{name:<12}" + "".join(f"{m[c]:>14}" for c in cols))
    print(f"ms per image (detect incl. letterbox+decode, excluding file decode): {result['ms_per_image']}")
    return 0


def _run_synthetic(args: argparse.Namespace, det: object, threshold: float) -> int:
    """Synthetic hold-out scenes: built-in plates warped onto hold-out negatives (never trained on)."""
    import json
    import time
    from pathlib import Path

    import numpy as np

    from platewise.data.sources import default_data_root
    from platewise.detection.dataset import holdout_synthetic_quads
    from platewise.detection.evaluate import DetectionCounts, corner_errors, summarize
    from platewise.errors import InvalidInput

    root = Path(args.root) if args.root else default_data_root()
    try:
        scenes = holdout_synthetic_quads(root, args.synthetic, args.synth_source, args.seed)
    except ValueError as e:
        raise InvalidInput(str(e)) from None
    counts, errors, elapsed = DetectionCounts(), [], 0.0
    for img, quads in scenes:
        t = time.perf_counter()
        raw = det.detect_raw([img])[0]  # type: ignore[attr-defined]
        elapsed += time.perf_counter() - t
        gt = np.concatenate([quads.min(1), quads.max(1)], 1) if len(quads) else np.zeros((0, 4), np.float32)
        counts.add(raw.boxes, raw.scores, gt, threshold)
        keep = raw.scores >= threshold
        errors += corner_errors(raw.boxes[keep], raw.corners[keep], quads)
    result = {
        "labels": f"synthetic:{args.synth_source}:{args.synthetic}:seed{args.seed}",
        "model": str(det.model.path),  # type: ignore[attr-defined]
        "verifier": str(det.verifier.model.path) if det.verifier is not None else None,  # type: ignore[attr-defined]
        "corner_net": str(det.corner_net.model.path) if det.corner_net is not None else None,  # type: ignore[attr-defined]
        "input_size": list(det.input_size),  # type: ignore[attr-defined]
        "score_threshold": threshold,
        "ms_per_image": round(1000 * elapsed / max(1, args.synthetic), 2),
        "mean_corner_error_per_width": round(float(np.mean(errors)), 4) if errors else float("nan"),
        "median_corner_error_per_width": round(float(np.median(errors)), 4) if errors else float("nan"),
        "corner_plates_matched": len(errors),
        **summarize([("overall", counts)]),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))
    return 0
