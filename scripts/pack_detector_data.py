"""Packs the detector's training data into one file that can travel to another machine (a GPU lent for a
session gets the repository's working tree only, at most 64 MiB in all, and not ../shared/data).

    python scripts/pack_detector_data.py --out runs/device/detector_data.pkl [--max-side 960] [--quality 50]

The training side of the three labelled scene folders (hold-out images are never read) and the negatives,
re-encoded as WebP with their longer side at most ``--max-side`` (boxes scaled with them;
``platewise.detection.dataset.build_cache``). Train on it with ``platewise train detector ... --cache=FILE``.
Prints the file's size and what it holds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="the packed file to write")
    ap.add_argument("--data-root", help="default: ../shared/data")
    ap.add_argument("--max-side", type=int, default=960, help="longer side of the stored images (default 960)")
    ap.add_argument("--quality", type=int, default=50, help="WebP quality 1-100 (default 50)")
    ap.add_argument("--scene-folders", default="openlpr-scenes,ro-dashcam,openalpr-dev")
    ap.add_argument("--negative-folder", default="negatives")
    args = ap.parse_args(argv)
    if args.max_side < 64 or not 1 <= args.quality <= 100:
        print("--max-side must be at least 64 and --quality in 1-100", file=sys.stderr)
        return 2

    from platewise.data.sources import default_data_root
    from platewise.detection.dataset import build_cache, load_records

    root = Path(args.data_root) if args.data_root else default_data_root()
    folders = tuple(f for f in args.scene_folders.split(",") if f)
    if not all((root / f / "labels.csv").is_file() for f in folders):
        print(f"no labelled scene folders {folders} under {root}: pass --data-root DIR", file=sys.stderr)
        return 2
    scenes = load_records(root, folders, holdout=False)
    negatives = load_records(root, (args.negative_folder,)) if args.negative_folder else []
    path = build_cache(scenes + negatives, args.out, max_side=args.max_side, quality=args.quality)
    print(f"wrote {path}: {path.stat().st_size / 2**20:.1f} MiB, {len(scenes)} scenes, {len(negatives)} negatives")
    return 0


if __name__ == "__main__":
    sys.exit(main())
