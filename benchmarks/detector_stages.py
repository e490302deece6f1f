"""Where a batch of the default detector's time goes: each stage of ``PlateDetector.detect_raw`` timed on its
own, in the same order and with the same inputs, on 8 ro-dashcam hold-out 1280x720 frames (random frames when
../shared/data is not there).

    PYTHONPATH=src python benchmarks/detector_stages.py [--batch 8] [--repeats 25]

Writes benchmarks/results/detector_stages.json: the median ms per batch of each stage and their sum, and how many
candidates the verifier and plates the corner network and edge snapping saw. The stages call the detector's own
methods; a whole ``detect_raw`` call is timed in each round too, for comparison (``whole_batch_ms``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detector_speed import _frames  # noqa: E402


def main() -> None:
    from platewise.detection.decode import RawDetections, decode_batch
    from platewise.detection.detector import PlateDetector, merge_closeup
    from platewise.detection.preprocess import letterbox, to_input_tensor
    from platewise.detection.refine import blend_boxes, refine_corners_many

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "detector_stages.json"))
    args = ap.parse_args()
    frames, what = _frames(args.batch)
    det = PlateDetector(threads=args.threads, batch_size=args.batch)
    assert det.verifier is not None and det.corner_net is not None and det.closeup_size is not None
    kw = dict(
        reg_max=det.reg_max,
        score_threshold=det.candidate_threshold,
        nms_threshold=det.nms_threshold,
        vote_iou=0.0,  # as detect_raw with a corner network: it replaces the corners
        vote_min_score=det.corner_vote_min_score,
    )
    times: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = {}
    clock = [0.0]

    def lap(name: str) -> None:
        now = time.perf_counter()
        if name:
            times[name].append(now - clock[0])
        clock[0] = now

    whole: list[float] = []
    for rep in range(args.repeats + 2):
        if rep == 2:  # two warm-up rounds
            times.clear()
            whole.clear()
        lap("")
        chunk = [det._check(im, False) for im in frames]
        boxed = [letterbox(im, det.input_size) for im in chunk]
        x = to_input_tensor([b[0] for b in boxed], det.mean, det.std, rgb=det.rgb)
        lap("letterbox and tensor, main pass")
        outs = det.model.run(x)
        lap("network, main pass")
        found = decode_batch(*outs, [b[1] for b in boxed], det.input_size, det.strides, **kw)  # type: ignore[arg-type]
        lap("decode, main pass")
        small = [det._shrink(im, b, det.input_size, det.closeup_size) for im, b in zip(chunk, boxed, strict=True)]
        x = to_input_tensor([b[0] for b in small], det.mean, det.std, rgb=det.rgb)
        lap("letterbox and tensor, close-up pass")
        outs = det.model.run(x)
        lap("network, close-up pass")
        close = decode_batch(*outs, [b[1] for b in small], det.closeup_size, det.strides, **kw)  # type: ignore[arg-type]
        found = [
            merge_closeup(f, c, im.shape[:2], det.closeup_min_width, det.nms_threshold)
            for f, c, im in zip(found, close, chunk, strict=True)
        ]
        lap("decode and merge, close-up pass")
        counts["verifier_candidates"] = sum(len(f.scores) for f in found)
        found = det._verify(chunk, found)
        found = [det._uncontained(f) for f in found]
        lap("verifier (crops, network, rescoring) and nested-box suppression")
        counts["plates"] = sum(len(f.scores) for f in found)
        corners = det.corner_net.predict_many(chunk, [f.boxes for f in found])
        lap("corner network (crops and network)")
        refined = refine_corners_many(chunk, corners)
        lap("edge snapping")
        found = [
            RawDetections(blend_boxes(f.boxes, c, det.box_blend), c, f.scores)
            for f, c in zip(found, refined, strict=True)
        ]
        lap("box blending")
        t = time.perf_counter()  # the whole call, in the same round: the machine's speed drifts
        det.detect_raw(frames)
        whole.append(time.perf_counter() - t)
    stages = {k: round(1000 * statistics.median(v), 2) for k, v in times.items()}
    result = {
        "benchmark": "detector_stages",
        "frames": what,
        "batch": args.batch,
        "threads": args.threads,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores",
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "stage_ms_per_batch": stages,
        "sum_of_stages_ms": round(sum(stages.values()), 2),
        "whole_batch_ms": round(1000 * statistics.median(whole), 2),
        **counts,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
