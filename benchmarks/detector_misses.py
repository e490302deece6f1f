"""The hold-out plates the detector misses at its threshold, and why: for each, its width in the letterboxed
input, the best IoU of any detection (down to score 0.05) and that detection's score. A plate found with
IoU >= 0.5 but scored under the threshold is a scoring miss; one with no overlapping detection a true miss.

    PYTHONPATH=src python benchmarks/detector_misses.py [--model F.onnx] -> benchmarks/results/detector_misses.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

FOLDERS = ("openlpr-scenes", "ro-dashcam", "openalpr-dev")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="detector ONNX (default: shipped)")
    args = ap.parse_args()

    from platewise.data.sources import default_data_root, read_scenes_csv
    from platewise.data.splits import is_holdout
    from platewise.detection.detector import PlateDetector
    from platewise.detection.evaluate import box_iou_matrix
    from platewise.imageio import load_image

    root = default_data_root()
    det = PlateDetector(args.model, threads=2, score_threshold=0.05, verifier=False)  # the network alone
    thr = det.default_threshold
    h_in, w_in = det.input_size
    out: dict[str, Any] = {"threshold": thr}
    for folder in FOLDERS:
        samples = [s for s in read_scenes_csv(root / folder / "labels.csv") if is_holdout(s.key)]
        plates, misses = 0, []
        for s in samples:
            img = load_image(s.path)
            scale = min(w_in / img.shape[1], h_in / img.shape[0])
            raw = det.detect_raw([img])[0]
            gt = np.array([b.as_list() for b in s.boxes], np.float32).reshape(-1, 4)
            iou = box_iou_matrix(gt, raw.boxes) if len(raw.boxes) else np.zeros((len(gt), 0))
            for g in range(len(gt)):
                plates += 1
                if iou.shape[1] and ((iou[g] >= 0.5) & (raw.scores >= thr)).any():
                    continue
                j = int(iou[g].argmax()) if iou.shape[1] else -1
                misses.append(
                    {
                        "image": s.key,
                        "width_letterboxed": round(float((gt[g, 2] - gt[g, 0]) * scale), 1),
                        "best_iou": round(float(iou[g, j]), 3) if j >= 0 else 0.0,
                        "its_score": round(float(raw.scores[j]), 3) if j >= 0 else 0.0,
                    }
                )
        scoring = sum(m["best_iou"] >= 0.5 for m in misses)
        out[folder] = {"plates": plates, "missed": len(misses), "found_with_iou_0.5_below_threshold": scoring}
        out[folder]["misses"] = misses
        print(f"{folder}: {plates} plates, {len(misses)} missed, {scoring} of them found at IoU >= 0.5 below {thr}")
    path = Path(__file__).parent / "results" / "detector_misses.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
