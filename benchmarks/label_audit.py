"""Hold-out detection accuracy against the given labels and against labels completed by a by-eye audit.

The scene folders label some plates and not others ("Some scenes show more plates than are labelled",
``../shared/data/README.md``): a detection of an unlabelled plate counts as false, and a missed unlabelled plate
is not counted at all. ``benchmarks/label_audit/holdout_unlabelled.csv`` lists what a look at the hold-out
images found (ninth session): every candidate of the detector's network alone (``PlateDetector(verifier=False)``,
score >= 0.2, after NMS) whose box overlaps no labelled plate by IoU 0.3 or more, 934 crops in all, each looked
at with its surroundings and marked ``plate`` (a registration plate, readable or not), ``unsure`` or, not
listed, not a plate (lights, badges, signs, watermarks, stickers, dealer inserts). Boxes are the network's
candidate boxes, so they are approximate. Plates that no candidate scored 0.2 or more for are not in the list:
the audit can only add plates the network proposed, so the audited recall is an upper bound.

Three evaluations per folder (``platewise eval detect --holdout --json``, same detector and thresholds):
``labels`` (the folders' labels, the official figures), ``audited`` (labels plus the ``plate`` rows) and
``audited_with_unsure`` (plus the ``unsure`` rows too).

    PYTHONPATH=src python benchmarks/label_audit.py [--verifier on|off|FILE] [--score-threshold T] [--tag NAME]
        -> benchmarks/results/detect_audited[_NAME].json
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from platewise.detection.decode import FLIP_FUSIONS

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "benchmarks" / "label_audit" / "holdout_unlabelled.csv"
FOLDERS = ("openlpr-scenes", "ro-dashcam", "openalpr-dev")
KEYS = ("plates", "recall50", "precision50", "recall70", "precision70", "ap50", "detections_per_image")


def merged_labels(folder: Path, extra: list[dict[str, str]], out: Path) -> None:
    """The folder's labels.csv with the ``extra`` audit rows added (as plates with unknown text)."""
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))  # an empty-box row (an image without plates) is skipped by the reader
    rows += [{**{k: e[k] for k in ("image", "region", "x", "y", "w", "h")}, "plate": ""} for e in extra]
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["image", "region", "x", "y", "w", "h", "plate"])
        w.writeheader()
        w.writerows({k: r.get(k, "") for k in w.fieldnames} for r in rows)


def evaluate(labels: Path, root: Path, extra_args: list[str]) -> dict[str, float]:
    cmd = [
        sys.executable,
        "-m",
        "platewise",
        "eval",
        "detect",
        "--labels",
        str(labels),
        "--root",
        str(root),
        "--holdout",
        "--json",
        *extra_args,
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    overall = json.loads(out)["overall"]
    return {k: round(float(overall[k]), 4) for k in KEYS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="default: ../shared/data")
    ap.add_argument("--detector", help="the detector's ONNX file (default: the shipped one)")
    ap.add_argument("--verifier", help="on|off|FILE.onnx (default: the shipped detector's default)")
    ap.add_argument("--corner-net", help="on|off|FILE.onnx (default: the shipped detector's default)")
    ap.add_argument("--score-threshold", type=float, help="operating threshold (default: the detector's)")
    ap.add_argument("--tile-size", type=int, help="the detector's tiles (default: its default)")
    ap.add_argument("--flip", choices=FLIP_FUSIONS, help="the detector's test-time flip (default: off)")
    ap.add_argument("--tag", default="", help="suffix of the result file")
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"no data at {data}: pass --data DIR", file=sys.stderr)
        return 2
    with AUDIT.open(newline="", encoding="utf-8") as fh:
        audit = list(csv.DictReader(fh))
    extra_args = ["--model", args.detector] if args.detector else []
    extra_args += ["--verifier", args.verifier] if args.verifier else []
    extra_args += ["--corner-net", args.corner_net] if args.corner_net else []
    if args.score_threshold is not None:
        extra_args += ["--score-threshold", str(args.score_threshold)]
    if args.tile_size is not None:
        extra_args += ["--tile-size", str(args.tile_size)]
    if args.flip:
        extra_args += ["--flip", args.flip]
    result: dict[str, object] = {
        "audit_file": str(AUDIT.relative_to(ROOT)),
        "detector": args.detector or "shipped",
        "verifier": args.verifier or "default",
        "score_threshold": args.score_threshold if args.score_threshold is not None else "default",
        "tile_size": args.tile_size if args.tile_size is not None else "default",
        "flip": args.flip,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for f in FOLDERS:
            rows = [r for r in audit if r["folder"] == f]
            variants = {
                "labels": [],
                "audited": [r for r in rows if r["verdict"] == "plate"],
                "audited_with_unsure": rows,
            }
            per: dict[str, object] = {
                "added_plate": len(variants["audited"]),
                "added_unsure": len(rows) - len(variants["audited"]),
            }
            for name, extra in variants.items():
                labels = Path(tmp) / f"{f}_{name}.csv"
                merged_labels(data / f, extra, labels)
                per[name] = evaluate(labels, data / f, extra_args)
                print(f, name, per[name], flush=True)
            result[f] = per
    out = ROOT / "benchmarks" / "results" / f"detect_audited{'_' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
