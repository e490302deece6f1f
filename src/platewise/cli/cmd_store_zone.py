"""``platewise store zone --source S``: a detection zone for a fixed camera, from where its plates were read."""

from __future__ import annotations

import argparse
import json

COMMAND = ("store", "zone")
HELP = "suggest a detection zone (--zone) for a camera from where its stored reads' plates were"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, help="the camera (the reads' source name)")
    parser.add_argument(
        "--db", metavar="URL", help="database URL or SQLite path (default: $PLATEWISE_DB or the per-user file)"
    )
    parser.add_argument("--since", help="only reads at or after this time (ISO time, 1h, 7d, yesterday ...)")
    parser.add_argument("--last", type=int, default=10000, help="use at most the newest N reads (default 10000)")
    parser.add_argument(
        "--min-reads", type=int, default=20, help="fewer reads than this is too few to suggest a zone (default 20)"
    )
    parser.add_argument(
        "--percentiles",
        default="1,99",
        metavar="LOW,HIGH",
        help="the zone holds the plate centres between these percentiles, x and y apart (default 1,99)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    import sys

    import numpy as np

    from platewise.detection.zone import Zone
    from platewise.errors import InvalidInput
    from platewise.store import open_store

    try:
        low, high = (float(v) for v in args.percentiles.split(","))
    except ValueError:
        raise InvalidInput(f"--percentiles {args.percentiles!r}: expected LOW,HIGH, e.g. 1,99") from None
    if args.last < 1 or args.min_reads < 1:
        raise InvalidInput("--last and --min-reads must be at least 1")
    with open_store(args.db) as store:
        rows = store.search(None, source=args.source, since=args.since, limit=args.last)
    if len(rows) < args.min_reads:
        print(
            f"platewise: {len(rows)} read(s) of source {args.source!r} found, fewer than --min-reads "
            f"{args.min_reads}: read more of this camera's frames with --store --source {args.source} first",
            file=sys.stderr,
        )
        return 1
    centres = np.array([((r.box.x1 + r.box.x2) / 2, (r.box.y1 + r.box.y2) / 2) for r in rows], np.float64)
    zone = Zone.around(centres, low, high)
    if args.json:
        print(json.dumps({"source": args.source, "reads": len(rows), "zone": str(zone)}))
    else:
        print(f"{zone}")
        print(
            f"# from {len(rows)} reads of {args.source!r}: the plate centres' {low:g}-{high:g} percentile "
            f'rectangle; use it as --zone "{zone}"',
            file=sys.stderr,
        )
    return 0
