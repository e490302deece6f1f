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
import resource
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


def _child(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of a child process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(after, before) / 1024


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
    batch = [img] * 8
    b_ms = _median_ms(lambda: alpr.read_batch(batch), max(5, args.runs // 5))
    res["batch8_images_per_s"] = 8 / (b_ms / 1e3)
    wall, rss = _child([sys.executable, "-m", "platewise", "read", args.image, "--no-progress"])
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
