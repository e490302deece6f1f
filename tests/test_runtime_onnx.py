from __future__ import annotations

import pytest

from platewise.detection.detector import DEFAULT_WEIGHTS
from platewise.errors import InvalidInput
from platewise.runtime.onnx import OnnxModel


def _entry(model: OnnxModel, key: str) -> str:
    """A session option of ``model``'s ONNX Runtime session; "" where it is not set."""
    try:
        return str(model.session.get_session_options().get_session_config_entry(key))
    except RuntimeError:  # not set
        return ""


def _spin_entries(model: OnnxModel) -> tuple[str, str]:
    return _entry(model, "session.intra_op.allow_spinning"), _entry(model, "session.force_spinning_stop")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ("1", "1")), ("run", ("1", "1")), ("0", ("0", "")), ("1", ("1", ""))],
)
def test_threads_spin_during_a_run_only_by_default(
    value: str | None, expected: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv("PLATEWISE_ORT_SPIN", raising=False)
    else:
        monkeypatch.setenv("PLATEWISE_ORT_SPIN", value)
    assert _spin_entries(OnnxModel(DEFAULT_WEIGHTS)) == expected


def test_an_unknown_spin_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATEWISE_ORT_SPIN", "yes")
    with pytest.raises(InvalidInput, match="PLATEWISE_ORT_SPIN must be run, 0 or 1"):
        OnnxModel(DEFAULT_WEIGHTS)
