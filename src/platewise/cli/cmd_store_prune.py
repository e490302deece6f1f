"""``platewise store prune --older-than 30d``: delete old reads."""

from __future__ import annotations

import argparse

COMMAND = ("store", "prune")
HELP = "delete reads (and their crops) older than a duration, e.g. --older-than 30d"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than", required=True, metavar="DURATION", help="30d, 12h, 2w, 1h30m ...")
    parser.add_argument(
        "--db", metavar="URL", help="database URL or SQLite path (default: $PLATEWISE_DB or the per-user file)"
    )


def run(args: argparse.Namespace) -> int:
    from platewise.store import open_store, parse_duration

    older_than = parse_duration(args.older_than)
    with open_store(args.db) as store:
        n = store.prune(older_than)
    print(f"deleted {n:,} reads older than {args.older_than}")
    return 0
