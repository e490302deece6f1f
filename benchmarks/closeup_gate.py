"""Could the close-up pass be skipped where it would change nothing? For every image of the three labelled scene
folders (both sides: no weights are chosen here), the default detector's main pass and close-up pass are run as
``PlateDetector`` runs them, and the image counts as changed when merging the close-up plates changes the main
pass's candidates (``merge_closeup``). Two cheap signals from the main pass are then tried as gates (run the
close-up pass only where the signal is at or above a level): the widest main-pass candidate, as a share of the
image's longer side, and the highest stride-32 score of the network. A gate is of use only if it misses no
changed image and still skips the pass on most images.

    PYTHONPATH=src python benchmarks/closeup_gate.py [--out benchmarks/results/closeup_gate.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _detect import FOLDERS, scenes  # noqa: E402

WIDTH_GATES = (0.05, 0.1, 0.15, 0.2, 0.3)
SCORE_GATES = (0.03, 0.05, 0.07, 0.1, 0.15)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "closeup_gate.json"))
    args = ap.parse_args()

    from platewise.detection.detector import PlateDetector, merge_closeup
    from platewise.detection.preprocess import letterbox, to_input_tensor
    from platewise.imageio import load_image

    det = PlateDetector(batch_size=8)
    size, closeup = det.input_size, det.closeup_size
    assert closeup is not None
    h, w = size
    n8, n16 = (h // 8) * (w // 8), (h // 16) * (w // 16)  # anchors of strides 8 and 16; stride 32's follow
    rows = []
    for folder in FOLDERS:
        samples = [s for side in (False, True) for s, _ in scenes(folder, holdout=side)]
        for start in range(0, len(samples), 8):
            part = samples[start : start + 8]
            images = [det._check(load_image(s.path), False) for s in part]
            boxed = [letterbox(im, size) for im in images]
            main_found = det._run(boxed, size)
            close = det._run([det._shrink(im, b, size, closeup) for im, b in zip(images, boxed, strict=True)], closeup)
            raw_scores = det.model.run(to_input_tensor([b[0] for b in boxed], det.mean, det.std, rgb=det.rgb))[0]
            for image, f, c, sc in zip(images, main_found, close, raw_scores, strict=True):
                merged = merge_closeup(f, c, image.shape[:2], det.closeup_min_width, det.nms_threshold)
                same = np.array_equal(merged.boxes, f.boxes) and np.array_equal(merged.scores, f.scores)
                longer = max(image.shape[:2])
                widest = float(((f.boxes[:, 2] - f.boxes[:, 0]) / longer).max()) if len(f.scores) else 0.0
                rows.append(
                    {"folder": folder, "changed": not same, "widest": widest, "s32": float(sc[n8 + n16 :].max())}
                )
        print(folder, sum(r["folder"] == folder for r in rows), "images", flush=True)

    changed = [r for r in rows if r["changed"]]

    def gate(key: str, levels: tuple[float, ...]) -> list[dict[str, object]]:
        out = []
        for level in levels:
            runs = {f: round(float(np.mean([r[key] >= level for r in rows if r["folder"] == f])), 3) for f in FOLDERS}
            missed = sum(r[key] < level for r in changed)
            out.append({"level": level, "changed_images_missed": missed, "share_of_images_still_run": runs})
        return out

    res = {
        "benchmark": "closeup_gate",
        "images": {f: sum(r["folder"] == f for r in rows) for f in FOLDERS},
        "changed_images": {f: sum(r["folder"] == f for r in changed) for f in FOLDERS},
        "changed_widest_main_candidate": sorted(round(r["widest"], 3) for r in changed),
        "changed_stride32_max_score": sorted(round(r["s32"], 3) for r in changed),
        "gate_widest_main_candidate": gate("widest", WIDTH_GATES),
        "gate_stride32_max_score": gate("s32", SCORE_GATES),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: res[k] for k in ("images", "changed_images")}))
    for g in res["gate_widest_main_candidate"] + res["gate_stride32_max_score"]:
        print(g)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
