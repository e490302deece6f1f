"""``platewise search PATTERN``: query the stored plate reads."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from platewise.store import StoredRead

COMMAND = ("search",)
HELP = "search stored plate reads: SQL LIKE pattern or glob, --regex, or --fuzzy K"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "examples: platewise search 'AB%12_' --since yesterday | platewise search 7ABC123 --fuzzy 1 | "
        "platewise search '^7[A-Z]{3}' --regex --format csv --output reads.csv"
    )
    parser.add_argument(
        "pattern", nargs="?", metavar="PATTERN",
        help="SQL LIKE pattern over the plate text (%% any run, _ one char; * and ? too; case and separators "
        "ignored); a regex with --regex; a plate with --fuzzy; omit to list everything",
    )  # fmt: skip
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--regex", action="store_true", help="PATTERN is a Python regular expression (searched)")
    kind.add_argument("--fuzzy", type=float, metavar="K", help="plates within OCR-confusion-weighted edit distance K")
    parser.add_argument("--since", metavar="T", help="ISO time, a duration ago (1h, 2d) or today/yesterday (UTC)")
    parser.add_argument("--until", metavar="T", help="same forms as --since; reads before this time")
    parser.add_argument("--source", metavar="S", help="only reads of this camera / source")
    parser.add_argument("--min-confidence", type=float, metavar="C", help="only reads with confidence >= C")
    parser.add_argument("--limit", type=int, default=100, metavar="N", help="at most N reads (default 100)")
    parser.add_argument("--format", choices=("table", "csv", "json", "parquet"), default=None,
                        help="output format (default: table, or from --output's extension)")  # fmt: skip
    parser.add_argument("--output", "-o", metavar="PATH", help="write to a file (csv, json or parquet)")
    parser.add_argument(
        "--db", metavar="URL", help="database URL or SQLite path (default: $PLATEWISE_DB or the per-user file)"
    )


def format_table(rows: list[StoredRead], *, show_distance: bool) -> str:
    head = ["id", "time (UTC)", "source", "plate", "conf", "region"] + (["distance"] if show_distance else [])
    body = [
        [str(r.id), r.time.strftime("%Y-%m-%d %H:%M:%S"), r.source, r.text, f"{r.confidence:.3f}", r.region or "-"]
        + ([f"{r.distance:g}"] if show_distance else [])
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = ["  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)).rstrip() for line in [head, *body]]
    return "\n".join(lines) + f"\n({len(rows)} read{'s' if len(rows) != 1 else ''})"


def run(args: argparse.Namespace) -> int:
    from platewise.errors import InvalidInput
    from platewise.store import export, open_store

    fmt = args.format or (args.output.rsplit(".", 1)[-1].lower() if args.output and "." in args.output else "table")
    if fmt == "parquet" and not args.output:
        raise InvalidInput("--format parquet needs --output FILE.parquet")
    if args.output and fmt == "table":
        raise InvalidInput("--output writes csv, json or parquet; give --format or a file extension")
    with open_store(args.db) as store:
        rows = store.search(
            args.pattern, regex=args.regex, fuzzy=args.fuzzy, since=args.since, until=args.until,
            source=args.source, min_confidence=args.min_confidence, limit=args.limit,
        )  # fmt: skip
    if args.output:
        path = export.write(rows, args.output, fmt)
        print(f"wrote {len(rows)} reads to {path}", file=sys.stderr)
    elif fmt == "csv":
        sys.stdout.write(export.to_csv(rows))
    elif fmt == "json":
        print(export.to_json(rows))
    else:
        print(format_table(rows, show_distance=args.fuzzy is not None))
    return 0
