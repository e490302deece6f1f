"""Test-time views of the reader: hold-out crops read right with each setting of ``PlateReader(tta=...)``, and
with other extra views tried (the crop with a replicated border all round, with 3% cut from every side, with
a 3% border added on one side), fused the same way (``platewise.ocr.decode.fuse_ctc_views``).

Crops: the hold-out of openalpr-crops, br-crops, cn-crops, and the openalpr-dev boxes cut with 10% padding
(as ``platewise eval ocr --split holdout``). The "always" rows read every crop in all views; the others only
crops read with less confidence than ``below``, as the reader does.

    PYTHONPATH=src python benchmarks/reader_views.py [--model F.onnx] -> benchmarks/results/reader_views.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

FOLDERS = ("openalpr-crops", "br-crops", "cn-crops", "openalpr-dev")
View = Callable[[np.ndarray], np.ndarray]


def _cut(left: float, right: float, top: float = 0.0, bottom: float = 0.0) -> View:
    def f(img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        x1, x2 = int(left * w), w - int(right * w)
        y1, y2 = int(top * h), h - int(bottom * h)
        return img[y1:y2, x1:x2] if x2 > x1 and y2 > y1 else img

    return f


def _border(top: float, left: float, right: float) -> View:
    def f(img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        t, lft, r = int(top * h), int(left * w), int(right * w)
        return cv2.copyMakeBorder(img, t, t, lft, r, cv2.BORDER_REPLICATE)

    return f


# extra views per setting (besides the crop itself) and the confidence under which a crop gets them
OTHER: dict[str, tuple[list[View], float]] = {
    "always: 5%/4% replicated border all round": ([_border(0.05, 0.04, 0.04)], 1.01),
    "always: 4%/3% cut from every side": ([_cut(0.03, 0.03, 0.04, 0.04)], 1.01),
    "always: 3% border on the left, then on the right": ([_border(0.0, 0.03, 0.0), _border(0.0, 0.0, 0.03)], 1.01),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="reader ONNX (default: shipped)")
    args = ap.parse_args()

    from platewise.data.sources import default_data_root
    from platewise.imageio import as_bgr
    from platewise.ocr.decode import fuse_ctc_views
    from platewise.ocr.evaluate import evaluate_reader, load_eval_items
    from platewise.ocr.preprocess import resize_crop
    from platewise.ocr.reader import PlateReader

    root = default_data_root()
    items = {f: load_eval_items(root / f / "labels.csv", split="holdout") for f in FOLDERS}
    rows: dict[str, dict[str, int]] = {}
    settings = {
        "off": {"tta": False},
        "shift 3%, below 0.9 (default)": {},
        "shift 2%": {"tta_shift": 0.02},
        "shift 4%": {"tta_shift": 0.04},
        "shift 5%": {"tta_shift": 0.05},
        "every crop (below 1.01)": {"tta_below": 1.01},
        "below 0.8": {"tta_below": 0.8},
    }
    for name, kw in settings.items():
        reader = PlateReader(args.model, threads=2, top_n=0, **kw)  # type: ignore[arg-type]
        rows[name] = {
            f: round(evaluate_reader(reader, it)["overall"]["exact_match"] * len(it)) for f, it in items.items()
        }
    plain = PlateReader(args.model, threads=2, top_n=3, tta=False)
    size = plain.input_size
    for name, (views, below) in OTHER.items():
        row = {}
        for f, its in items.items():
            ok = 0
            for it in its:
                img = as_bgr(it.image)
                batch = np.stack([resize_crop(v(img), size) for v in [lambda x: x, *views]])
                texts, probs = plain.read_prepared_with_probs(batch)
                pt = texts[0] if texts[0].confidence >= below else fuse_ctc_views(texts, probs, plain.alphabet)[0]
                ok += pt.text == it.text
            row[f] = ok
        rows[name] = row
    for name, row in rows.items():
        row["all"] = sum(row[f] for f in FOLDERS)
        print(f"{name:55s} " + " ".join(f"{row[f]:4d}" for f in (*FOLDERS, "all")))
    out = Path(__file__).parent / "results" / "reader_views.json"
    plates = {f: len(it) for f, it in items.items()}
    out.write_text(json.dumps({"benchmark": "reader_views", "plates": plates, "read": rows}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
