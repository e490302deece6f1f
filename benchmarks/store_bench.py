"""Reads store benchmark: batched insert rate and search latency on N synthetic reads.

    PYTHONPATH=src python benchmarks/store_bench.py --n 1000000            # SQLite and PostgreSQL
    PYTHONPATH=src python benchmarks/store_bench.py --n 20000 --backends sqlite

Plates are generated from the masks of ``platewise.plates.formats`` (us, eu, br, ar, cn), times spread over
the last 30 days in arrival order, 20 sources. Each query runs ``--repeats`` times after one warm-up; the
median and the best are reported. Writes ``benchmarks/results/store.json`` and ``store.md``.

Targets (issue 6): insert >= 20,000 reads/s on SQLite; ``AB%`` <= 20 ms; ``%12%`` <= 300 ms; fuzzy 1 on a
7-character plate <= 300 ms on PostgreSQL, <= 1 s on SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from platewise.plates.formats import CLASS_CHARS, FORMATS
from platewise.store import ReadRecord, open_store
from platewise.types import BBox, Corners, Detection, PlateRead

PG_URL = os.environ.get("PLATEWISE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).parent / "results"

# Rough mix of regions; cn gets a small share, the US generic fallback none (it is "anything").
REGION_WEIGHTS = {"us": 0.35, "eu": 0.35, "br": 0.12, "ar": 0.08, "cn": 0.10}


def synthetic_plates(n: int, seed: int = 0) -> list[str]:
    """``n`` plate texts drawn from the region formats' masks."""
    rng = random.Random(seed)
    by_region: dict[str, list[str]] = {}
    for f in FORMATS:
        if f.name == "generic":
            continue
        by_region.setdefault(f.region.split("-")[0], []).extend(f.masks)
    regions = list(REGION_WEIGHTS)
    weights = [REGION_WEIGHTS[r] for r in regions]
    out = []
    for region in rng.choices(regions, weights, k=n):
        mask = rng.choice(by_region[region])
        out.append("".join(rng.choice(CLASS_CHARS[c]) for c in mask))
    return out


def make_records(texts: list[str], seed: int = 1) -> list[ReadRecord]:
    rng = random.Random(seed)
    end = dt.datetime.now(dt.timezone.utc)
    start = end - dt.timedelta(days=30)
    step = (end - start) / max(1, len(texts))
    out = []
    for i, t in enumerate(texts):
        x, y = rng.uniform(0, 1500), rng.uniform(0, 900)
        box = BBox(x, y, x + 120, y + 40)
        conf = rng.uniform(0.5, 1.0)
        read = PlateRead(
            text=t,
            confidence=conf,
            char_confidences=tuple(round(rng.uniform(0.8, 1.0), 3) for _ in t),
            candidates=(),
            region=None,
            detection=Detection(box, Corners.from_box(box), rng.uniform(0.5, 1.0)),
        )
        out.append(ReadRecord(time=start + step * i, source=f"cam-{i % 20:02d}", read=read))
    return out


def timed(fn: Any, repeats: int) -> dict[str, Any]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "best_ms": round(min(times), 2), "rows": len(result)}


