"""Dumps the default detector's outputs (boxes, corners, scores) on every hold-out image of the three labelled
scene folders, or compares them with an earlier dump: a check that a code change leaves the detections bit for
bit the same.

    PYTHONPATH=src python benchmarks/detect_dump.py --out runs/dump_before.npz [--batch-size 8]
    PYTHONPATH=src python benchmarks/detect_dump.py --compare runs/dump_before.npz

``--compare`` prints the number of images whose outputs differ and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _detect import FOLDERS, add_detector_args, scenes  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_detector_args(ap)
    ap.add_argument("--batch-size", type=int, default=8)
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", help="write the outputs to this .npz file")
    what.add_argument("--compare", help="compare with this .npz file")
    args = ap.parse_args()

    from platewise.cli._inputs import on_off_or_file
    from platewise.detection.detector import PlateDetector
    from platewise.imageio import load_image

    det = PlateDetector(
        args.detector,
        threads=args.threads,
        batch_size=args.batch_size,
        tile_size=args.tile_size,
        verifier=None if args.verifier is None else on_off_or_file(args.verifier),
        corner_net=None if args.corner_net is None else on_off_or_file(args.corner_net),
    )
    keys = [s.key for folder in FOLDERS for s, _ in scenes(folder, holdout=True)]
    paths = [s.path for folder in FOLDERS for s, _ in scenes(folder, holdout=True)]
    arrays: dict[str, np.ndarray] = {}
    for start in range(0, len(paths), args.batch_size):
        part = paths[start : start + args.batch_size]
        for key, raw in zip(keys[start:], det.detect_raw([load_image(p) for p in part]), strict=False):
            arrays[f"{key}|boxes"] = raw.boxes
            arrays[f"{key}|corners"] = raw.corners
            arrays[f"{key}|scores"] = raw.scores
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.out, **arrays)  # type: ignore[arg-type]
        print(f"{len(keys)} images -> {args.out}")
        return
    before = np.load(args.compare)
    differ = sorted(
        {
            k.split("|")[0]
            for k in set(arrays) | set(before.files)
            if k not in arrays or k not in before.files or not np.array_equal(arrays[k], before[k])
        }
    )
    print(f"{len(keys)} images, {len(differ)} with different outputs")
    for k in differ[:20]:
        print("  ", k)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
