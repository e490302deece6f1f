"""``benchmarks/detect_paired.py``: two detectors compared plate by plate and image by image."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _module() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("detect_paired", BENCH / "detect_paired.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(BENCH))
    return mod


def test_judge_finds_plates_and_counts_false_detections_outside_the_ignored_boxes() -> None:
    m = _module()
    plates = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], np.float32)
    unsure = np.array([[50, 50, 60, 60]], np.float32)
    boxes = np.array([[0, 0, 10, 10], [50, 50, 60, 61], [80, 80, 90, 90], [0, 0, 10, 11]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    found, false = m.judge(boxes, scores, plates, unsure)
    # the duplicate of the first plate is false; the detection on the unsure box is neither found nor false
    assert found.tolist() == [True, False] and false == 2
    found, false = m.judge(boxes, scores, plates, np.zeros((0, 4), np.float32))
    assert false == 3


def test_compare_side_counts_each_way_with_a_sign_test() -> None:
    m = _module()
    pairs = [
        ("a#0", True, True),
        ("a#1", True, False),
        ("b#0", False, True),
        ("c#0", True, False),
        ("d#0", False, False),
    ]
    out = m.compare_side(pairs, [(0, 1), (2, 0), (1, 1)])
    assert out["plates"] == 5 and out["found_a"] == 3 and out["found_b"] == 2
    assert out["only_a"] == ["a#1", "c#0"] and out["only_b"] == ["b#0"]
    assert out["found_sign_test_p"] == pytest.approx(1.0)  # 2 * (1 + 3) / 8, capped at 1
    assert out["false_a"] == 3 and out["false_b"] == 2
    assert out["images_more_false_a"] == 1 and out["images_more_false_b"] == 1


def test_the_audit_file_reads_into_plate_and_unsure_boxes() -> None:
    m = _module()
    audit = m.read_audit()
    key = "openalpr-dev/us/car14.jpg"
    assert key in audit
    assert audit[key]["plate"].shape[1] == 4 and len(audit[key]["plate"]) >= 1
    x1, y1, x2, y2 = audit[key]["plate"][0]
    assert x2 > x1 and y2 > y1
