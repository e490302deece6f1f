from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from platewise.config import load_config  # noqa: E402
from platewise.detection.config import DetectorTrainConfig  # noqa: E402
from platewise.detection.train import load_trained, train  # noqa: E402

SMOKE = Path(__file__).resolve().parents[2] / "configs" / "detector" / "smoke.toml"


def _cfg(tmp_path: Path, data_root: Path, *extra: str) -> DetectorTrainConfig:
    return load_config(
        DetectorTrainConfig,
        SMOKE,
        [
            f"--run_dir={tmp_path}",
            f"--data_root={data_root}",
            "--train_size=128",
            "--batch_size=2",
            "--log_every=1",
            "--warmup_steps=1",
            "--scene_folders=ro-dashcam",
            *extra,
        ],
    )


def test_smoke_training_checkpoints_and_resumes_with_the_new_learning_rate(data_root: Path, tmp_path: Path) -> None:
    last = train(_cfg(tmp_path, data_root, "--steps=2", "--lr=0.002"))
    assert last.is_file()
    assert load_trained(last).cfg.name == "detector_tiny"
    resumed = _cfg(tmp_path, data_root, "--steps=4", "--lr=0.0005", f"--resume={last}")
    train(resumed)
    recs = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    by_step = {r["step"]: r["lr"] for r in recs if "lr" in r and "event" not in r}
    assert sorted(by_step) == [1, 2, 3, 4]
    assert by_step[2] == pytest.approx(0.002)
    # the optimizer state of the first run must not bring its learning rate back
    assert by_step[3] == pytest.approx(0.0005) and by_step[4] == pytest.approx(0.0005)


def test_collate_pads_boxes_and_ignore_regions() -> None:
    from platewise.detection.train import collate

    img = np.zeros((8, 8, 3), np.uint8)
    box = np.array([[1, 1, 4, 3]], np.float32)
    corners = np.zeros((1, 4, 2), np.float32)
    items = [
        (img, box, corners, np.array([False]), np.array([[0, 0, 2, 2], [4, 4, 6, 6]], np.float32)),
        (img, box[:0], corners[:0], np.zeros(0, bool), np.zeros((0, 4), np.float32)),
        (img, box, corners, np.array([True])),  # an item without ignore regions
    ]
    b = collate(items)
    assert b["images"].shape == (3, 8, 8, 3)
    assert b["boxes"].shape == (3, 1, 4) and b["valid"].tolist() == [[True], [False], [True]]
    assert b["has_corners"].tolist() == [[False], [False], [True]]
    assert b["ignore"].shape == (3, 2, 4)
    assert b["ignore_valid"].tolist() == [[True, True], [False, False], [False, False]]
    assert b["ignore"][0, 1].tolist() == [4, 4, 6, 6]


def test_training_with_a_label_audit_runs_and_a_cache_refuses_one(data_root: Path, tmp_path: Path) -> None:
    from platewise.errors import InvalidInput

    audit = tmp_path / "audit.csv"
    audit.write_text(
        "folder,image,region,x,y,w,h,verdict\n"
        "ro-dashcam,images/train/dayride_type1_001_t1054.jpg,ro,100,100,60,16,plate\n"
        "ro-dashcam,images/train/dayride_type1_001_t1054.jpg,ro,300,100,60,16,unsure\n"
    )
    assert train(_cfg(tmp_path / "run", data_root, "--steps=2", f"--audit={audit}")).is_file()
    with pytest.raises(InvalidInput, match="audit"):
        train(_cfg(tmp_path / "run2", data_root, "--steps=1", f"--audit={audit}", f"--cache={tmp_path / 'c.pkl'}"))


def test_resume_keeps_the_reached_learning_rate_unless_restart_lr(data_root: Path, tmp_path: Path) -> None:
    """A checkpoint whose plateau drops brought the learning rate to lr x 0.1 resumes at that rate; with
    restart_lr it starts again from the config's lr (the shipped checkpoint is at x 0.008)."""
    from platewise.training.checkpoint import load_checkpoint, save_checkpoint

    last = train(_cfg(tmp_path / "a", data_root, "--steps=1"))
    ck = load_checkpoint(last)
    ck["lr_scale"] = 0.1
    save_checkpoint(tmp_path / "dropped.pt", **ck)

    def lrs(run: Path, *extra: str) -> list[float]:
        train(_cfg(run, data_root, "--steps=2", "--lr=0.001", f"--resume={tmp_path / 'dropped.pt'}", *extra))
        recs = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
        return [r["lr"] for r in recs if "lr" in r and "event" not in r]

    assert lrs(tmp_path / "b") == [pytest.approx(0.0001)]
    assert lrs(tmp_path / "c", "--restart_lr=true") == [pytest.approx(0.001)]
