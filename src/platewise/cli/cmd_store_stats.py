"""``platewise store stats``: what the reads database holds."""

from __future__ import annotations

import argparse
import json

COMMAND = ("store", "stats")
HELP = "show counts, time range, sources and size of the reads database"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="URL", help="database URL or SQLite path (default: $PLATEWISE_DB or the per-user file)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    from platewise.store import open_store

    with open_store(args.db) as store:
        s = store.stats().to_dict()
    if args.format == "json":
        print(json.dumps(s, indent=1))
        return 0
    size = f"{s['size_bytes'] / 1e6:.1f} MB" if s["size_bytes"] is not None else "-"
    print(f"database        {s['url']} ({s['backend']}, schema v{s['schema_version']})")
    print(f"trigram index   {s['trigram_index']}")
    print(f"reads           {s['reads']:,} ({s['distinct_plates']:,} distinct plates, {s['with_crop']:,} with a crop)")
    print(f"time range      {s['first_time'] or '-'} .. {s['last_time'] or '-'}")
    print(f"size            {size}")
    for src in s["sources"]:
        print(f"  {src['reads']:>12,}  {src['source']}")
    return 0
