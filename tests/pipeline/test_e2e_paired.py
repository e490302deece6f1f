"""``benchmarks/e2e_paired.py``: two end-to-end shift results compared plate by plate."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def _module() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "e2e_paired.py"
    spec = importlib.util.spec_from_file_location("e2e_paired", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _result(misses: dict[str, list[str]], plates: int = 4) -> dict[str, object]:
    return {"split": "holdout", "pads": {k: {"plates": plates, "misses": v} for k, v in misses.items()}}


def test_pairs_read_by_one_pipeline_only_are_counted_per_shift() -> None:
    m = _module()
    a = _result({"0": ["AB123 read AB12"], "1": []})
    b = _result({"0": ["CD456 read (nothing)"], "1": ["AB123 read A8123", "CD456 read CD45"]})
    out = m.compare(a, b)
    assert out["pairs"] == 8 and out["only_a"] == 3 and out["only_b"] == 1
    assert out["only_a_pairs"] == ["0:CD456", "1:AB123", "1:CD456"] and out["only_b_pairs"] == ["0:AB123"]
    assert out["read_by_both"] == 4 and out["missed_by_both"] == 0
    assert out["sign_test_p"] == pytest.approx(0.625)  # 2 * (1 + 4) / 16


def test_sign_test_and_mismatched_files() -> None:
    m = _module()
    assert m.sign_test(0, 0) == 1.0 and m.sign_test(3, 3) == 1.0
    assert m.sign_test(10, 0) == pytest.approx(2 / 1024)
    with pytest.raises(SystemExit, match="same split"):
        m.compare(_result({"0": []}), _result({"0": [], "1": []}))
