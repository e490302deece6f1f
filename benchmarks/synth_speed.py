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


def rate(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up (atlas load)
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t)


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
        "cpu": platform.processor() or platform.machine(),
    }
    crops = {}
    for style in (None, "us", "eu", "br", "ar", "cn"):
        crops[style or "mixed"] = round(rate(lambda s=style: r.render_crop(style=s, strength=0.5), args.n), 1)
    res["render_crop_strength0.5_per_s"] = crops
    res["render_flat_mixed_per_s"] = round(rate(lambda: r.render(), args.n), 1)
    res["render_crop_strength1.0_mixed_per_s"] = round(rate(lambda: r.render_crop(strength=1.0), args.n), 1)
    try:
        from platewise.data.synthetic import SceneSynthesizer  # type: ignore[attr-defined,unused-ignore]

        s = SceneSynthesizer(backgrounds=None, seed=0)
        res["scene_640_per_s"] = round(rate(lambda: s.sample(640, 640), max(50, args.n // 20)), 1)
    except ImportError:
        pass
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
