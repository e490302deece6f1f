"""What the detection benchmarks share: the three labelled scene folders, the detector's command-line
options and the detector built from them, one side of a folder with its boxes, F1 added to the summaries, and
the result file.

    from _detect import FOLDERS, add_detector_args, add_sweep, build_detector, scenes, summarize_f1
    from _detect import write_result, write_sweep
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from platewise.detection.decode import FLIP_FUSIONS

FOLDERS = ("openlpr-scenes", "ro-dashcam", "openalpr-dev")


def add_detector_args(ap: argparse.ArgumentParser) -> None:
    """``--detector --verifier --corner-net --threads --tile-size --flip --tag``."""
    ap.add_argument("--detector", help="detector ONNX (default: shipped)")
    ap.add_argument("--verifier", help="on, off or an ONNX file (default: the detector's)")
    ap.add_argument("--corner-net", help="on, off or an ONNX file (default: the detector's)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--tile-size", type=int, default=None, help="the detector's tiles (default: its default)")
    ap.add_argument("--flip", choices=FLIP_FUSIONS, help="the detector's test-time flip (default: off)")
    ap.add_argument("--tag", default="", help="suffix of the result file")


def build_detector(args: argparse.Namespace, **kw: Any) -> Any:
    """``PlateDetector`` with the options of :func:`add_detector_args`, scoring down to 0.05 (as ``platewise
    eval detect``, for AP), plus the keyword arguments ``kw``."""
    from platewise.cli._inputs import on_off_or_file
    from platewise.detection.detector import PlateDetector

    if getattr(args, "tile_size", None) is not None:
        kw.setdefault("tile_size", args.tile_size)
    if getattr(args, "flip", None):
        kw.setdefault("flip", args.flip)

    return PlateDetector(
        args.detector,
        threads=args.threads,
        score_threshold=0.05,
        verifier=None if args.verifier is None else on_off_or_file(args.verifier),
        corner_net=None if args.corner_net is None else on_off_or_file(args.corner_net),
        **kw,
    )


def scenes(folder: str, holdout: bool) -> Iterator[tuple[Any, npt.NDArray[np.float32]]]:
    """(scene sample, its labelled boxes (K,4) xyxy) for one side of ``folder``."""
    from platewise.data.sources import default_data_root, iter_holdout, read_scenes_csv

    labels = Path(default_data_root()) / folder / "labels.csv"
    for s in iter_holdout(read_scenes_csv(labels), holdout):
        yield s, np.array([b.as_list() for b in s.boxes], np.float32).reshape(-1, 4)


def summarize_f1(counts: dict[str, Any]) -> dict[str, dict[str, float | int]]:
    """``platewise.detection.evaluate.summarize`` of ``{group: DetectionCounts}``, with F1 at IoU 0.5 added."""
    from platewise.detection.evaluate import summarize

    m = summarize(counts.items())
    for v in m.values():
        r, p = float(v["recall50"]), float(v["precision50"])
        v["f1"] = round(2 * r * p / (r + p), 4) if r + p else 0.0
    return m


def f1_line(label: str, m: dict[str, dict[str, float | int]]) -> str:
    """One printed line of :func:`summarize_f1`'s groups."""
    return f"{label}: " + "  ".join(f"{f} R {v['recall50']} P {v['precision50']} F1 {v['f1']}" for f, v in m.items())


CALIBRATION_AUDIT = Path(__file__).parent / "label_audit" / "calibration_unlabelled.csv"


def calibration_args(ap: argparse.ArgumentParser) -> tuple[argparse.Namespace, Path, dict[str, Any]]:
    """``--verifier --threads --tag`` added and parsed, for the scripts that sweep the verifier's calibration
    images; returns the arguments, the data root and the calibration audit's plates (``read_audit``)."""
    from platewise.data.sources import default_data_root
    from platewise.detection.dataset import read_audit

    ap.add_argument("--verifier", default="src/platewise/weights/verifier.onnx")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tag", default="")
    return ap.parse_args(), Path(default_data_root()), read_audit(CALIBRATION_AUDIT)


def write_result(stem: str, tag: str, result: dict[str, Any]) -> Path:
    """``benchmarks/results/<stem>[_<tag>].json``; returns its path."""
    path = Path(__file__).parent / "results" / f"{stem}{'_' + tag if tag else ''}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    return path


def add_sweep(result: dict[str, Any], counts: dict[Any, dict[str, Any]]) -> None:
    """For a sweep's ``{value: {group: DetectionCounts}}``: each value's :func:`summarize_f1` into ``result``
    (keyed ``f"{value:g}"``, or the value itself when it is a string) and printed."""
    for v, c in counts.items():
        key = v if isinstance(v, str) else f"{v:g}"
        result[key] = m = summarize_f1(c)
        print(f1_line(key, m))


def write_sweep(stem: str, tag: str, result: dict[str, Any], counts: dict[Any, dict[str, Any]]) -> None:
    """:func:`add_sweep`, then the result file written (:func:`write_result`)."""
    add_sweep(result, counts)
    print(f"wrote {write_result(stem, tag, result)}")