def bench_backend(backend: str, records: list[ReadRecord], texts: list[str], args: argparse.Namespace) -> dict:
    tmp = None
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="pw_store_bench_")
        url, schema = str(Path(tmp) / "reads.sqlite3"), None
    else:
        url, schema = PG_URL, f"pw_bench_{os.getpid()}"
    store = open_store(url, schema=schema, query_timeout=60)
    try:
        load_before = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(records), args.batch):
            store.add(records[i : i + args.batch])
        insert_s, insert_cpu = time.perf_counter() - t0, time.process_time() - c0
        if backend == "postgresql":
            with store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE plate_reads")
        seven = next(t for t in texts[len(texts) // 2 :] if len(t) == 7 and t.isascii())
        queries = {
            "prefix LIKE 'AB%' (limit 100)": lambda: store.search("AB%"),
            "infix LIKE '%12%' (limit 100)": lambda: store.search("%12%"),
            "infix LIKE '%12%' last 24 h (limit 100)": lambda: store.search("%12%", since="1d"),
            "rare infix LIKE '%Q9Z%' (limit 100)": lambda: store.search("%Q9Z%"),
            "less common 2-char infix LIKE '%Q9%' (limit 100)": lambda: store.search("%Q9%"),
            f"exact plate '{seven}'": lambda: store.search(seven),
            f"fuzzy 1 on 7-char plate '{seven}'": lambda: store.search(seven, fuzzy=1),
            f"fuzzy 2 on 7-char plate '{seven}'": lambda: store.search(seven, fuzzy=2),
            "regex '^AB[0-9]{3}' (limit 100)": lambda: store.search("^AB[0-9]{3}", regex=True),
            "regex '^Q9Z' (rare; index range from its literal prefix)": lambda: store.search("^Q9Z", regex=True),
            "regex 'Q9Z$' (rare; trigram prefilter from its required literal)": lambda: store.search(
                "Q9Z$", regex=True
            ),
            "regex '[QX]9Z$' (rare; full scan, REGEXP on every row)": lambda: store.search("[QX]9Z$", regex=True),
            "source + min confidence (limit 100)": lambda: store.search(source="cam-07", min_confidence=0.9),
        }
        results = {name: timed(fn, args.repeats) for name, fn in queries.items()}
        stats = store.stats()
        return {
            "n": len(records),
            "batch": args.batch,
            "insert_s": round(insert_s, 2),
            "insert_reads_per_s": round(len(records) / insert_s),
            # this process's CPU only: all of the work for SQLite, the client side for PostgreSQL
            "insert_reads_per_cpu_s": round(len(records) / insert_cpu),
            "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "queries": results,
            "size_mb": round((stats.size_bytes or 0) / 1e6, 1),
            "trigram_index": stats.trigram_index,
        }
    finally:
        if backend == "postgresql":
            with store.engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        store.close()
        if tmp:
            for f in Path(tmp).iterdir():
                f.unlink()
            os.rmdir(tmp)


def pg_reachable() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
        return True
    except psycopg.Error:
        return False


TARGETS = [  # (backend, query name prefix, limit in ms)
    ("sqlite", "prefix LIKE 'AB%'", 20), ("postgresql", "prefix LIKE 'AB%'", 20),
    ("sqlite", "infix LIKE '%12%' (limit", 300), ("postgresql", "infix LIKE '%12%' (limit", 300),
    ("sqlite", "fuzzy 1", 1000), ("postgresql", "fuzzy 1", 300),
]  # fmt: skip


def write_markdown(report: dict, path: Path) -> None:
    lines = [
        "# Reads store benchmark",
        "",
        f"`{report['command']}` on {report['machine']} ({report['date']}); "
        f"{report['n']:,} synthetic reads; median of {report['repeats']} runs after a warm-up (best in brackets).",
        "",
    ]
    for backend, r in report["backends"].items():
        if "skipped" in r:
            lines += [f"## {backend}", "", f"skipped: {r['skipped']}", ""]
            continue
        lines += [
            f"## {backend}",
            "",
            f"- batched insert ({r['batch']} per batch): **{r['insert_reads_per_s']:,} reads/s** "
            f"({r['insert_s']} s wall; {r['insert_reads_per_cpu_s']:,} reads per CPU-second of this process"
            f"{'' if backend == 'sqlite' else ', client side only'}); size {r['size_mb']} MB; "
            f"trigram index: {r['trigram_index']}; 1-minute load average before/after: {r['load_avg_1m']} "
            f"on {os.cpu_count()} CPUs",
            "",
            "| query | median ms | best ms | rows |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| {q} | {v['median_ms']} | {v['best_ms']} | {v['rows']} |" for q, v in r["queries"].items()]
        lines.append("")
    lines += ["## Targets", "", "| target | measured | met |", "|---|---:|---|"]
    for t in report["targets"]:
        lines.append(f"| {t['what']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of synthetic reads")
    ap.add_argument("--batch", type=int, default=20000, help="reads per store.add() call (one transaction)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--out", type=Path, default=RESULTS / "store.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    texts = synthetic_plates(args.n)
    records = make_records(texts)
    print(f"generated {args.n:,} reads in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    report: dict[str, Any] = {
        "command": "python benchmarks/store_bench.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "n": args.n,
        "repeats": args.repeats,
        "backends": {},
    }
    for backend in args.backends.split(","):
        if backend == "postgresql" and not pg_reachable():
            report["backends"][backend] = {"skipped": f"PostgreSQL not reachable at {PG_URL}"}
            continue
        print(f"{backend}: inserting ...", file=sys.stderr)
        report["backends"][backend] = r = bench_backend(backend, records, texts, args)
        print(json.dumps(r, indent=1), file=sys.stderr)
    targets = []
    for backend, r in report["backends"].items():
        if "skipped" in r:
            continue
        if backend == "sqlite":
            targets.append({"what": "sqlite insert >= 20,000 reads/s", "measured": r["insert_reads_per_s"],
                            "met": r["insert_reads_per_s"] >= 20_000})  # fmt: skip
        for b, prefix, limit in TARGETS:
            if b != backend:
                continue
            name, v = next((q, v) for q, v in r["queries"].items() if q.startswith(prefix))
            targets.append({"what": f"{backend} {name} <= {limit} ms", "measured": v["median_ms"],
                            "met": v["median_ms"] <= limit})  # fmt: skip
    report["targets"] = targets
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    write_markdown(report, args.out.with_suffix(".md"))
    print(args.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
