"""Plate reader speed with ONNX Runtime: median ms per plate at batch 1, plates/s at batch 32.

    PYTHONPATH=src python benchmarks/ocr_speed.py [--model FILE.onnx] [--threads 2] [--out FILE.json]

Both are measured through ``PlateReader.read`` on real hold-out crops (preprocessing: resize + normalize;
decoding with top-3 candidates included; the default test-time views: crops read with confidence under 0.9
are read twice more and fused), through ``read`` without those views and with them for every crop (the worst
case), and through ``read_prepared`` on crops already at the input size (what the pipeline calls). The share
of crops read again is reported too: it depends on the crops (the reader is surer of its training crops).
Writes a JSON file with the numbers (medians, and the best run of each: what the model costs when other
processes leave the cores alone) and the machine, with its 1-minute load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from platewise.ocr.reader import PlateReader  # noqa: E402


def _crops(n: int) -> list[np.ndarray]:
    from platewise.data.sources import default_data_root, read_crops_csv
    from platewise.imageio import load_image

    root = default_data_root()
    out: list[np.ndarray] = []
    from platewise.data.splits import is_holdout

    for folder in ("openalpr-crops", "br-crops", "cn-crops"):
        p = root / folder / "labels.csv"
        if p.is_file():
            out += [load_image(c.path) for c in read_crops_csv(p) if is_holdout(c.key)][: n // 3 + 1]
    if not out:
        rng = np.random.default_rng(0)
        out = [rng.integers(0, 255, (80, 200, 3), dtype=np.uint8) for _ in range(n)]
    return out[:n]


def _times_ms(fn, reps: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(median, min) wall time of ``fn`` in ms; the min shows the cost without other processes' noise."""
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return 1000.0 * statistics.median(ts), 1000.0 * min(ts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "ocr_speed.json"))
    args = ap.parse_args()

    reader = PlateReader(args.model, threads=args.threads, top_n=3)
    crops = _crops(256)
    h, w = reader.input_size
    import cv2

    prepared = np.stack([cv2.resize(c, (w, h)) for c in crops])
    for i in range(20):  # warm-up
        reader.read([crops[i]])
        reader.read(crops[:32])
    it = iter(range(10**9))
    b1_read, b1_read_min = _times_ms(lambda: reader.read([crops[next(it) % len(crops)]]), args.reps)
    b1_prep, b1_prep_min = _times_ms(lambda: reader.read_prepared(prepared[next(it) % len(crops)][None]), args.reps)
    reps32 = max(20, args.reps // 5)
    b32_read, b32_read_min = _times_ms(lambda: reader.read(crops[(k := (next(it) % 7) * 32) : k + 32]), reps32)
    b32_prep, b32_prep_min = _times_ms(
        lambda: reader.read_prepared(prepared[(k := (next(it) % 7) * 32) : k + 32]), reps32
    )
    reread = 0
    for k in range(0, 7 * 32, 32):
        reader.read(crops[k : k + 32])
        reread += reader.last_reread
    plain = PlateReader(args.model, threads=args.threads, top_n=3, tta=False)
    every = PlateReader(args.model, threads=args.threads, top_n=3, tta_below=1.01)
    b1_plain, _ = _times_ms(lambda: plain.read([crops[next(it) % len(crops)]]), args.reps)
    b32_plain, _ = _times_ms(lambda: plain.read(crops[(k := (next(it) % 7) * 32) : k + 32]), reps32)
    b1_every, _ = _times_ms(lambda: every.read([crops[next(it) % len(crops)]]), args.reps)
    b32_every, _ = _times_ms(lambda: every.read(crops[(k := (next(it) % 7) * 32) : k + 32]), reps32)
    # where batch-32 time goes: the network alone, and decoding alone (top-3 candidates / text only)
    from platewise.ocr.decode import decode_logits
    from platewise.ocr.preprocess import normalize_batch

    x32 = normalize_batch(prepared[:32], reader.mean, reader.std)
    (logits32,) = reader.model.run(x32)
    net32, _ = _times_ms(lambda: reader.model.run(x32), reps32)
    dec32, _ = _times_ms(lambda: decode_logits(logits32, reader.alphabet, reader.head, 3), reps32)
    dec32_0, _ = _times_ms(lambda: decode_logits(logits32, reader.alphabet, reader.head, 0), reps32)
    res = {
        "model": str(reader.model.path.name),
        "model_mb": round(reader.model.path.stat().st_size / 1e6, 2),
        "input_size": list(reader.input_size),
        "head": reader.head,
        "threads": args.threads,
        "batch1_ms_per_plate_read": round(b1_read, 3),
        "batch1_ms_per_plate_prepared": round(b1_prep, 3),
        "batch32_plates_per_s_read": round(32 * 1000 / b32_read, 1),
        "batch32_plates_per_s_prepared": round(32 * 1000 / b32_prep, 1),
        "tta_share_read_again": round(reread / (7 * 32), 3),
        "batch1_ms_per_plate_read_no_tta": round(b1_plain, 3),
        "batch32_plates_per_s_read_no_tta": round(32 * 1000 / b32_plain, 1),
        "batch1_ms_per_plate_read_tta_every_crop": round(b1_every, 3),
        "batch32_plates_per_s_read_tta_every_crop": round(32 * 1000 / b32_every, 1),
        "best_of_runs": {
            "batch1_ms_per_plate_read": round(b1_read_min, 3),
            "batch1_ms_per_plate_prepared": round(b1_prep_min, 3),
            "batch32_plates_per_s_read": round(32 * 1000 / b32_read_min, 1),
            "batch32_plates_per_s_prepared": round(32 * 1000 / b32_prep_min, 1),
        },
        "batch32_breakdown_ms": {
            "network": round(net32, 2),
            "decode_top3": round(dec32, 2),
            "decode_text_only": round(dec32_0, 2),
        },
        "targets": {"batch1_ms_per_plate": 2.0, "batch32_plates_per_s": 1500},
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1min": round(os.getloadavg()[0], 2),
        },
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
