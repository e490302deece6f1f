from __future__ import annotations

import json
from pathlib import Path

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
