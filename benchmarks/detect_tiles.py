"""Large frames: the detector on mosaics of real hold-out frames, with and without tiles.

4K traffic and parking cameras give frames three times the size of a 1280x720 dash-cam frame; the network sees
any frame letterboxed to 640x384, so their plates shrink to a few pixels. This puts ro-dashcam's hold-out frames
(1280x720, real plates with their labelled boxes) side by side, ``--grid`` N x N per mosaic (3: 3840x2160, 2:
2560x1440; frames in the hold-out's order, the last incomplete mosaic left out), and measures the default
detector, which cuts frames whose longer side is over 1920 pixels into overlapping tiles of 1280 (each letterboxed
like a 1280x720 frame), against the whole-image pass alone (``tile_size=0``) and other tile sizes
(``--tile-sizes``): recall, precision and AP50 against the frames'
labels, as ``platewise eval detect`` counts them (scores down to 0.05 for AP, the default threshold for the rest),
ms per mosaic (the detectors taking turns on each mosaic), and the frames themselves one at a time for comparison.

    PYTHONPATH=src python benchmarks/detect_tiles.py [--grids 2,3] [--tile-sizes 960] [--threads 2] [--tag T]
        -> benchmarks/results/detect_tiles[_T].json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).parent))
from _detect import add_detector_args, build_detector, scenes, summarize_f1, write_result  # noqa: E402


def mosaic(
    images: list[npt.NDArray[np.uint8]], grid: int, cell_hw: tuple[int, int], fill: int = 0
) -> tuple[npt.NDArray[np.uint8], list[tuple[int, int]]]:
    """``grid`` x ``grid`` images (each at most ``cell_hw``) side by side, each at the top left of its cell, the
    rest ``fill``; returns the mosaic and each image's (x, y) offset in it, row by row."""
    ch, cw = cell_hw
    canvas = np.full((grid * ch, grid * cw, 3), fill, np.uint8)
    offsets = []
    for j, img in enumerate(images):
        y, x = (j // grid) * ch, (j % grid) * cw
        canvas[y : y + img.shape[0], x : x + img.shape[1]] = img
        offsets.append((x, y))
    return canvas, offsets


def mosaics(
    frames: list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]], grid: int
) -> list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]]:
    """``grid`` x ``grid`` frames (all of one size) side by side, their boxes (K,4) moved with them; the frames
    in order, a last incomplete mosaic left out."""
    per = grid * grid
    out = []
    for start in range(0, len(frames) - per + 1, per):
        part = frames[start : start + per]
        canvas, offsets = mosaic([img for img, _ in part], grid, part[0][0].shape[:2])
        boxes = [b + np.asarray([x, y, x, y], np.float32) for (_, b), (x, y) in zip(part, offsets, strict=True)]
        out.append((canvas, np.concatenate(boxes).reshape(-1, 4)))
    return out


def measure(dets: dict[str, Any], items: list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]]) -> dict[str, Any]:
    """Each detector's figures on ``items``; the detectors take turns on each image, so that a shared machine's
    slow and fast phases fall on all of them alike."""
    from platewise.detection.evaluate import DetectionCounts

    counts = {name: DetectionCounts() for name in dets}
    elapsed: dict[str, list[float]] = {name: [] for name in dets}
    for img, gt in items:
        for name, det in dets.items():
            t = time.perf_counter()
            raw = det.detect_raw([img])[0]
            elapsed[name].append(time.perf_counter() - t)
            counts[name].add(raw.boxes, raw.scores, gt, det.default_threshold)
    out = summarize_f1(counts)
    for name, m in out.items():
        m["ms_per_image_median"] = round(1000 * float(np.median(elapsed[name])), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_detector_args(ap)
    ap.add_argument("--grids", default="2,3", help="mosaic sizes N (N x N frames)")
    ap.add_argument("--tile-sizes", default="960", help="other tile widths to compare (default: 960)")
    args = ap.parse_args()
    from platewise.imageio import load_image

    frames = [(load_image(s.path), gt) for s, gt in scenes("ro-dashcam", holdout=True)]
    frames = [(img, gt) for img, gt in frames if img.shape[:2] == (720, 1280)]
    sizes = [int(v) for v in args.tile_sizes.split(",") if v.strip()]
    dets = {
        "no tiles (tile_size=0)": build_detector(args, tile_size=0),
        "default (tiles of 1280)": build_detector(args),
    }
    for t in sizes:
        dets[f"tiles of {t}"] = build_detector(args, tile_size=t)
    result: dict[str, Any] = {
        "frames": f"{len(frames)} ro-dashcam hold-out frames, 1280x720",
        "threshold": dets["default (tiles of 1280)"].default_threshold,
        "frames_one_at_a_time": measure({"default": dets["default (tiles of 1280)"]}, frames)["default"],
    }
    print("frames:", result["frames_one_at_a_time"], flush=True)
    for grid in (int(v) for v in args.grids.split(",") if v.strip()):
        items = mosaics(frames, grid)
        key = f"{grid}x{grid} mosaics, {items[0][0].shape[1]}x{items[0][0].shape[0]}"
        result[key] = {"mosaics": len(items), "plates": int(sum(len(gt) for _, gt in items))}
        for name, m in measure(dets, items).items():
            result[key][name] = m
            print(key, name, m, flush=True)
    print(f"wrote {write_result('detect_tiles', args.tag, result)}")


if __name__ == "__main__":
    main()
