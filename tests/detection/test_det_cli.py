from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from platewise.cli import main

KEYS = ("recall50", "precision50", "recall70", "precision70", "ap50", "detections_per_image", "images", "plates")


def _scenes(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = ["image,region,x,y,w,h,plate"]
    for i, region in enumerate(["eu", "us", "eu"]):
        cv2.imwrite(str(tmp_path / f"{i}.png"), rng.integers(0, 255, (90, 160, 3), dtype=np.uint8))
        rows.append(f"{i}.png,{region},10,20,60,15,AB{i}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "labels.csv"


def test_eval_detect_prints_one_json_object_per_region_and_overall(
    tiny_onnx: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _scenes(tmp_path)
    assert main(["eval", "detect", "--labels", str(labels), "--model", str(tiny_onnx), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for group in ("overall", "eu", "us"):
        for key in KEYS:
            assert key in out[group]
    assert out["overall"]["images"] == 3
    assert out["eu"]["plates"] == 2
    assert out["ms_per_image"] > 0


def test_eval_detect_with_a_verifier_uses_its_threshold(
    tiny_onnx: Path, tiny_verifier: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _scenes(tmp_path)
    args = ["eval", "detect", "--labels", str(labels), "--model", str(tiny_onnx), "--json"]
    assert main([*args, "--verifier", str(tiny_verifier)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verifier"] == str(tiny_verifier) and out["score_threshold"] == 0.2
    assert main([*args, "--verifier", "off"]) == 0
    assert json.loads(capsys.readouterr().out)["verifier"] is None
    assert main([*args, "--verifier", str(tmp_path / "missing.onnx")]) != 0
    assert "not found" in capsys.readouterr().err


def test_eval_detect_contain_threshold_is_passed_on_and_checked(
    tiny_onnx: Path, tiny_verifier: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _scenes(tmp_path)
    args = ["eval", "detect", "--labels", str(labels), "--model", str(tiny_onnx), "--json"]
    args += ["--verifier", str(tiny_verifier)]
    assert main([*args, "--contain-threshold", "0.5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["contain_threshold"] == 0.5 and out["overall"]["images"] == 3
    assert main([*args, "--contain-threshold", "0"]) != 0
    assert "contain_threshold" in capsys.readouterr().err
    assert main([*args, "--contain-margin", "0.05"]) == 0
    assert json.loads(capsys.readouterr().out)["contain_margin"] == 0.05
    assert main([*args, "--contain-margin", "-1"]) != 0
    assert "contain_margin" in capsys.readouterr().err


def test_eval_detect_zone_counts_only_the_plates_in_it(
    tiny_onnx: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _scenes(tmp_path)  # one plate per image, centred at (40, 27.5), 60 px wide
    args = ["eval", "detect", "--labels", str(labels), "--model", str(tiny_onnx), "--json"]
    assert main([*args, "--zone", "0,0 80,60"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["zone"] == "0,0 80,60" and out["overall"]["plates"] == 3
    assert main([*args, "--zone", "0.5,0 1,1"]) == 0  # the right half: no labelled plate there
    assert json.loads(capsys.readouterr().out)["overall"]["plates"] == 0
    assert main([*args, "--min-plate-width", "61"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["min_plate_width"] == 61 and out["overall"]["plates"] == 0
    assert main([*args, "--zone", "0,0"]) != 0
    assert "at least 2 points" in capsys.readouterr().err


def test_eval_detect_prints_a_table_without_json(
    tiny_onnx: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _scenes(tmp_path)
    assert main(["eval", "detect", "--labels", str(labels), "--model", str(tiny_onnx), "--sweep", "0.2,0.5"]) == 0
    out = capsys.readouterr().out
    assert "recall50" in out
    assert "@0.5" in out


def test_eval_detect_sweep_reports_each_threshold(
    tiny_onnx: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _scenes(tmp_path)
    args = ["eval", "detect", "--labels", str(labels), "--model", str(tiny_onnx), "--json", "--sweep", "0.2,0.5"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["sweep"]) == {"0.2", "0.5"}
    assert out["sweep"]["0.5"]["detections_per_image"] <= out["sweep"]["0.2"]["detections_per_image"]


def test_eval_detect_without_labels_is_a_user_error(tiny_onnx: Path) -> None:
    assert main(["eval", "detect", "--model", str(tiny_onnx)]) == 2


def test_eval_detect_synthetic_reports_corner_error(
    tiny_onnx: Path, data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["eval", "detect", "--synthetic", "2", "--root", str(data_root), "--model", str(tiny_onnx), "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert "mean_corner_error_per_width" in out
    assert out["overall"]["images"] == 2


def test_load_records_never_returns_hold_out_images(data_root: Path) -> None:
    from platewise.data.splits import is_holdout
    from platewise.detection.dataset import load_records

    train = load_records(data_root, ("ro-dashcam", "negatives"))
    held = load_records(data_root, ("ro-dashcam", "negatives"), holdout=True)
    assert train
    assert held
    assert not any(is_holdout(r.key) for r in train)
    assert all(is_holdout(r.key) for r in held)


def test_eval_detect_flip_is_passed_on_and_checked(
    tiny_onnx: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _scenes(tmp_path)
    args = ["eval", "detect", "--labels", str(labels), "--model", str(tiny_onnx), "--json"]
    from platewise.detection.decode import FLIP_FUSIONS

    for fusion in FLIP_FUSIONS:  # the CLI spells the choices out (no numpy at start-up): every one is accepted
        assert main([*args, "--flip", fusion]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["flip"] == fusion and out["overall"]["images"] == 3
    with pytest.raises(SystemExit) as e:
        main([*args, "--flip", "median"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err
