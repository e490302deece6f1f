"""Averaging reader checkpoints: weights averaged, the rest from the first, mismatches refused."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from platewise.ocr.soup import average_checkpoints, main  # noqa: E402


def _ck(path: Path, w: float, step: int, name: str = "ocr_s_ctc") -> Path:
    ck = {
        "model": {"w": torch.full((2, 3), w), "n": torch.tensor([step])},
        "config": {"name": name},
        "state": {"phase": "sup", "step": step, "lr": 1e-4},
        "optimizer": {"state": {}},
        "metrics": {"val_mean": 0.9},
        "train_config": {"lr": 1e-4},
    }
    torch.save(ck, path)
    return path


def test_average_of_two_checkpoints(tmp_path: Path) -> None:
    a, b = _ck(tmp_path / "a.pt", 1.0, 10), _ck(tmp_path / "b.pt", 3.0, 20)
    out = average_checkpoints([a, b])
    assert torch.equal(out["model"]["w"], torch.full((2, 3), 2.0))
    assert torch.equal(out["model"]["n"], torch.tensor([10]))  # not a float: the first's
    assert out["state"]["step"] == 20 and "optimizer" not in out and "metrics" not in out
    assert out["config"] == {"name": "ocr_s_ctc"} and out["train_config"] == {"lr": 1e-4}
    assert main([str(a), str(b), "--out", str(tmp_path / "s.pt")]) == 0
    assert torch.load(tmp_path / "s.pt", weights_only=False)["model"]["w"][0, 0].item() == pytest.approx(2.0)


def test_mismatched_or_missing_checkpoints_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, c = _ck(tmp_path / "a.pt", 1.0, 10), _ck(tmp_path / "c.pt", 1.0, 10, name="other")
    with pytest.raises(ValueError, match="different model"):
        average_checkpoints([a, c])
    with pytest.raises(ValueError, match="at least two"):
        average_checkpoints([a])
    assert main([str(a), str(tmp_path / "nope.pt"), "--out", str(tmp_path / "s.pt")]) == 2
    assert "not found" in capsys.readouterr().err


def test_detector_checkpoints_average_model_and_ema_and_keep_the_step(tmp_path: Path) -> None:
    """Detector checkpoints: the run configs differ (run_dir, lr, audit), the model_config must not."""
    from platewise.training.soup import average_checkpoints as generic

    def det(path: Path, w: float, step: int, width: float = 1.0) -> Path:
        sd = {"w": torch.full((2,), w), "bn.num_batches_tracked": torch.tensor(step)}
        ema = {"w": torch.full((2,), w + 1), "bn.num_batches_tracked": torch.tensor(step)}
        ck = {"model": sd, "ema": ema, "optimizer": {}, "step": step, "lr_scale": 0.5}
        torch.save({**ck, "config": {"run_dir": str(path)}, "model_config": {"width_mult": width}}, path)
        return path

    a, b = det(tmp_path / "a.pt", 0.0, 100), det(tmp_path / "b.pt", 2.0, 300)
    out = generic([a, b])
    assert out["model"]["w"].tolist() == [1.0, 1.0] and out["ema"]["w"].tolist() == [2.0, 2.0]
    assert out["model"]["bn.num_batches_tracked"].item() == 100  # not a float: the first's
    assert out["step"] == 300 and "optimizer" not in out and "state" not in out
    with pytest.raises(ValueError, match="different model"):
        generic([a, det(tmp_path / "c.pt", 0.0, 1, width=0.5)])
