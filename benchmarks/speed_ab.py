"""Two versions of the code, timed alternately: detector batch-8 throughput, detector batch-1 latency and the
pipeline's per-frame latency, each round a fresh process per version, on ro-dashcam hold-out 1280x720 frames.

    git worktree add ../old HEAD~1                      # the version to compare against, beside this checkout
    PYTHONPATH=src python benchmarks/speed_ab.py --a ../old --b . --rounds 5 --tag s18

Both checkouts must sit beside ``shared/`` (each finds ``../shared/data`` itself) and use their own weights.
Timing the versions one after the other, first a then b and then b then a in turn, lets a shared machine's slow
and fast phases (and any advantage of running first in a round) fall on both; the medians over rounds and the
per-round ratios (b / a) are what to quote. Writes ``benchmarks/results/speed_ab_<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

# run in the child: times one checkout's detector and pipeline; prints one JSON line
_CHILD = r"""
import json, statistics, sys, time
root = sys.argv[1]
sys.path.insert(0, root + "/src")
sys.path.insert(0, root + "/benchmarks")
import platewise
assert platewise.__file__.startswith(root), platewise.__file__
from detector_speed import _frames
from platewise.detection.detector import PlateDetector
from platewise.pipeline.alpr import ALPR
frames, what = _frames(16)
det = PlateDetector(threads=2, batch_size=8)
alpr = ALPR(threads=2)
batch = frames[:8]
for _ in range(2):
    det.detect(batch)
    alpr.read(frames[0])
t8, t1, tp, c1, cp = [], [], [], [], []
for r in range(int(sys.argv[2])):
    t = time.perf_counter(); det.detect(batch); t8.append(time.perf_counter() - t)
    for f in frames[r % 4 * 4 : r % 4 * 4 + 4]:
        t, c = time.perf_counter(), time.process_time(); det.detect([f])
        t1.append(time.perf_counter() - t); c1.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time(); alpr.read(f)
        tp.append(time.perf_counter() - t); cp.append(time.process_time() - c)
print(json.dumps({
    "frames": what,
    "detector_batch8_images_per_s": 8 / statistics.median(t8),
    "detector_batch1_ms": 1000 * statistics.median(t1),
    "pipeline_ms": 1000 * statistics.median(tp),
    "detector_batch1_cpu_ms": 1000 * statistics.median(c1),
    "pipeline_cpu_ms": 1000 * statistics.median(cp),
}))
"""

# CPU times: all the process's threads; the results file has them, the rounds' printed lines the first three
KEYS = (
    "detector_batch8_images_per_s",
    "detector_batch1_ms",
    "pipeline_ms",
    "detector_batch1_cpu_ms",
    "pipeline_cpu_ms",
)


def _run(root: Path, repeats: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.setdefault("PLATEWISE_THREADS", "2")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), str(repeats)], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"timing {root} failed:\n{proc.stderr[-2000:]}")
    out: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="the checkout to compare against (e.g. a git worktree)")
    ap.add_argument("--b", default=".", help="the checkout under test (default: this one)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=12, help="timed batches per process and round")
    ap.add_argument("--tag", default="latest")
    args = ap.parse_args()
    roots = {"a": Path(args.a).resolve(), "b": Path(args.b).resolve()}
    for name, root in roots.items():
        if not (root / "src" / "platewise").is_dir():
            raise SystemExit(f"--{name} {root}: not a platewise checkout (no src/platewise)")
    rounds: list[dict[str, dict[str, float]]] = []
    for r in range(args.rounds):
        # the order alternates (a b, b a, ...): the first process of a round ran faster by about 5% in the
        # nineteenth session's runs (speed_ab_s19_zones.json and speed_ab_s19_swapped.json, the same two
        # checkouts in both orders)
        order = list(roots) if r % 2 == 0 else list(reversed(roots))
        timed = {name: _run(roots[name], args.repeats) for name in order}
        row = {name: timed[name] for name in roots}
        rounds.append(row)
        print(f"round {r + 1}: " + "; ".join(f"{n} " + ", ".join(f"{row[n][k]:.1f}" for k in KEYS[:3]) for n in row))

    def med(name: str, key: str) -> float:
        return round(statistics.median(r[name][key] for r in rounds), 2)

    result = {
        "benchmark": "speed_ab",
        "a": str(roots["a"]),
        "b": str(roots["b"]),
        "frames": rounds[0]["a"].get("frames"),
        "threads": 2,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores",
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "medians": {name: {k: med(name, k) for k in KEYS} for name in roots},
        "ratio_b_over_a_median": {k: round(statistics.median(r["b"][k] / r["a"][k] for r in rounds), 3) for k in KEYS},
        "rounds": rounds,
    }
    out = Path(__file__).parent / "results" / f"speed_ab_{args.tag}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result["medians"]), json.dumps(result["ratio_b_over_a_median"]))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
