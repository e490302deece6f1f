from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from platewise.config import load_config  # noqa: E402
from platewise.ocr.config import OcrTrainConfig  # noqa: E402
from platewise.ocr.dataset import Sample, augment  # noqa: E402
from platewise.ocr.train import load_model, model_config, train  # noqa: E402

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs" / "ocr").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_shipped_ocr_config_loads_and_builds_its_model(path: Path) -> None:
    tc = load_config(OcrTrainConfig, path)
    assert model_config(tc).num_patches > 0


def test_arch_overrides_reach_the_model_config() -> None:
    tc = load_config(OcrTrainConfig, CONFIGS[0], ["--arch.embed_dim=64", "--arch.heads=2"])
    assert model_config(tc).embed_dim == 64


def test_augment_with_zero_strength_is_the_runtime_resize() -> None:
    import numpy as np

    from platewise.ocr.preprocess import resize_crop

    img = np.random.default_rng(0).integers(0, 255, (40, 100, 3), dtype=np.uint8)
    s = Sample(img, (0.0, 0.0, 100.0, 40.0), "AB1", "us", "k")
    assert np.array_equal(augment(s, (16, 64), 0.0, np.random.default_rng(0)), resize_crop(img, (16, 64)))
    out = augment(s, (16, 64), 1.0, np.random.default_rng(1))
    assert out.shape == (16, 64, 3)
    assert out.dtype == np.uint8


def _line_slope(view) -> float:
    """Slope of the bright line in a view: rows of its centre of mass in the left and right quarter."""
    import numpy as np

    g = view[..., 1].astype(float)
    rows = np.arange(g.shape[0])[:, None]
    q = g.shape[1] // 4
    left, right = g[:, q : 2 * q], g[:, 2 * q : 3 * q]
    yl = (rows * left).sum() / max(left.sum(), 1)
    yr = (rows * right).sum() / max(right.sum(), 1)
    return float((yr - yl) / q)


def test_augment_tilt_turns_the_plate_inside_the_view() -> None:
    import numpy as np

    img = np.zeros((120, 300, 3), np.uint8)
    img[58:62, 60:240] = 255  # a horizontal bar across the plate box
    s = Sample(img, (60.0, 40.0, 240.0, 80.0), "AB1", "us", "k")
    plain = [abs(_line_slope(augment(s, (48, 144), 0.05, np.random.default_rng(i)))) for i in range(20)]
    tilted = [abs(_line_slope(augment(s, (48, 144), 0.05, np.random.default_rng(i), 1.0, 20.0))) for i in range(20)]
    assert max(plain) < 0.05
    assert np.median(tilted) > 0.1  # turned by up to 20 deg, squeezed into the view: clearly sloped
    assert all(v.shape == (48, 144, 3) for v in [augment(s, (48, 144), 0.6, np.random.default_rng(3), 1.0)])


@pytest.mark.needs_data
def test_tiny_training_run_writes_checkpoints_log_and_resumes(data_root: Path, tmp_path: Path) -> None:
    tc = load_config(
        OcrTrainConfig,
        CONFIGS[[p.stem for p in CONFIGS].index("ocr_tiny")],
        [f"--run_dir={tmp_path}", f"--data_root={data_root}"],
    )
    best = train(tc, log=lambda m: None)
    assert best.is_file()
    assert (tmp_path / "last.pt").is_file()
    assert (tmp_path / "curves.png").is_file()
    recs = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert any(r.get("phase") == "mae" for r in recs)
    assert any(r.get("phase") == "sup" for r in recs)
    assert recs[-1]["event"] == "end"
    assert "val_cn-crops" in recs[-1]
    model = load_model(best)
    assert model.cfg.name == "ocr_tiny"
    more = load_config(
        OcrTrainConfig,
        CONFIGS[[p.stem for p in CONFIGS].index("ocr_tiny")],
        [f"--run_dir={tmp_path}", f"--data_root={data_root}", "--steps=6"],
    )
    train(more, log=lambda m: None)
    recs = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    sup_steps = [r["step"] for r in recs if r.get("phase") == "sup"]
    assert max(sup_steps) == 5
    assert sup_steps.count(0) == 1

    # a resumed run keeps the learning rate it had reached, unless told to restart it
    from platewise.training.checkpoint import load_checkpoint, save_checkpoint

    ck = load_checkpoint(tmp_path / "last.pt")
    ck["state"]["lr"] = 1e-5
    save_checkpoint(tmp_path / "last.pt", **ck)

    def lrs_after(extra: list[str]) -> list[float]:
        n = len((tmp_path / "log.jsonl").read_text().splitlines())
        tc2 = load_config(
            OcrTrainConfig,
            CONFIGS[[p.stem for p in CONFIGS].index("ocr_tiny")],
            [f"--run_dir={tmp_path}", f"--data_root={data_root}", *extra],
        )
        train(tc2, log=lambda m: None)
        new = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()[n:]]
        return [r["lr"] for r in new if r.get("phase") == "sup"]

    assert lrs_after(["--steps=7"]) == [pytest.approx(1e-5)]
    assert lrs_after(["--steps=9", "--restart_lr=true"]) == [pytest.approx(5e-4), pytest.approx(1e-3)]
