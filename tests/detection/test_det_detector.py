from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from platewise.detection.detector import DEFAULT_WEIGHTS, PlateDetector
from platewise.errors import InvalidImage, InvalidInput, ModelNotFound
from platewise.types import Detection


@pytest.fixture(scope="module")
def det(tiny_onnx: Path) -> PlateDetector:
    return PlateDetector(tiny_onnx, threads=1, score_threshold=0.3)


def test_detect_returns_one_list_per_image_in_original_pixels(det: PlateDetector) -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), rng.integers(0, 255, (50, 90, 3), dtype=np.uint8)]
    out = det.detect(images)
    assert len(out) == 2
    for img, dets in zip(images, out, strict=False):
        h, w = img.shape[:2]
        for d in dets:
            assert isinstance(d, Detection)
            assert 0 <= d.box.x1 <= d.box.x2 <= w
            assert 0 <= d.box.y1 <= d.box.y2 <= h
            pts = d.corners.as_array()
            assert pts.shape == (4, 2)
            assert (pts[:, 0] <= w).all()
            assert (pts[:, 1] <= h).all()
            assert 0.3 <= d.score <= 1.0


def test_detect_batches_larger_than_the_batch_size(tiny_onnx: Path) -> None:
    d = PlateDetector(tiny_onnx, threads=1, batch_size=2)
    assert len(d.detect([np.zeros((40, 60, 3), np.uint8)] * 5)) == 5


def test_detect_accepts_grayscale_rgba_and_rgb(det: PlateDetector) -> None:
    assert len(det.detect([np.zeros((64, 64), np.uint8)])) == 1
    assert len(det.detect([np.zeros((64, 64, 4), np.uint8)])) == 1
    assert len(det.detect([np.zeros((64, 64, 3), np.uint8)], rgb=True)) == 1


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros((1, 1, 3), np.uint8), "too small"),
        (np.zeros((20000, 20000, 3), np.uint8), "pixel limit"),  # np.zeros does not touch the memory
        (np.zeros((64, 64, 3), np.float32), "uint8"),
        (np.zeros((64, 64, 2), np.uint8), "shape"),
        ("not an image", "numpy array"),
    ],
)
def test_detect_rejects_bad_images_with_a_clear_message(det: PlateDetector, image: object, match: str) -> None:
    with pytest.raises(InvalidImage, match=match):
        det.detect([image])  # type: ignore[list-item]


def test_detect_asks_for_a_list_when_given_one_array(det: PlateDetector) -> None:
    with pytest.raises(InvalidInput, match="list"):
        det.detect(np.zeros((64, 64, 3), np.uint8))


def test_input_size_must_be_a_multiple_of_the_largest_stride(tiny_onnx: Path) -> None:
    with pytest.raises(InvalidInput, match="multiples"):
        PlateDetector(tiny_onnx, input_size=(100, 100))
    assert PlateDetector(tiny_onnx, input_size=(96, 160)).input_size == (96, 160)


def test_missing_model_file_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound):
        PlateDetector(tmp_path / "nope.onnx")


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="no shipped detector weights")
def test_shipped_detector_runs_without_importing_torch() -> None:
    code = (
        "import sys, numpy as np\n"
        "from platewise.detection.detector import PlateDetector\n"
        "d = PlateDetector()\n"
        "out = d.detect([np.zeros((720, 1280, 3), np.uint8)])\n"
        "assert len(out) == 1 and d.input_size[0] % 32 == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_corner_voting_settings_are_checked(tiny_onnx: Path) -> None:
    assert PlateDetector(tiny_onnx).corner_vote_iou == pytest.approx(0.7)  # on by default
    with pytest.raises(InvalidInput, match="corner_vote"):
        PlateDetector(tiny_onnx, corner_vote_iou=1.5)
