"""Reader training crops cut the way the pipeline cuts them: plates found by a detector and straightened with
its corners (:class:`platewise.ALPR`'s "rectified" and "refined" views), with their text.

The reader otherwise trains on labelled boxes with jittered edges (:func:`platewise.ocr.dataset.augment`); the
pipeline mostly reads plates warped flat with a detector's corners. These crops show it those.

    python -m platewise.ocr.pipeline_crops --out data-cache/pipe --synthetic 3000 \\
        [--detector F.onnx --verifier V.onnx --corner-net C.onnx] [--pseudo] [--labelled]
    platewise train ocr ... --pipeline_dir=data-cache/pipe

Sources (training side only: hold-out images and hold-out negatives are never read):
- ``--synthetic N``: N scenes of :class:`platewise.data.synthetic.scenes.SceneSynthesizer` over the
  training-side negatives (``--seed``; the synthetic hold-out scenes use the hold-out negatives), exact text.
- ``--pseudo``: the training-side boxes of openlpr-scenes and ro-dashcam, labelled as
  :mod:`platewise.ocr.pseudo` labels them (the box and the box with 8% padding read alike by the shipped
  reader, confidence >= ``--min-confidence``, a plate format), so the label never comes from the straightened
  view itself.
- ``--labelled``: openalpr-dev's training-side boxes with their labelled text. Off by default, so that
  ``benchmarks/e2e_pads.py`` on the training side still measures plates the reader never saw straightened.

A labelled plate is used when a detection overlaps it by IoU 0.5 or more and its corners are plausible (else
the pipeline reads the box view, which the reader trains on already). Written as the pseudo-label folders are:
``DIR/images/NNNNN.png`` (the straightened plate grown by ``context`` of its size on each side, the plate
``CROP_W`` pixels wide) and ``DIR/labels.csv`` = ``image,region,plate,x1,y1,x2,y2,confidence,source,view``
where the box is the pipeline's crop (the plate grown by ``ALPR``'s ``rectify_pad``) inside the image.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from platewise.data.sources import default_data_root
from platewise.pipeline.evaluate import match_boxes
from platewise.types import BBox, Detection

__all__ = ["CROP_H", "CROP_W", "PlateSpec", "main", "straightened_views", "write_pipeline_crops"]

CROP_W, CROP_H = 288, 96  # the plate's size in a written crop (twice the reader's 144x48)
HEADER = ["image", "region", "plate", "x1", "y1", "x2", "y2", "confidence", "source", "view"]


@dataclass(frozen=True)
class PlateSpec:
    """A labelled plate of a scene: its box and text."""

    box: BBox
    text: str
    region: str


def straightened_views(
    image: npt.NDArray[np.uint8],
    det: Detection,
    *,
    context: float = 0.3,
    rectify_pad: float = 0.03,
    refine: bool = True,
) -> list[tuple[str, npt.NDArray[np.uint8], tuple[float, float, float, float]]]:
    """The plate of ``det`` warped flat with its corners, as the pipeline warps it, with ``context`` around.

    Returns ``[(view, crop, box)]``: view "rectified" (and "refined" when :func:`refine_corners` moves the
    corners), the crop HxWx3 uint8, and the pipeline's crop (the plate grown by ``rectify_pad``) as (x1, y1,
    x2, y2) inside it. Empty when the corners are not plausible (the pipeline then reads the box).
    """
    from platewise.detection.refine import refine_corners
    from platewise.pipeline.rectify import corners_plausible

    if not 0 <= rectify_pad < context:
        raise ValueError(f"need 0 <= rectify_pad < context, got {rectify_pad}, {context}")
    out_w, out_h = int(round(CROP_W * (1 + 2 * context))), int(round(CROP_H * (1 + 2 * context)))
    mx, my = CROP_W * context, CROP_H * context  # where the plate's corners go
    dst = np.array([[mx, my], [mx + CROP_W, my], [mx + CROP_W, my + CROP_H], [mx, my + CROP_H]], np.float32)
    inner = (
        mx - CROP_W * rectify_pad,
        my - CROP_H * rectify_pad,
        mx + CROP_W * (1 + rectify_pad),
        my + CROP_H * (1 + rectify_pad),
    )
    q = det.corners.as_array().astype(np.float32)
    if not corners_plausible(q, det.box):
        return []
    views = [("rectified", q)]
    if refine:
        r = refine_corners(image, q[None])[0].astype(np.float32)
        if not np.array_equal(r, q) and corners_plausible(r, det.box):
            views.append(("refined", r))
    out = []
    for name, c in views:
        m = cv2.getPerspectiveTransform(c, dst)
        crop = cv2.warpPerspective(image, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out.append((name, np.asarray(crop, np.uint8), inner))
    return out


def _synthetic(root: Path, n: int, seed: int) -> Iterator[tuple[str, npt.NDArray[np.uint8], list[PlateSpec]]]:
    from platewise.data.synthetic.scenes import SceneSynthesizer
    from platewise.detection.dataset import HOLDOUT_SCENE_SIZES, load_records

    backgrounds = [str(r.source) for r in load_records(root, ("negatives",), holdout=False)]
    if not backgrounds:
        raise ValueError(f"no training-side negatives under {root}/negatives")
    synth = SceneSynthesizer(backgrounds, seed=seed)
    for i in range(n):
        w, h = HOLDOUT_SCENE_SIZES[i % len(HOLDOUT_SCENE_SIZES)]
        sc = synth.sample(w, h)
        yield f"synthetic/{seed}/{i}", sc.image, [PlateSpec(p.box, p.text, p.region) for p in sc.plates]


def _real(
    root: Path, folders: dict[str, str], labeller: tuple[Any, Any] | None
) -> Iterator[tuple[str, npt.NDArray[np.uint8], list[PlateSpec]]]:
    """Training-side scenes; text from the labels, or (``labeller``: (reader, pseudo-label rule)) read by the
    reader from the box views as :mod:`platewise.ocr.pseudo` reads them."""
    from platewise.ocr.pseudo import _read_views, accept, iter_boxes
    from platewise.plates.formats import known_region

    for folder, fmt_region in folders.items():
        for key, boxes in groupby(iter_boxes(root, folder, holdout=False), key=lambda b: b[0]):
            img: npt.NDArray[np.uint8] | None = None
            specs = []
            for _, img, box, label, region in boxes:
                text = label
                if labeller is not None:
                    fmt = fmt_region or known_region(region) or ""
                    text = accept(_read_views(labeller[0], img, box, labeller[1]), fmt, labeller[1]) or ""
                    region = fmt or region
                if text:
                    specs.append(PlateSpec(BBox(*box), text, region))
            if specs and img is not None:
                yield key, img, specs


def write_pipeline_crops(
    out: Path,
    detector: object,
    scenes: Iterator[tuple[str, npt.NDArray[np.uint8], list[PlateSpec]]],
    *,
    context: float = 0.3,
    rectify_pad: float = 0.03,
    start: int = 0,
) -> dict[str, int]:
    """Detects the plates of each scene, writes the straightened views of the labelled ones (appending to
    ``out/labels.csv`` from image number ``start``). Returns counts: scenes, plates, found, written."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    labels = out / "labels.csv"
    new = not labels.is_file()
    st = {"scenes": 0, "plates": 0, "found": 0, "written": 0}
    n = start
    with labels.open("a", newline="", encoding="utf-8") as f:
        wr = csv.writer(f)
        if new:
            wr.writerow(HEADER)
        for key, img, specs in scenes:
            st["scenes"] += 1
            st["plates"] += len(specs)
            dets = detector.detect([img])[0]  # type: ignore[attr-defined]
            for spec, j in zip(specs, match_boxes([p.box for p in specs], [d.box for d in dets]), strict=True):
                if j is None:
                    continue
                st["found"] += 1
                for view, crop, (x1, y1, x2, y2) in straightened_views(
                    img, dets[j], context=context, rectify_pad=rectify_pad
                ):
                    name = f"images/{n:06d}.png"
                    cv2.imwrite(str(out / name), crop)
                    conf = f"{dets[j].score:.4f}"
                    wr.writerow(
                        [
                            name,
                            spec.region,
                            spec.text,
                            f"{x1:.1f}",
                            f"{y1:.1f}",
                            f"{x2:.1f}",
                            f"{y2:.1f}",
                            conf,
                            key,
                            view,
                        ]
                    )
                    n += 1
                    st["written"] += 1
    return st


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m platewise.ocr.pipeline_crops", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output folder (images/ and labels.csv); must not hold labels.csv")
    p.add_argument("--root", default=None, help="data root (default ../shared/data)")
    p.add_argument("--detector", default=None, help="detector ONNX (default: the shipped weights)")
    p.add_argument("--verifier", default=None, help="on, off or a verifier ONNX (default: the pipeline's)")
    p.add_argument("--corner-net", default=None, help="on, off or a corner network ONNX (default: the pipeline's)")
    p.add_argument("--synthetic", type=int, default=0, help="synthetic training scenes")
    p.add_argument("--seed", type=int, default=777, help="synthetic scenes' seed (the hold-out uses 12345)")
    p.add_argument("--pseudo", action="store_true", help="openlpr-scenes and ro-dashcam, pseudo-labelled")
    p.add_argument("--labelled", action="store_true", help="openalpr-dev's training side, labelled text")
    p.add_argument("--min-confidence", type=float, default=0.8, help="the pseudo-label rule's confidence")
    p.add_argument("--context", type=float, default=0.3)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    out = Path(args.out)
    if (out / "labels.csv").exists():
        print(f"error: {out}/labels.csv exists; give a new --out", file=sys.stderr)
        return 2
    if args.synthetic < 0 or not (args.synthetic or args.pseudo or args.labelled):
        print("error: give --synthetic N (N > 0), --pseudo or --labelled", file=sys.stderr)
        return 2
    if not 0.0 <= args.min_confidence <= 1.0:
        print(f"error: --min-confidence {args.min_confidence} must be in [0, 1]", file=sys.stderr)
        return 2
    root = Path(args.root) if args.root else default_data_root()
    if not (root / "negatives").is_dir():
        print(f"error: no negatives folder under {root}; give --root", file=sys.stderr)
        return 2

    from platewise.cli._inputs import detector_companions
    from platewise.ocr.pseudo import PseudoRule
    from platewise.ocr.reader import PlateReader
    from platewise.pipeline.alpr import ALPR

    # the detector exactly as the pipeline builds it (verifier, corner network, threshold; no box blending)
    kw = detector_companions(args.verifier, args.corner_net)
    detector = ALPR(detector_path=args.detector, threads=args.threads, **kw).detector  # type: ignore[arg-type]
    stats: dict[str, dict[str, int]] = {}
    n = 0
    sources: list[tuple[str, Iterator[tuple[str, npt.NDArray[np.uint8], list[PlateSpec]]]]] = []
    if args.synthetic:
        sources.append(("synthetic", _synthetic(root, args.synthetic, args.seed)))
    if args.pseudo:
        rule = PseudoRule(min_confidence=args.min_confidence)
        reader = PlateReader(threads=args.threads, top_n=0, tta=False)  # as platewise.ocr.pseudo
        sources.append(("pseudo", _real(root, {"openlpr-scenes": "", "ro-dashcam": "eu-ro"}, (reader, rule))))
    if args.labelled:
        sources.append(("labelled", _real(root, {"openalpr-dev": ""}, None)))
    for name, scenes in sources:
        stats[name] = write_pipeline_crops(out, detector, scenes, context=args.context, start=n)
        n += stats[name]["written"]
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
