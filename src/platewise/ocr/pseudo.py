"""Pseudo-labels: real plates that have a box but no text, read by the shipped reader and kept when the
reading is confident, stable and well-formed. They add real-image variety to reader training (self-training).

    python -m platewise.ocr.pseudo --out data-cache/pseudo        # training side of openlpr-scenes, ro-dashcam
    platewise train ocr ... --pseudo_dir=data-cache/pseudo

Each labelled box of the *training side* (``platewise.data.splits``; hold-out images are never read) is read
twice: cut exactly at the box, and with 8% padding (a looser detector). The plate is kept when both views give
the same text, both confidences are at least ``min_confidence``, the text has at least ``min_chars``
characters and it fits a plate format. With the folder's region known (ro-dashcam: Romania) a reading that
fits only after swapping look-alikes is kept corrected when one correction needs the fewest swaps
(:func:`platewise.plates.formats.fit_to_formats`). Without (worldwide photos), corrections guessed wrong as
often as right when looked at, so a reading that matches no specific format but would after a swap
(``0Y66U0P``, a UK ``OY66UOP`` misread) is dropped instead.

Written: ``DIR/images/NNNNN.png`` (the box grown by 30% on each side, so training can jitter the edges like a
detector) and ``DIR/labels.csv`` = ``image,region,plate,x1,y1,x2,y2,confidence`` (the box inside the image).
:func:`estimate_precision` applies the same rule to labelled hold-out boxes and reports how many of the kept
readings are right.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from platewise.data.sources import crop_box_with_padding, default_data_root, read_scenes_csv
from platewise.data.splits import is_holdout
from platewise.errors import InvalidImage
from platewise.imageio import load_image
from platewise.ocr.reader import PlateReader
from platewise.plates import normalize
from platewise.plates.formats import FORMATS, fit_mask, fit_to_formats, formats_for, guess_region, known_region
from platewise.types import BBox

__all__ = ["PseudoRule", "accept", "estimate_precision", "iter_boxes", "main", "write_pseudo_labels"]

# Folders with boxes but no text, and the plate-format region of their plates ("" = any region).
DEFAULT_FOLDERS = {"openlpr-scenes": "", "ro-dashcam": "eu-ro"}
_SPECIFIC = tuple(f for f in FORMATS if f.name != "generic")


@dataclass(frozen=True)
class PseudoRule:
    """When a reading becomes a label."""

    min_confidence: float = 0.9
    min_chars: int = 4
    loose_pad: float = 0.08


def accept(texts: list[tuple[str, float]], region: str, rule: PseudoRule) -> str | None:
    """The pseudo-label of one plate from its readings ``[(text, confidence), ...]`` (one per view), or None."""
    if not texts:
        return None
    first = texts[0][0]
    if any(t != first or c < rule.min_confidence for t, c in texts) or len(first) < rule.min_chars:
        return None
    if region:
        return fit_to_formats(first, formats_for(region))
    if any(f.matches(first) for f in _SPECIFIC):
        return first
    if any(fit_mask(m, first) for f in _SPECIFIC for m in f.masks):
        return None  # one look-alike swap away from a known format: likely a 0/O-type misread, no label
    return first if guess_region(first) is not None else None


def iter_boxes(
    root: Path, folder: str, holdout: bool
) -> Iterator[tuple[str, npt.NDArray[np.uint8], tuple[int, int, int, int], str, str]]:
    """(key, image, box (x1, y1, x2, y2) as ints, labelled text, region) for every box of one side of a folder."""
    for s in read_scenes_csv(root / folder / "labels.csv"):
        if is_holdout(s.key) != holdout or not s.boxes:
            continue
        try:
            img = load_image(s.path)
        except (InvalidImage, OSError) as e:  # an unreadable file is skipped, not fatal
            print(f"skipped {s.key}: {e}", file=sys.stderr)
            continue
        h, w = img.shape[:2]
        for box, plate, region in zip(s.boxes, s.plates, s.regions, strict=False):
            x1, y1 = max(0, int(round(box.x1))), max(0, int(round(box.y1)))
            x2, y2 = min(w, int(round(box.x2))), min(h, int(round(box.y2)))
            if x2 - x1 >= 4 and y2 - y1 >= 4:
                yield s.key, img, (x1, y1, x2, y2), normalize(plate or ""), region


def _views(img: npt.NDArray[np.uint8], box: tuple[int, int, int, int], pad: float) -> list[npt.NDArray[np.uint8]]:
    x1, y1, x2, y2 = box
    lx1, ly1, lx2, ly2 = crop_box_with_padding(img.shape[1], img.shape[0], BBox(x1, y1, x2, y2), pad)
    return [np.ascontiguousarray(img[y1:y2, x1:x2]), np.ascontiguousarray(img[ly1:ly2, lx1:lx2])]


def _read_views(
    reader: PlateReader, img: npt.NDArray[np.uint8], box: tuple[int, int, int, int], rule: PseudoRule
) -> list[tuple[str, float]]:
    return [(t.text, t.confidence) for t in reader.read(_views(img, box, rule.loose_pad))]


def write_pseudo_labels(
    out: Path,
    root: Path | None = None,
    folders: dict[str, str] | None = None,
    reader: PlateReader | None = None,
    rule: PseudoRule = PseudoRule(),
    context: float = 0.3,
) -> dict[str, dict[str, int]]:
    """Reads every training-side box of ``folders`` ({folder: format region or ""}) and writes the kept ones.

    Returns:
        ``{folder: {"boxes": n, "kept": k}}``.
    """
    root = root or default_data_root()
    reader = reader or PlateReader(top_n=0, tta=False)
    folders = DEFAULT_FOLDERS if folders is None else folders
    (out / "images").mkdir(parents=True, exist_ok=True)
    stats: dict[str, dict[str, int]] = {}
    n = 0
    with (out / "labels.csv").open("w", newline="", encoding="utf-8") as f:
        wr = csv.writer(f)
        wr.writerow(["image", "region", "plate", "x1", "y1", "x2", "y2", "confidence"])
        for folder, region in folders.items():
            st = stats.setdefault(folder, {"boxes": 0, "kept": 0})
            for _key, img, box, _label, row_region in iter_boxes(root, folder, holdout=False):
                st["boxes"] += 1
                fmt = region or known_region(row_region) or ""
                texts = _read_views(reader, img, box, rule)
                text = accept(texts, fmt, rule)
                if text is None:
                    continue
                cx1, cy1, cx2, cy2 = crop_box_with_padding(img.shape[1], img.shape[0], BBox(*box), context)
                name = f"images/{n:05d}.png"
                cv2.imwrite(str(out / name), img[cy1:cy2, cx1:cx2])
                x1, y1, x2, y2 = box
                conf = min(c for _, c in texts)
                wr.writerow([name, fmt or row_region, text, x1 - cx1, y1 - cy1, x2 - cx1, y2 - cy1, f"{conf:.4f}"])
                st["kept"] += 1
                n += 1
    return stats


def estimate_precision(
    root: Path | None = None,
    folders: tuple[str, ...] = ("openalpr-dev",),
    reader: PlateReader | None = None,
    rule: PseudoRule = PseudoRule(),
) -> dict[str, float]:
    """The rule applied to labelled hold-out boxes: how many are kept and how many of those are right."""
    root = root or default_data_root()
    reader = reader or PlateReader(top_n=0, tta=False)
    boxes = kept = right = 0
    for folder in folders:
        for _key, img, box, label, row_region in iter_boxes(root, folder, holdout=True):
            if not label:
                continue
            boxes += 1
            text = accept(_read_views(reader, img, box, rule), known_region(row_region) or "", rule)
            if text is not None:
                kept += 1
                right += int(text == label)
    return {
        "boxes": boxes,
        "kept": kept,
        "right": right,
        "precision": round(right / kept, 4) if kept else float("nan"),
        "kept_share": round(kept / boxes, 4) if boxes else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m platewise.ocr.pseudo", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output folder (images/ and labels.csv)")
    p.add_argument("--root", default=None, help="data root (default ../shared/data)")
    p.add_argument("--model", default=None, help="reader ONNX (default: the shipped weights)")
    p.add_argument("--min-confidence", type=float, default=PseudoRule.min_confidence)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if not 0.0 <= args.min_confidence <= 1.0:
        print(f"error: --min-confidence {args.min_confidence} must be in [0, 1]", file=sys.stderr)
        return 2
    root = Path(args.root) if args.root else default_data_root()
    if not (root / "openlpr-scenes").is_dir():
        print(f"error: no openlpr-scenes under {root}; give --root", file=sys.stderr)
        return 2
    reader = PlateReader(args.model, threads=args.threads, top_n=0, tta=False)  # as the documented rounds
    rule = PseudoRule(min_confidence=args.min_confidence)
    stats = write_pseudo_labels(Path(args.out), root, reader=reader, rule=rule)
    prec = estimate_precision(root, reader=reader, rule=rule)
    print(json.dumps({"written": stats, "holdout_check_openalpr_dev": prec}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
