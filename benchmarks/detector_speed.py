"""Detector speed on the CPU with ONNX Runtime: batch 1 latency per 1280x720 image (letterbox + network +
decode included) and batch-8 throughput, for one or more input sizes.

    PYTHONPATH=src python benchmarks/detector_speed.py [--model F] [--threads 2] [--sizes 384x640,448x800]

Writes benchmarks/results/detector_speed.json. Latency and throughput are those of the default detector (the
main pass plus the close-up pass at half size, corners refined), and, timed alternately in the same run, of
the main pass alone (``closeup_scale=0``), without corner refinement (batch 1) and without the plate verifier
(``verifier=False``; the shipped detector uses the shipped verifier) and without the corner network
(``corner_net=False``; likewise), and with the test-time flip (``flip="max"``); the letterbox / network /
decode breakdown is of the main pass. The decode time is given with corner voting and, for comparison in the
same run, without it (what ``detect`` does when a corner network replaces the corners, as with the shipped
detector). ``batch1_cpu_ms`` is the process CPU time per image (all threads), a
figure that other jobs on a shared machine disturb less than wall-clock latency. Frames are ro-dashcam
hold-out frames when ../shared/data is there (so the decode sees real detections), else noise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np


def _frames(n: int) -> tuple[list[np.ndarray], str]:
    from platewise.data.sources import default_data_root
    from platewise.detection.dataset import load_records

    root = default_data_root()
    if (root / "ro-dashcam" / "labels.csv").is_file():
        recs = load_records(root, ("ro-dashcam",), holdout=True)[:n]
        imgs = [r.image() for r in recs]
        imgs = [i for i in imgs if i.shape[:2] == (720, 1280)]
        if imgs:
            return (imgs * (n // len(imgs) + 1))[:n], "ro-dashcam hold-out frames 1280x720"
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8) for _ in range(n)], "random 1280x720"


def bench(
    model: str | None, threads: int, size: tuple[int, int] | None, frames: list[np.ndarray], repeats: int
) -> dict[str, object]:
    from platewise.detection.decode import decode_batch
    from platewise.detection.detector import PlateDetector
    from platewise.detection.preprocess import letterbox, to_input_tensor

    det = PlateDetector(model, threads=threads, input_size=size, batch_size=8)
    main_only = PlateDetector(model, threads=threads, input_size=size, batch_size=8, closeup_scale=0.0)
    raw_corners = PlateDetector(model, threads=threads, input_size=size, batch_size=8, corner_refine=False)
    unverified = PlateDetector(model, threads=threads, input_size=size, batch_size=8, verifier=False)
    no_corner_net = PlateDetector(model, threads=threads, input_size=size, batch_size=8, corner_net=False)
    flipped = PlateDetector(model, threads=threads, input_size=size, batch_size=8, flip="max")
    for f in frames[:3]:
        flipped.detect([f])
        no_corner_net.detect([f])
        det.detect([f])
        main_only.detect([f])
        raw_corners.detect([f])
        unverified.detect([f])
    lat_unverified: list[float] = []
    lat_no_corner_net: list[float] = []
    lat_flip: list[float] = []
    lat, lat_main, lat_raw, cpu, pre, net, post, post_plain = [], [], [], [], [], [], [], []
    for i in range(repeats):
        f = frames[i % len(frames)]
        c0, t0 = time.process_time(), time.perf_counter()
        det.detect([f])
        lat.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        main_only.detect([f])
        lat_main.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        raw_corners.detect([f])
        lat_raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        unverified.detect([f])
        lat_unverified.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        no_corner_net.detect([f])
        lat_no_corner_net.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        flipped.detect([f])
        lat_flip.append(time.perf_counter() - t0)
        # the same work in parts, for the breakdown
        t0 = time.perf_counter()
        img, lb = letterbox(f, det.input_size)
        x = to_input_tensor([img], det.mean, det.std, rgb=det.rgb)
        t1 = time.perf_counter()
        outs = det.model.run(x)
        t2 = time.perf_counter()
        kw = dict(reg_max=det.reg_max, score_threshold=det.score_threshold, nms_threshold=det.nms_threshold)
        decode_batch(
            *outs,
            [lb],
            det.input_size,
            det.strides,
            vote_iou=det.corner_vote_iou,  # for the record: detect skips voting with a corner network
            vote_min_score=det.corner_vote_min_score,
            **kw,  # type: ignore[arg-type]
        )
        t3 = time.perf_counter()
        decode_batch(*outs, [lb], det.input_size, det.strides, **kw)  # type: ignore[arg-type]
        t4 = time.perf_counter()
        pre.append(t1 - t0)
        net.append(t2 - t1)
        post.append(t3 - t2)
        post_plain.append(t4 - t3)
    batch = frames[:8]
    det.detect(batch)
    tb, tb_main, tb_unverified, tb_flip = [], [], [], []
    for _ in range(max(3, repeats // 8)):
        t0 = time.perf_counter()
        unverified.detect(batch)
        tb_unverified.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        det.detect(batch)
        tb.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        main_only.detect(batch)
        tb_main.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        flipped.detect(batch)
        tb_flip.append(time.perf_counter() - t0)
    ms = lambda v: round(1000 * statistics.median(v), 2)  # noqa: E731
    return {
        "input_size": list(det.input_size),
        "closeup_size": list(det.closeup_size) if det.closeup_size else None,
        "batch1_median_ms": ms(lat),
        "batch1_median_ms_without_closeup_pass": ms(lat_main),
        "batch1_median_ms_without_corner_refinement": ms(lat_raw),
        "batch1_median_ms_without_verifier": ms(lat_unverified),
        "batch1_median_ms_without_corner_net": ms(lat_no_corner_net),
        "batch1_median_ms_with_flip": ms(lat_flip),
        "verifier": str(det.verifier.model.path) if det.verifier is not None else None,
        "corner_net": str(det.corner_net.model.path) if det.corner_net is not None else None,
        "batch1_p90_ms": round(1000 * float(np.percentile(lat, 90)), 2),
        "batch1_cpu_ms": ms(cpu),
        "batch1_letterbox_ms": ms(pre),
        "batch1_network_ms": ms(net),
        "batch1_decode_ms": ms(post),
        "batch1_decode_without_corner_voting_ms": ms(post_plain),
        "batch8_images_per_s": round(8 / statistics.median(tb), 1),
        "batch8_images_per_s_without_closeup_pass": round(8 / statistics.median(tb_main), 1),
        "batch8_images_per_s_without_verifier": round(8 / statistics.median(tb_unverified), 1),
        "batch8_images_per_s_with_flip": round(8 / statistics.median(tb_flip), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", help="detector ONNX (default: shipped weights)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="", help="comma-separated HxW input sizes (default: the model's)")
    ap.add_argument("--repeats", type=int, default=60)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "detector_speed.json"))
    args = ap.parse_args()
    frames, what = _frames(16)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",") if s] or [None]
    rows = [bench(args.model, args.threads, s, frames, args.repeats) for s in sizes]  # type: ignore[arg-type]
    result = {
        "benchmark": "detector_speed",
        "model": args.model or "shipped src/platewise/weights/detector.onnx",
        "threads": args.threads,
        "frames": what,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores",
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "results": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    for r in rows:
        print(r)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
