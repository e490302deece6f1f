"""Two detectors timed alternately in one process: batch-1 latency per frame (every default on: close-up pass,
verifier, corner network, edge snapping) and the network's own time on one input tensor. Machines differ from
day to day by a third or more, so when weights change, compare them here, in one run, not against an old
result file.

    PYTHONPATH=src python benchmarks/detector_speed_compare.py --b-detector OLD.onnx --b-verifier OLD_V.onnx
        [--a-detector NEW.onnx --a-verifier NEW_V.onnx] [--rounds 5] [--tag T]
        -> benchmarks/results/detector_speed_compare[_T].json

A is the shipped detector unless given. Frames: the first 20 ro-dashcam hold-out frames (1280x720).
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _detect import write_result  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a-detector", help="detector A (default: shipped)")
    ap.add_argument("--a-verifier", help="verifier A (default: the detector's)")
    ap.add_argument("--b-detector", required=True, help="detector B")
    ap.add_argument("--b-verifier", help="verifier B (default: none unless B is the shipped detector)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5, help="alternations of A and B (20 frames, 20 network runs each)")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()

    from platewise.data.sources import default_data_root
    from platewise.detection.detector import PlateDetector
    from platewise.detection.preprocess import letterbox, to_input_tensor
    from platewise.imageio import load_image

    files = sorted(glob.glob(str(Path(default_data_root()) / "ro-dashcam" / "images" / "valid" / "*.jpg")))[:20]
    if not files:
        raise SystemExit("no ro-dashcam hold-out frames under the data root")
    frames = [load_image(f) for f in files]
    dets = {
        "a": PlateDetector(args.a_detector, threads=args.threads, verifier=args.a_verifier, corner_net=True),
        "b": PlateDetector(args.b_detector, threads=args.threads, verifier=args.b_verifier, corner_net=True),
    }
    times: dict[str, list[float]] = {"a": [], "b": [], "a_network": [], "b_network": []}
    for _ in range(args.rounds):
        for name, det in dets.items():
            x = to_input_tensor([letterbox(frames[0], det.input_size)[0]], det.mean, det.std, rgb=det.rgb)
            for f in frames:
                t = time.perf_counter()
                det.detect([f])
                times[name].append(time.perf_counter() - t)
            for _ in range(20):
                t = time.perf_counter()
                det.model.run(x)
                times[name + "_network"].append(time.perf_counter() - t)
    med = {k: round(1000 * float(np.median(v)), 2) for k, v in times.items()}
    result: dict[str, Any] = {
        "benchmark": "detector_speed_compare",
        "machine": f"{platform.machine()}, {os.cpu_count()} logical cores",
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "threads": args.threads,
        "a": {"detector": args.a_detector or "shipped", "verifier": args.a_verifier or "default"},
        "b": {"detector": args.b_detector, "verifier": args.b_verifier or "default"},
        "median_ms": med,
        "b_over_a": round(med["b"] / med["a"], 3),
        "b_over_a_network": round(med["b_network"] / med["a_network"], 3),
    }
    print(result)
    print(write_result("detector_speed_compare", args.tag, result))


if __name__ == "__main__":
    main()
