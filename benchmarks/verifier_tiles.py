"""Would tiles help ordinary frames once the verifier's threshold is chosen with them? On the training side only.

The eighteenth session's probe on the hold-out showed tiles of 960 on 720p-1280 frames finding more of
ro-dashcam's small plates at a lower precision, at the threshold chosen without tiles. This sweeps the shipped
verifier's score threshold on its calibration images (768 training-side images the verifier never trained on; 797
labelled plates plus the calibration audit's) as ``verifier_train --recalibrate`` does (candidate threshold 0.25,
precision floor 0.95 per folder against the labels plus the audit, the shipped corner network), once per tile
size: 0 (no tiles: the shipped setting, as no calibration image is over 1920 pixels) and each of ``--tile-sizes``.

    PYTHONPATH=src python benchmarks/verifier_tiles.py [--tile-sizes 0,960] [--threads 2]
        -> benchmarks/results/verifier_tiles[_T].json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _detect import calibration_args, write_result  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tile-sizes", default="0,960")
    args, root, audit = calibration_args(ap)
    from platewise.detection.verifier_train import calibrate_threshold

    result: dict[str, Any] = {"verifier": args.verifier, "candidate_threshold": 0.25, "rows": {}}
    for t in (int(v) for v in args.tile_sizes.split(",") if v.strip()):
        r = calibrate_threshold(
            None,
            Path(args.verifier),
            root,
            args.threads,
            (0.25,),
            extra=audit,
            min_precision=0.95,
            detector_options={"tile_size": t},
        )
        keep = ("score_threshold", "at", "at_labels", "floor_met", "per_folder", "per_folder_at_labels")
        result["rows"][str(t)] = {k: r[k] for k in keep if k in r}
        print(t, result["rows"][str(t)], flush=True)
    print(f"wrote {write_result('verifier_tiles', args.tag, result)}")


if __name__ == "__main__":
    main()
