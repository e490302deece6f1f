"""Pseudo-labels: the acceptance rule, the written folder, and its use as training data."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from platewise.ocr.dataset import augment, load_pseudo_dir
from platewise.ocr.pseudo import PseudoRule, accept, write_pseudo_labels
from platewise.types import PlateText

RULE = PseudoRule(min_confidence=0.8, min_chars=4)


def test_accept_needs_agreeing_confident_views() -> None:
    assert accept([("AB123CD", 0.95), ("AB123CD", 0.9)], "", RULE) == "AB123CD"
    assert accept([("AB123CD", 0.95), ("AB123C", 0.9)], "", RULE) is None  # views disagree
    assert accept([("AB123CD", 0.95), ("AB123CD", 0.5)], "", RULE) is None  # one view unsure
    assert accept([("AB1", 0.99), ("AB1", 0.99)], "", RULE) is None  # too short
    assert accept([], "", RULE) is None


def test_accept_with_a_region_corrects_look_alikes_and_rejects_other_formats() -> None:
    assert accept([("B1O2ABC", 0.9)] * 2, "eu-ro", RULE) == "B102ABC"  # Romania LDDDLLL: O -> 0
    assert accept([("ABCDEFG", 0.9)] * 2, "eu-ro", RULE) is None


def test_accept_without_a_region_drops_readings_one_swap_from_a_known_format() -> None:
    assert accept([("OY66UOP", 0.9)] * 2, "", RULE) == "OY66UOP"  # a UK plate
    assert accept([("0Y66U0P", 0.9)] * 2, "", RULE) is None  # a UK plate read with 0 for O: no label
    assert accept([("ZZ9999ZZ", 0.9)] * 2, "", RULE) == "ZZ9999ZZ"  # unknown layout, plausible text


class _FakeReader:
    """Reads every crop as the text stored for its width (the test controls what each view 'reads')."""

    def __init__(self, by_width: dict[int, tuple[str, float]], default: tuple[str, float]) -> None:
        self.by_width, self.default = by_width, default

    def read(self, crops: Sequence[npt.NDArray[np.uint8]]) -> list[PlateText]:
        out = []
        for c in crops:
            text, conf = self.by_width.get(c.shape[1], self.default)
            out.append(PlateText(text, conf, tuple(conf for _ in text), ()))
        return out


def _scene_folder(root: Path) -> None:
    folder = root / "cams"
    (folder / "images").mkdir(parents=True)
    rows = [("image", "region", "x", "y", "w", "h", "plate")]
    for i in range(40):  # enough names that both split sides get some
        img = np.full((120, 200, 3), 90, np.uint8)
        cv2.rectangle(img, (50, 40), (150, 70), (255, 255, 255), -1)
        cv2.imwrite(str(folder / "images" / f"{i}.jpg"), img)
        rows.append((f"images/{i}.jpg", "world", "50", "40", "100", "30", ""))
    with (folder / "labels.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)


def test_write_pseudo_labels_keeps_training_side_boxes_and_loads_as_samples(tmp_path: Path) -> None:
    from platewise.data.sources import read_scenes_csv
    from platewise.data.splits import is_holdout

    _scene_folder(tmp_path / "data")
    reader = _FakeReader({}, ("XY12345", 0.97))
    stats = write_pseudo_labels(tmp_path / "out", tmp_path / "data", {"cams": ""}, reader=reader, rule=RULE)  # type: ignore[arg-type]
    n_train = sum(not is_holdout(sc.key) for sc in read_scenes_csv(tmp_path / "data" / "cams" / "labels.csv"))
    assert 0 < n_train < 40
    assert stats == {"cams": {"boxes": n_train, "kept": n_train}}  # hold-out images are never read
    samples = load_pseudo_dir(tmp_path / "out")
    assert len(samples) == n_train
    s = samples[0]
    assert s.text == "XY12345"
    x1, y1, x2, y2 = s.box
    assert (x2 - x1, y2 - y1) == (100, 30)  # the labelled box, inside an image with 30% context around it
    assert s.image.shape[:2] == (48, 160)
    assert s.image[int(y1) + 15, int(x1) + 50].tolist() == [255, 255, 255]
    view = augment(s, (48, 144), 0.0, np.random.default_rng(0))  # strength 0 = the box itself
    assert view.shape == (48, 144, 3) and view.mean() > 240


def test_write_pseudo_labels_drops_disagreeing_views(tmp_path: Path) -> None:
    _scene_folder(tmp_path / "data")
    reader = _FakeReader({100: ("XY12345", 0.97)}, ("XY1234", 0.97))  # the padded view reads differently
    stats = write_pseudo_labels(tmp_path / "out", tmp_path / "data", {"cams": ""}, reader=reader, rule=RULE)  # type: ignore[arg-type]
    assert stats["cams"]["kept"] == 0
    assert load_pseudo_dir(tmp_path / "out") == []


@pytest.mark.needs_data
def test_training_draws_pseudo_labels_as_one_more_real_folder(data_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from platewise.config import load_config
    from platewise.ocr.config import OcrTrainConfig
    from platewise.ocr.train import train

    _scene_folder(tmp_path / "data")
    write_pseudo_labels(
        tmp_path / "pseudo", tmp_path / "data", {"cams": ""}, reader=_FakeReader({}, ("XY12345", 0.97)), rule=RULE
    )  # type: ignore[arg-type]
    cfg = Path(__file__).resolve().parents[2] / "configs" / "ocr" / "ocr_tiny.toml"
    args = [f"--run_dir={tmp_path / 'run'}", f"--data_root={data_root}", f"--pseudo_dir={tmp_path / 'pseudo'}"]
    tc = load_config(OcrTrainConfig, cfg, [*args, "--steps=2", "--pretrain_steps=0"])
    messages: list[str] = []
    train(tc, log=messages.append)
    n = len(load_pseudo_dir(tmp_path / "pseudo"))
    assert any(f"'pseudo': {n}" in m for m in messages), messages[:3]


def test_pseudo_command_rejects_bad_arguments_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from platewise.ocr.pseudo import main

    assert main(["--out", str(tmp_path / "o"), "--min-confidence", "2"]) == 2
    assert main(["--out", str(tmp_path / "o"), "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error:") for line in err)
