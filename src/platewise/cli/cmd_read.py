"""``platewise read PATH...``: find and read the plates of images."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

COMMAND = ("read",)
HELP = "find and read the license plates in images (files, directories, globs, - for stdin)"

_CSV_FIELDS = ["image", "plate", "confidence", "region", "x1", "y1", "x2", "y2", "detection_score"]


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files, directories (recursive), globs, or - (stdin)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per image per line")
    fmt.add_argument("--csv", action="store_true", help="one CSV row per plate")
    p.add_argument("--draw", metavar="DIR", help="write annotated copies (box, corners, text) into DIR")
    p.add_argument("--region", help="bias readings toward a region's formats (us, eu, eu-de, br, ar, cn ...)")
    p.add_argument(
        "--min-confidence",
        type=float,
        default=None,
        help="drop plates read with less (0..1; default 0.15, 0 keeps all)",
    )
    p.add_argument(
        "--min-chars", type=int, default=4, help="drop plates read with fewer characters (default 4; 1 keeps all)"
    )
    p.add_argument("--top-n", type=int, default=3, help="candidate readings kept per plate (default 3)")
    p.add_argument("--batch-size", type=int, default=8, help="images per batch (default 8)")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: PLATEWISE_THREADS or 2)")
    p.add_argument("--detector", metavar="FILE.onnx", help="detector model (default: shipped)")
    p.add_argument(
        "--detector-threshold",
        type=float,
        default=None,
        help="detector score threshold, 0..1 (default 0.2 with the plate verifier, 0.3 without)",
    )
    p.add_argument(
        "--tile-size",
        type=int,
        default=None,
        metavar="N",
        help="also detect on overlapping tiles N pixels wide: 0 = never (default: tiles of 1280 for images whose "
        "longer side is over 1920 pixels, where small plates would be lost)",
    )
    p.add_argument(
        "--zone",
        metavar='"X,Y X,Y ..."',
        help="read only the plates in this part of each image: 2 points (opposite corners of a rectangle) or 3 or "
        "more (a polygon), in pixels or, all values 0-1, as fractions of the width and height; e.g. 0,0.4,1,1 for "
        "the lower 60%%. The detector looks only there, at a larger scale when the zone is a band",
    )
    p.add_argument(
        "--min-plate-width",
        type=float,
        default=0.0,
        metavar="PX",
        help="report no plate narrower than PX pixels in the image (default 0: every plate)",
    )
    p.add_argument("--reader", metavar="FILE.onnx", help="text reader model (default: shipped)")
    p.add_argument("--store", action="store_true", help="also save every read in the reads database")
    p.add_argument("--db", metavar="URL", help="database URL for --store (default: the per-user SQLite file)")
    p.add_argument("--source", default=None, help="source name stored with the reads (default: 'cli')")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal and there are several files."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled and total > 1 and sys.stderr.isatty()
        self.done = 0

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.enabled:
            width = 30
            fill = int(width * self.done / self.total)
            sys.stderr.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _table(out: TextIO, image: str, reads: list[Any]) -> None:
    if not reads:
        out.write(f"{image}\t(no plate)\n")
    for r in reads:
        b = r.box
        out.write(
            f"{image}\t{r.text}\t{r.confidence:.2f}\t{r.region or '-'}\t"
            f"{int(b.x1)},{int(b.y1)},{int(b.x2)},{int(b.y2)}\n"
        )


def run(args: argparse.Namespace) -> int:
    from platewise.cli._inputs import STDIN, expand_paths
    from platewise.errors import InvalidImage, InvalidInput
    from platewise.imageio import decode_image, load_image

    if args.batch_size < 1:
        raise InvalidInput("--batch-size must be >= 1")
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        raise InvalidInput("--min-confidence must be between 0 and 1")
    if args.top_n < 1:
        raise InvalidInput("--top-n must be >= 1")
    if args.min_chars < 1:
        raise InvalidInput("--min-chars must be >= 1")
    if (args.db or args.source) and not args.store:
        raise InvalidInput("--db and --source only apply with --store")
    paths = expand_paths(args.paths)
    if not paths:
        raise InvalidInput("no image files found in the given paths")
    draw_dir = Path(args.draw) if args.draw else None
    if draw_dir is not None:
        draw_dir.mkdir(parents=True, exist_ok=True)

    from platewise.detection.zone import Zone
    from platewise.pipeline import ALPR

    zone = Zone.parse(args.zone) if args.zone else None
    if args.detector_threshold is not None and not 0.0 <= args.detector_threshold <= 1.0:
        raise InvalidInput("--detector-threshold must be in [0, 1]")
    alpr = ALPR(
        region=args.region,
        top_n=args.top_n,
        **({} if args.min_confidence is None else {"min_confidence": args.min_confidence}),
        min_chars=args.min_chars,
        threads=args.threads,
        detector_path=args.detector,
        reader_path=args.reader,
        **({} if args.detector_threshold is None else {"detector_threshold": args.detector_threshold}),
        detector_tile_size=args.tile_size,
        zone=zone,
        detector_min_plate_width=args.min_plate_width,
    )
    writer = None
    if args.store:
        from platewise.store import BackgroundWriter, open_store

        writer = BackgroundWriter(open_store(args.db))

    out = sys.stdout
    csv_writer = csv.writer(out) if args.csv else None
    if csv_writer:
        csv_writer.writerow(_CSV_FIELDS)
    progress = _Progress(len(paths), not args.no_progress)
    failed = 0
    try:
        for start in range(0, len(paths), args.batch_size):
            names, images, decode_ms = [], [], []
            for path in paths[start : start + args.batch_size]:
                t = time.perf_counter()
                try:
                    img = decode_image(sys.stdin.buffer.read()) if path == STDIN else load_image(path)
                    if zone is not None:
                        zone.crop_rect(*img.shape[:2])  # a zone in pixels can miss a smaller image
                except (InvalidImage, InvalidInput) as e:
                    where = "stdin" if path == STDIN else path
                    msg = f"{where}: {e}" if isinstance(e, InvalidInput) or path == STDIN else str(e)
                    print(f"platewise: skipped {msg}", file=sys.stderr)
                    failed += 1
                    progress.step()
                    continue
                decode_ms.append((time.perf_counter() - t) * 1e3)
                names.append(path)
                images.append(img)
            if not images:
                continue
            result = alpr.run(images)
            per_image = {k: v / len(images) for k, v in result.timings.items()}
            for name, img, reads, dms in zip(names, images, result.plates, decode_ms, strict=True):
                if args.json:
                    rec = {
                        "image": name,
                        "width": int(img.shape[1]),
                        "height": int(img.shape[0]),
                        "plates": [r.to_dict() for r in reads],
                        "timings": {
                            "decode_ms": round(dms, 2),
                            **{f"{k}_ms": round(v, 2) for k, v in per_image.items()},
                        },
                    }
                    out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                elif csv_writer:
                    for r in reads:
                        b = r.box
                        csv_writer.writerow(
                            [
                                name,
                                r.text,
                                f"{r.confidence:.4f}",
                                r.region or "",
                                *(f"{v:.1f}" for v in b.as_list()),
                                f"{r.detection.score:.4f}",
                            ]
                        )
                else:
                    _table(out, name, reads)
                if draw_dir is not None:
                    _draw(draw_dir, name, img, reads, zone)
                if writer is not None:
                    _store(writer, name, img, reads, args.source or "cli")
                progress.step()
            out.flush()
    finally:
        progress.close()
        if writer is not None:
            writer.close()
    if failed:
        print(f"platewise: {failed} of {len(paths)} file(s) could not be read", file=sys.stderr)
        return 1
    return 0


def _draw(draw_dir: Path, name: str, img: Any, reads: list[Any], zone: Any) -> None:
    import cv2

    from platewise.pipeline.draw import draw_reads

    stem = "stdin" if name == "-" else Path(name).stem
    cv2.imwrite(str(draw_dir / f"{stem}.jpg"), draw_reads(img, reads, zone))


def _store(writer: Any, name: str, img: Any, reads: list[Any], source: str) -> None:
    from datetime import datetime, timezone

    import cv2

    from platewise.store import ReadRecord

    now = datetime.now(timezone.utc)
    records = []
    for r in reads:
        b = r.box
        crop = img[max(0, int(b.y1)) : int(b.y2), max(0, int(b.x1)) : int(b.x2)]
        ok, jpg = cv2.imencode(".jpg", crop) if crop.size else (False, None)
        records.append(
            ReadRecord(
                time=now,
                source=source,
                read=r,
                image_path=None if name == "-" else str(Path(name).resolve()),
                crop_jpeg=jpg.tobytes() if ok else None,
            )
        )
    if records:
        writer.submit(records)
