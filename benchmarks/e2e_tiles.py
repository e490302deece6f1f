"""Large frames end to end: the pipeline on mosaics of openalpr-dev's hold-out images, with and without tiles.

Each hold-out image (at most 1280 pixels on its longer side) is put at the top left of a 1280x960 grey cell, at
its own size, and ``--grid`` N x N cells make one mosaic (2: 2560x1920, 3: 3840x2880; images in the hold-out's
order, the last incomplete mosaic left out). ``ALPR()`` (its detector tiles frames whose longer side is over 1920
pixels) and ``ALPR(detector_tile_size=0)`` read every mosaic; each is scored as ``platewise eval e2e``
scores (``platewise.pipeline.evaluate.evaluate_e2e``: a labelled plate counts when a read overlapping it has
exactly its text; no region bias), and so are the images one at a time.

    PYTHONPATH=src python benchmarks/e2e_tiles.py [--grids 2,3] [--threads 2] [--tag T]
        -> benchmarks/results/e2e_tiles[_T].json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).parent))
from _detect import write_result  # noqa: E402
from detect_tiles import mosaic  # noqa: E402

CELL = (960, 1280)  # h, w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grids", default="2,3")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    from platewise.data.sources import SceneSample, default_data_root, iter_holdout, read_scenes_csv
    from platewise.imageio import load_image
    from platewise.pipeline import ALPR
    from platewise.pipeline.evaluate import evaluate_e2e
    from platewise.types import BBox

    samples = list(iter_holdout(read_scenes_csv(Path(default_data_root()) / "openalpr-dev" / "labels.csv"), True))
    images = {s.key: load_image(s.path) for s in samples}
    samples = [s for s in samples if images[s.key].shape[0] <= CELL[0] and images[s.key].shape[1] <= CELL[1]]
    pipelines = {
        "default (tiles above 1920)": ALPR(threads=args.threads),
        "no tiles": ALPR(threads=args.threads, detector_tile_size=0),
    }

    def score(name: str, alpr: Any, items: list[Any], load: Any) -> dict[str, Any]:
        o = evaluate_e2e(alpr, items, load)["overall"]
        print(name, o, flush=True)
        return dict(o)

    by_path = {s.path: images[s.key] for s in samples}
    result: dict[str, Any] = {
        "images": f"{len(samples)} openalpr-dev hold-out images",
        "one_at_a_time": score("images", pipelines["default (tiles above 1920)"], samples, by_path.__getitem__),
    }
    for grid in (int(v) for v in args.grids.split(",") if v.strip()):
        per = grid * grid
        mosaics: dict[str, npt.NDArray[np.uint8]] = {}
        items = []
        for start in range(0, len(samples) - per + 1, per):
            part = samples[start : start + per]
            canvas, offsets = mosaic([images[s.key] for s in part], grid, CELL, fill=114)
            boxes, plates, regions = [], [], []
            for s, (x, y) in zip(part, offsets, strict=True):
                boxes += [BBox(b.x1 + x, b.y1 + y, b.x2 + x, b.y2 + y) for b in s.boxes]
                plates += list(s.plates)
                regions += list(s.regions)
            key = f"mosaic{grid}_{start}"
            mosaics[key] = canvas
            items.append(SceneSample(Path(key), key, tuple(boxes), tuple(plates), tuple(regions)))
        name = f"{grid}x{grid} mosaics, {grid * CELL[1]}x{grid * CELL[0]}"
        result[name] = {"mosaics": len(items)}
        used = samples[: len(items) * per]
        result[name]["the same images one at a time"] = score(
            f"{name}: its images one at a time", pipelines["default (tiles above 1920)"], used, by_path.__getitem__
        )
        load = {Path(k): v for k, v in mosaics.items()}.__getitem__
        for p_name, alpr in pipelines.items():
            result[name][p_name] = score(f"{name} {p_name}", alpr, items, load)
    print(f"wrote {write_result('e2e_tiles', args.tag, result)}")


if __name__ == "__main__":
    main()
