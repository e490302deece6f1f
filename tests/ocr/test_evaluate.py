from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from platewise.cli import main
from platewise.ocr.evaluate import EvalItem, char_accuracy, evaluate_reader, load_eval_items, score
from platewise.types import PlateText


def test_char_accuracy_is_one_minus_normalized_edit_distance() -> None:
    assert char_accuracy("ABC123", "ABC123") == 1.0
    assert char_accuracy("ABC12", "ABC123") == pytest.approx(5 / 6)
    assert char_accuracy("", "") == 1.0
    assert char_accuracy("XYZ", "") == 0.0


def test_score_groups_regions_by_family_and_reports_overall() -> None:
    img = np.zeros((2, 2, 3), np.uint8)
    items = [EvalItem(img, "AB1", "us-ca"), EvalItem(img, "AB2", "us-ny"), EvalItem(img, "XY9", "br")]
    res = score(["AB1", "AB3", "xy-9"], items)
    assert res["regions"]["us"] == {"n": 2, "exact_match": 0.5, "char_accuracy": pytest.approx(5 / 6)}
    assert res["regions"]["br"]["exact_match"] == 1.0  # predictions are normalized
    assert res["overall"]["n"] == 3
    assert res["overall"]["exact_match"] == pytest.approx(2 / 3)


def _write_scene(tmp: Path) -> Path:
    img = np.zeros((100, 200, 3), np.uint8)
    cv2.imwrite(str(tmp / "a.png"), img)
    (tmp / "labels.csv").write_text(
        "image,region,x,y,w,h,plate\na.png,br,50,40,100,20,ABC1234\na.png,br,10,10,20,10,\n", encoding="utf-8"
    )
    return tmp / "labels.csv"


def test_scenes_csv_boxes_are_cut_with_ten_percent_padding_and_empty_plates_skipped(tmp_path: Path) -> None:
    items = load_eval_items(_write_scene(tmp_path))
    assert len(items) == 1
    assert items[0].image.shape == (24, 120, 3)  # 20 + 2*2 rows, 100 + 2*10 columns
    assert items[0].text == "ABC1234"
    assert items[0].region == "br"


def test_crops_csv_rows_with_empty_plates_are_skipped(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "c.png"), np.zeros((20, 60, 3), np.uint8))
    (tmp_path / "labels.csv").write_text("image,region,plate\nc.png,us-ca,7ABC123\nc.png,us-ca,\n", encoding="utf-8")
    assert [i.text for i in load_eval_items(tmp_path / "labels.csv")] == ["7ABC123"]


def test_eval_ocr_cli_prints_one_json_object(
    tmp_path: Path, tiny_onnx: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _write_scene(tmp_path)
    assert main(["eval", "ocr", "--labels", str(labels), "--model", str(tiny_onnx), "--json", "--threads", "1"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res) >= {"overall", "regions", "ms_per_plate"}
    assert res["overall"]["n"] == 1
    assert "br" in res["regions"]
    assert {"exact_match", "char_accuracy"} <= set(res["regions"]["br"])


def test_eval_ocr_cli_reports_a_missing_labels_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "ocr", "--labels", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("platewise: error:")
    assert "nope.csv" in err
    assert len(err.strip().splitlines()) == 1


class _CandidateReader:
    """Reads every crop as the same ranked candidates (what a real reader returns with top_n > 0)."""

    def __init__(self, cands: tuple[tuple[str, float], ...]) -> None:
        self.cands = cands

    def read(self, crops: list[np.ndarray]) -> list[PlateText]:
        text, conf = self.cands[0]
        return [PlateText(text, conf, (), self.cands) for _ in crops]


def test_evaluate_reader_with_a_region_takes_the_best_candidate_fitting_its_formats() -> None:
    img = np.zeros((24, 94, 3), np.uint8)
    items = [EvalItem(img, "ABC1234", "br"), EvalItem(img, "ABC1234", "world")]
    reader = _CandidateReader((("ABC12345", 0.6), ("ABC1234", 0.3)))  # the best reading is one character long
    assert evaluate_reader(reader, items)["overall"]["exact_match"] == 0.0
    assert evaluate_reader(reader, items, region="br")["overall"]["exact_match"] == 1.0
    by_label = evaluate_reader(reader, items, region="labels")  # br fits; 'world' has no formats: best reading
    assert by_label["regions"]["br"]["exact_match"] == 1.0
    assert by_label["regions"]["world"]["exact_match"] == 0.0


def test_eval_ocr_cli_rejects_an_unknown_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = _write_scene(tmp_path)
    assert main(["eval", "ocr", "--labels", str(labels), "--region", "atlantis"]) == 2
    assert "unknown region 'atlantis'" in capsys.readouterr().err
