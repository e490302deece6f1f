"""Which crop of a detected plate reads best: straightened by the corners, the padded box, or the more
confident of the two (what ``ALPR(box_view=True)`` does), for several margins.

On openalpr-dev (the only real scenes with plate text), hold-out and training side separately (the reader
trained on crops cut from the training side's labelled boxes, so that side flatters crops cut like those
labels), and on ``--synthetic N`` scenes of ``platewise.data.synthetic.SceneSynthesizer`` over the hold-out
negatives (plates the reader never saw, cut by no label convention). Only plates the detector found
(IoU >= 0.5) count, so the numbers isolate the crop choice from detection misses.

    PYTHONPATH=src python benchmarks/crop_views.py [--reader F.onnx] [--detector F.onnx] [--synthetic 300]
    -> benchmarks/results/crop_views.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from platewise.data.sources import default_data_root, read_scenes_csv
from platewise.data.splits import is_holdout
from platewise.detection.detector import PlateDetector
from platewise.imageio import load_image
from platewise.ocr.reader import PlateReader
from platewise.pipeline.rectify import crop_box, rectify
from platewise.plates.normalize import normalize
from platewise.types import BBox

PADS = (-0.04, -0.02, 0.0, 0.03, 0.05)  # negative: the crop is cut inside the detected box


def _real(root: Path, holdout: bool) -> Iterator[tuple[np.ndarray, list[BBox], list[str]]]:
    for s in read_scenes_csv(root / "openalpr-dev" / "labels.csv"):
        if is_holdout(s.key) == holdout:
            yield load_image(s.path), list(s.boxes), list(s.plates)


def _synthetic(root: Path, n: int, seed: int = 12345) -> Iterator[tuple[np.ndarray, list[BBox], list[str]]]:
    from platewise.detection.dataset import holdout_synthetic_scenes

    for sc in holdout_synthetic_scenes(root, n, seed):
        yield sc.image, [p.box for p in sc.plates], [p.text for p in sc.plates]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reader")
    ap.add_argument("--detector")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--synthetic", type=int, default=300, help="synthetic scenes (0 = none)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "crop_views.json"))
    args = ap.parse_args()
    root = Path(args.data_root) if args.data_root else default_data_root()
    det, rd = PlateDetector(args.detector, threads=2), PlateReader(args.reader, threads=2)
    h, w = rd.input_size
    out: dict[str, dict[str, float | int]] = {}
    for split in ("holdout", "train", "synthetic"):
        if split == "synthetic" and not args.synthetic:
            continue
        scenes = _synthetic(root, args.synthetic) if split == "synthetic" else _real(root, split == "holdout")
        items = []
        for img, boxes, plates in scenes:
            ds = det.detect([img])[0]
            for g, p in zip(boxes, plates, strict=True):
                if p and ds:
                    d = max(ds, key=lambda d: d.box.iou(g))
                    if d.box.iou(g) >= 0.5:
                        items.append((img, d, normalize(p)))
        truth = [g for _, _, g in items]
        res: dict[str, float | int] = {"plates": len(items)}
        rect = {
            p: rd.read_prepared(np.stack([rectify(im, d.corners, d.box, (h, w), pad=p)[0] for im, d, _ in items]))
            for p in PADS
        }
        box = {p: rd.read_prepared(np.stack([crop_box(im, d.box, (h, w), pad=p) for im, d, _ in items])) for p in PADS}
        for p in PADS:
            res[f"rectified pad {p}"] = sum(r.text == g for r, g in zip(rect[p], truth, strict=True))
            res[f"box pad {p}"] = sum(b.text == g for b, g in zip(box[p], truth, strict=True))
        for rp in PADS:
            for bp in PADS:
                best = [
                    max((r.confidence, r.text), (b.confidence, b.text))[1]
                    for r, b in zip(rect[rp], box[bp], strict=True)
                ]
                res[f"more confident of rectified pad {rp} / box pad {bp}"] = sum(
                    t == g for t, g in zip(best, truth, strict=True)
                )
        out[split] = res
        print(split, json.dumps(res, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps({"reader": args.reader or "shipped", "detector": args.detector or "shipped", **out}, indent=1)
    )


if __name__ == "__main__":
    main()
