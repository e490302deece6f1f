"""Reader training crops straightened as the pipeline straightens them (platewise.ocr.pipeline_crops)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from platewise.ocr.dataset import load_pseudo_dir
from platewise.ocr.pipeline_crops import CROP_H, CROP_W, PlateSpec, main, straightened_views, write_pipeline_crops
from platewise.pipeline.fakes import FakeDetector
from platewise.types import BBox, Corners, Detection


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A dark scene with one white, tilted quadrilateral plate; returns (image, its corners TL TR BR BL)."""
    img = np.full((240, 320, 3), 30, np.uint8)
    q = np.array([[80, 100], [240, 84], [244, 140], [84, 156]], np.float32)
    cv2.fillConvexPoly(img, q.astype(np.int32), (255, 255, 255))
    return img, q


def test_straightened_view_puts_the_plate_where_the_box_says() -> None:
    img, q = _scene()
    box = BBox(float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))
    views = straightened_views(img, Detection(box, Corners.from_array(q), 0.9), context=0.3, refine=False)
    assert [v for v, _, _ in views] == ["rectified"]
    _, crop, (x1, y1, x2, y2) = views[0]
    assert crop.shape == (round(CROP_H * 1.6), round(CROP_W * 1.6), 3)
    # the pipeline's crop is the plate grown by 3%: white inside the plate, dark well outside it
    mx, my = CROP_W * 0.3, CROP_H * 0.3
    assert x1 == pytest.approx(mx - 0.03 * CROP_W) and y2 == pytest.approx(my + 1.03 * CROP_H)
    plate = crop[int(my) + 5 : int(my + CROP_H) - 5, int(mx) + 5 : int(mx + CROP_W) - 5]
    assert plate.mean() > 240
    assert crop[: int(my) - 5].mean() < 40 and crop[:, : int(mx) - 5].mean() < 40


def test_implausible_corners_give_no_view() -> None:
    img, q = _scene()
    box = BBox(80, 84, 244, 156)
    twisted = q[[1, 0, 2, 3]]  # TL and TR swapped: not convex in that order
    assert straightened_views(img, Detection(box, Corners.from_array(twisted), 0.9)) == []
    with pytest.raises(ValueError, match="rectify_pad"):
        straightened_views(img, Detection(box, Corners.from_array(q), 0.9), context=0.02)


def test_written_crops_load_as_a_training_folder(tmp_path: Path) -> None:
    img, q = _scene()
    plate = PlateSpec(BBox(80, 84, 244, 156), "AB123CD", "eu")
    nowhere = PlateSpec(BBox(0, 0, 20, 10), "ZZ999", "eu")  # no detection there: not written
    det = FakeDetector([(80 / 320, 84 / 240, 244 / 320, 156 / 240)])
    st = write_pipeline_crops(tmp_path, det, iter([("s/1", img, [plate, nowhere])]))
    # the box's corners, and those snapped to the tilted plate's edges
    assert st == {"scenes": 1, "plates": 2, "found": 1, "written": 2}
    rows = (tmp_path / "labels.csv").read_text().splitlines()
    assert [r.split(",")[-1] for r in rows[1:]] == ["rectified", "refined"]
    samples = load_pseudo_dir(tmp_path)
    assert [s.text for s in samples] == ["AB123CD", "AB123CD"]
    x1, y1, x2, y2 = samples[1].box
    assert samples[1].image[int(y1) + 8 : int(y2) - 8, int(x1) + 8 : int(x2) - 8].mean() > 200
    # a second call appends, numbering on
    st2 = write_pipeline_crops(tmp_path, det, iter([("s/2", img, [plate])]), start=2)
    assert st2["written"] == 2 and len(load_pseudo_dir(tmp_path)) == 4
    assert (tmp_path / "images" / "000003.png").is_file()


def test_cli_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "x")]) == 2
    assert "--synthetic" in capsys.readouterr().err
    assert main(["--out", str(tmp_path / "x"), "--pseudo", "--min-confidence", "2"]) == 2
    assert "must be in [0, 1]" in capsys.readouterr().err
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "labels.csv").write_text("image\n")
    assert main(["--out", str(tmp_path / "y"), "--synthetic", "1"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["--out", str(tmp_path / "z"), "--synthetic", "1", "--root", str(tmp_path)]) == 2
    assert "no negatives" in capsys.readouterr().err


@pytest.mark.needs_data
def test_training_draws_the_pipeline_crops_as_a_real_folder(data_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from platewise.config import load_config
    from platewise.ocr.config import OcrTrainConfig
    from platewise.ocr.train import train

    img, _ = _scene()
    det = FakeDetector([(80 / 320, 84 / 240, 244 / 320, 156 / 240)])
    plate = PlateSpec(BBox(80, 84, 244, 156), "AB123", "eu")
    write_pipeline_crops(tmp_path / "pipe", det, iter([("s/1", img, [plate])]))
    config = Path(__file__).resolve().parents[2] / "configs" / "ocr" / "ocr_tiny.toml"
    run = tmp_path / "run"
    tc = load_config(
        OcrTrainConfig,
        config,
        [f"--run_dir={run}", f"--data_root={data_root}", f"--pipeline_dir={tmp_path / 'pipe'}", "--pretrain_steps=0"],
    )
    said: list[str] = []
    train(tc, log=said.append)
    counts = next(m for m in said if m.startswith("real train"))
    assert f"'pipeline:{tmp_path / 'pipe'}': 2" in counts
    assert (run / "last.pt").is_file()
