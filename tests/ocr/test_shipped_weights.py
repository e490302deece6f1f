from __future__ import annotations

from pathlib import Path

import pytest

from platewise.ocr.reader import DEFAULT_MODEL, PlateReader
from platewise.plates import ALPHABET, MAX_LEN


def test_shipped_reader_is_small_and_carries_its_contract() -> None:
    assert DEFAULT_MODEL.is_file()
    assert DEFAULT_MODEL.stat().st_size <= 15 * 1024 * 1024
    r = PlateReader(threads=1)
    meta = r.model.metadata
    assert meta["kind"] == "ocr"
    assert meta["alphabet"] == ALPHABET
    assert meta["max_len"] == MAX_LEN
    assert r.input_size == tuple(meta["input_size"])


def test_shipped_model_card_sits_next_to_the_weights() -> None:
    card = DEFAULT_MODEL.parent / "OCR_MODEL_CARD.md"
    assert card.is_file()
    assert "platewise train ocr" in card.read_text(encoding="utf-8")


@pytest.mark.needs_data
def test_shipped_reader_reads_most_held_out_chinese_crops(data_root: Path) -> None:
    from platewise.ocr.evaluate import evaluate_reader, load_eval_items

    items = load_eval_items(data_root / "cn-crops" / "labels.csv", split="holdout")[:60]
    res = evaluate_reader(PlateReader(threads=1), items)
    assert res["overall"]["exact_match"] >= 0.5
