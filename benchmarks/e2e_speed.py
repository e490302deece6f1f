"""End-to-end CPU speed of `platewise read`: per stage, per image, batch throughput, peak RSS, cold start.

Usage:
    python benchmarks/e2e_speed.py [--threads 2] [--runs 50] [--image examples/scene.jpg]

Writes benchmarks/results/e2e_speed.json and .md. The test image is a 1280x720 frame with one plate
(default: examples/scene_1280x720.jpg, a synthetic scene shipped in the repo). Medians are quoted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _median_ms(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


# runs `platewise ARGS` in a fresh interpreter and prints its own peak RSS last on stderr: VmHWM, which exec
# resets (ru_maxrss does not: it would keep the pages the child shared with this process, models loaded, when
# it was forked; so would the parent's RUSAGE_CHILDREN)
_CHILD = (
    "import resource, sys\n"
    "from platewise.cli import main\n"
    "def peak_kb():\n"
    "    try:\n"
    "        with open('/proc/self/status') as f:\n"
    "            return next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))\n"
    "    except (OSError, StopIteration):\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "finally:\n"
    "    print('peak_rss_kb', peak_kb(), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _child(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of `platewise ARGS` run in a child process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], check=True, capture_output=True, env=env)
    wall = time.perf_counter() - t
    kb = int(proc.stderr.decode().strip().splitlines()[-1].split()[-1])
    return wall, kb / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--image", default=str(ROOT / "examples" / "scene_1280x720.jpg"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "e2e_speed"))
    args = ap.parse_args()

    from platewise.imageio import decode_image
    from platewise.pipeline import ALPR

    data = Path(args.image).read_bytes()
    img = decode_image(data)
    alpr = ALPR(threads=args.threads)
    dets = alpr.detector.detect([img])[0]

    res: dict[str, object] = {
        "image": Path(args.image).name,
        "image_size": [int(img.shape[1]), int(img.shape[0])],
        "plates_found": len(dets),
        "threads": args.threads,
        "runs": args.runs,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }
    res["decode_ms"] = _median_ms(lambda: decode_image(data), args.runs)
    # the stages as the pipeline runs them (ALPR.run's own timings): detect (both passes, decode), straighten
    # (homographies and corner refinement), read (all views of all plates in one OCR batch)
    stages: dict[str, list[float]] = {"detect": [], "straighten": [], "read": []}
    for _ in range(args.runs):
        t = alpr.run([img]).timings
        for k in stages:
            stages[k].append(t[k])
    for k, v in stages.items():
        res[f"{k}_ms"] = statistics.median(v)
    res["e2e_ms_per_image"] = _median_ms(lambda: alpr.read(img), args.runs)
    # what the views cost: the most confident view, fused views, fused views + re-reading (the default), and
    # the default without the detector's plate verifier (at its own threshold, 0.3) and without its corner
    # network, timed in turn in one loop (ms per frame and the read stage's ms, medians)
    settings = {
        "most_confident": ALPR(threads=args.threads, fuse_views=False),
        "fused": ALPR(threads=args.threads, reread_below=0),
        "fused_reread": alpr,
        "fused_reread_without_verifier": ALPR(threads=args.threads, detector_verifier=False),
        "fused_reread_without_corner_net": ALPR(threads=args.threads, detector_corner_net=False),
    }
    views: dict[str, dict[str, list[float]]] = {k: {"total": [], "read": []} for k in settings}
    for _ in range(args.runs):
        for name, a in settings.items():
            t = a.run([img]).timings
            views[name]["total"].append(t["total"])
            views[name]["read"].append(t["read"])
    res["views_ms"] = {k: {s: round(statistics.median(v), 2) for s, v in d.items()} for k, d in views.items()}  # type: ignore[assignment]
    batch = [img] * 8
    b_ms = _median_ms(lambda: alpr.read_batch(batch), max(5, args.runs // 5))
    res["batch8_images_per_s"] = 8 / (b_ms / 1e3)
    wall, rss = _child(["read", args.image, "--no-progress"])
    res["cold_start_s"] = wall
    res["peak_rss_mb"] = rss
    res["targets"] = {"e2e_ms_per_image": 20.0, "peak_rss_mb": 300.0, "cold_start_s": 1.5}
    res = {k: round(v, 2) if isinstance(v, float) else v for k, v in res.items()}

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    lines = ["# End-to-end speed (`python benchmarks/e2e_speed.py`)", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in res.items() if k != "targets"]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
