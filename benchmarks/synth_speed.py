"""Synthetic crop rendering speed on one core: ``python benchmarks/synth_speed.py [--n N]``.

Writes ``benchmarks/results/synth_speed.json`` (crops/s for render_crop at strength 0.5 per style and mixed,
flat render speed, and scene sampling speed when available).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import cv2  # noqa: E402

cv2.setNumThreads(1)

from platewise.data.synthetic import PlateRenderer  # noqa: E402


def rate(fn, n: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Items per second by wall clock and by this process's CPU time (robust to other jobs on the machine)."""
    fn()  # warm-up (atlas load)
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return {"wall": round(n / wall, 1), "cpu": round(n / cpu, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/synth_speed.json"))
    args = ap.parse_args()
    r = PlateRenderer(seed=0)
    res: dict[str, object] = {
        "n": args.n,
        "threads": 1,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "load_average_before": round(os.getloadavg()[0], 2),
        "note": "per second; wall = wall clock, cpu = this process CPU time (one core; robust to other jobs)",
    }
    crops: dict[str, dict[str, float]] = {}
    for style in (None, "us", "eu", "br", "ar", "cn"):
        crops[style or "mixed"] = rate(lambda s=style: r.render_crop(style=s, strength=0.5), args.n)
    res["render_crop_strength0.5_per_s"] = crops
    res["render_flat_mixed_per_s"] = rate(lambda: r.render(), args.n)
    res["render_crop_strength1.0_mixed_per_s"] = rate(lambda: r.render_crop(strength=1.0), args.n)
    try:
        from platewise.data.synthetic import SceneSynthesizer  # type: ignore[attr-defined,unused-ignore]

        s = SceneSynthesizer(backgrounds=None, seed=0)
        res["scene_640_per_s"] = rate(lambda: s.sample(640, 640), max(50, args.n // 10))
    except ImportError:
        pass
    res["load_average_after"] = round(os.getloadavg()[0], 2)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
