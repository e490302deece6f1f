"""What the end-to-end benchmarks share: the pipeline's command-line options and the pipeline built from them.

from _pipeline import add_pipeline_args, build_alpr   # benchmarks/ is on sys.path when a script runs
add_pipeline_args(ap, scenes=True)                    # --detector --verifier --corner-net --reader ...
alpr = build_alpr(args, corner_refine=False)          # platewise.ALPR with those, plus any keyword
"""

from __future__ import annotations

import argparse
from typing import Any

from platewise.detection.decode import FLIP_FUSIONS


def add_pipeline_args(
    ap: argparse.ArgumentParser,
    *,
    scenes: bool = False,
    detector_required: bool = False,
    threads: int | None = None,
) -> None:
    """``--detector --verifier --corner-net --reader --threads --tag``, and with ``scenes`` the synthetic
    hold-out scenes' ``--n --seed`` (``platewise.detection.dataset.holdout_synthetic_scenes``)."""
    ap.add_argument("--detector", required=detector_required, help="detector ONNX (default: shipped)")
    ap.add_argument("--verifier", help="ALPR(detector_verifier=): on, off or an ONNX file (default: the pipeline's)")
    ap.add_argument("--corner-net", help="ALPR(detector_corner_net=): on, off or an ONNX file (default: pipeline)")
    ap.add_argument("--reader", help="reader ONNX (default: shipped)")
    ap.add_argument("--candidate-threshold", type=float, help="ALPR(detector_candidate_threshold=) (default: 0.25)")
    ap.add_argument(
        "--detector-threshold",
        type=float,
        help="ALPR(detector_threshold=) (default: the pipeline's: the verifier's pipeline_threshold)",
    )
    ap.add_argument("--flip", choices=FLIP_FUSIONS, help="ALPR(detector_flip=): the test-time flip (default: off)")
    ap.add_argument("--threads", type=int, default=threads)
    ap.add_argument("--tag", default="", help="suffix of the result file")
    if scenes:
        ap.add_argument("--n", type=int, default=300, help="scenes")
        ap.add_argument("--seed", type=int, default=12345)


def build_alpr(args: argparse.Namespace, **kw: Any) -> Any:
    """``platewise.ALPR`` with the options of :func:`add_pipeline_args` and the keyword arguments ``kw``."""
    from platewise.cli._inputs import detector_companions
    from platewise.pipeline.alpr import ALPR

    kw.update(detector_companions(args.verifier, args.corner_net))
    if args.candidate_threshold is not None:
        kw["detector_candidate_threshold"] = args.candidate_threshold
    if args.detector_threshold is not None:
        kw["detector_threshold"] = args.detector_threshold
    if args.flip:
        kw["detector_flip"] = args.flip
    return ALPR(detector_path=args.detector, reader_path=args.reader, threads=args.threads, **kw)
