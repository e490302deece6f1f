"""``platewise synth crops|scenes``."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from platewise.cli import main
from platewise.data.sources import read_crops_csv, read_scenes_csv
from platewise.plates import formats_for


def test_synth_crops_writes_a_crops_csv_that_read_crops_csv_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "crops"
    assert main(["synth", "crops", "--style", "all", "--n", "12", "--out", str(out), "--seed", "3"]) == 0
    samples = read_crops_csv(out / "labels.csv")
    assert len(samples) == 12
    with (out / "labels.csv").open(encoding="utf-8") as f:
        assert next(csv.reader(f)) == ["image", "region", "plate"]
    for s in samples:
        img = cv2.imread(str(s.path))
        assert img is not None
        assert img.ndim == 3
        assert any(f.matches(s.plate) for f in formats_for(s.region.split("-")[0]))


@pytest.mark.parametrize("style", ["us", "eu", "br", "ar", "cn"])
def test_synth_crops_style_gives_that_region(tmp_path: Path, style: str) -> None:
    assert main(["synth", "crops", "--style", style, "--n", "3", "--out", str(tmp_path)]) == 0
    assert {s.region.split("-")[0] for s in read_crops_csv(tmp_path / "labels.csv")} == {style}


def test_synth_crops_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    for d in ("a", "b"):
        assert main(["synth", "crops", "--n", "4", "--out", str(tmp_path / d), "--seed", "9"]) == 0
    assert (tmp_path / "a/labels.csv").read_text("utf-8") == (tmp_path / "b/labels.csv").read_text("utf-8")


def test_synth_scenes_writes_boxes_and_corners(tmp_path: Path) -> None:
    bg = tmp_path / "bg"
    bg.mkdir()
    cv2.imwrite(str(bg / "a.png"), np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8))
    out = tmp_path / "scenes"
    argv = [
        "synth",
        "scenes",
        "--n",
        "3",
        "--out",
        str(out),
        "--backgrounds",
        str(bg),
        "--width",
        "256",
        "--height",
        "192",
    ]
    assert main(argv) == 0
    scenes = read_scenes_csv(out / "labels.csv")
    assert len(scenes) == 3
    with (out / "corners.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sum(len(s.boxes) for s in scenes) == len(rows)
    for r in rows:
        xs = [float(r[f"x{k}"]) for k in range(1, 5)]
        ys = [float(r[f"y{k}"]) for k in range(1, 5)]
        assert all(0 <= x <= 256 for x in xs)
        assert all(0 <= y <= 192 for y in ys)
    img = cv2.imread(str(out / rows[0]["image"]))
    assert img.shape == (192, 256, 3)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["synth", "crops", "--n", "0"], "--n must be a positive"),
        (["synth", "crops", "--n", "-3"], "--n must be a positive"),
        (["synth", "crops", "--n", "2", "--style", "xx"], "unknown --style"),
        (["synth", "crops", "--n", "2", "--strength", "3"], "--strength"),
        (["synth", "scenes", "--n", "0"], "--n must be a positive"),
        (["synth", "scenes", "--n", "1", "--backgrounds", "/nonexistent/dir"], "--backgrounds"),
    ],
)
def test_bad_synth_arguments_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("platewise: error:")
    assert needle in err[0]


def test_unwritable_out_dir_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["synth", "crops", "--n", "1", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "cannot write" in err[0]
