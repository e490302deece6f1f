"""View fusion and re-reading: plates read, paired wins and losses, and false reads, on openalpr-dev (hold-out
and training side) and on synthetic hold-out scenes.

The pipeline reads each plate in up to three views (straightened with the network's corners, with refined
corners, and its box). Three settings are compared:

- ``most confident``: ``ALPR(fuse_views=False)``, the most confident view's reading wins;
- ``fused``: ``ALPR(reread_below=0)``, the candidate whose CTC probability averaged over the views is highest
  wins, and its confidence is the mean of the views' confidences in it;
- ``fused + re-read`` (the default): plates whose fused confidence is under 0.9 are read in four more views
  and fused again.

All run at the pipeline's default ``min_confidence`` unless ``--min-confidence`` is given. A plate counts as
read when a returned plate overlaps it by IoU 0.5 and its text equals the label; ``won``/``lost`` count the
plates a setting reads and ``most confident`` does not, and the other way round.

    PYTHONPATH=src python benchmarks/view_fusion.py [--n 300] [--min-confidence C]
    -> benchmarks/results/view_fusion.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _hits(alpr: Any, scenes: list[tuple[Any, list[Any], list[str]]]) -> tuple[list[bool], int]:
    from platewise.pipeline.evaluate import match_reads

    hits: list[bool] = []
    false_reads = 0
    for img, boxes, labels in scenes:
        reads = alpr.read(img)
        match = match_reads(boxes, reads)
        false_reads += len(reads) - sum(j is not None for j in match)
        hits += [j is not None and reads[j].text == t for t, j in zip(labels, match, strict=True) if t]
    return hits, false_reads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300, help="synthetic scenes")
    ap.add_argument("--min-confidence", type=float, default=None)
    ap.add_argument("--reader", help="reader ONNX (default: shipped)")
    args = ap.parse_args()

    from platewise.data.sources import default_data_root, read_scenes_csv
    from platewise.data.splits import is_holdout
    from platewise.detection.dataset import holdout_synthetic_scenes
    from platewise.imageio import load_image
    from platewise.pipeline.alpr import ALPR
    from platewise.plates.normalize import normalize

    root = default_data_root()
    dev = read_scenes_csv(root / "openalpr-dev" / "labels.csv")
    sets: dict[str, list[tuple[Any, list[Any], list[str]]]] = {
        "openalpr-dev hold-out": [],
        "openalpr-dev training side": [],
    }
    for s in dev:
        key = "openalpr-dev hold-out" if is_holdout(s.key) else "openalpr-dev training side"
        sets[key].append((load_image(s.path), list(s.boxes), [normalize(p) for p in s.plates]))
    sets["synthetic scenes"] = [
        (sc.image, [p.box for p in sc.plates], [normalize(p.text) for p in sc.plates])
        for sc in holdout_synthetic_scenes(root, args.n, 12345)
    ]
    kw: dict[str, Any] = {} if args.min_confidence is None else {"min_confidence": args.min_confidence}
    settings = {
        "most confident": ALPR(threads=1, reader_path=args.reader, fuse_views=False, **kw),
        "fused": ALPR(threads=1, reader_path=args.reader, reread_below=0, **kw),
        "fused + re-read": ALPR(threads=1, reader_path=args.reader, **kw),
    }
    results: dict[str, dict[str, Any]] = {}
    for name, scenes in sets.items():
        base: list[bool] = []
        row: dict[str, Any] = {"images": len(scenes)}
        for setting, alpr in settings.items():
            hits, false_reads = _hits(alpr, scenes)
            base = base or hits
            row["plates"] = len(hits)
            row[setting] = {
                "read": sum(hits),
                "won": sum(a and not b for a, b in zip(hits, base, strict=True)),
                "lost": sum(b and not a for a, b in zip(hits, base, strict=True)),
                "false_reads_per_image": round(false_reads / max(1, len(scenes)), 3),
            }
        results[name] = row
        print(name, row)
    out = Path(__file__).parent / "results" / "view_fusion.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "view_fusion",
                "min_confidence": settings["fused"].min_confidence,
                "scenes": args.n,
                "results": results,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
