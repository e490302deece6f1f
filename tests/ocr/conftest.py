from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An exported, untrained ``ocr_tiny`` (parallel head)."""
    torch = pytest.importorskip("torch")
    from platewise.ocr.export import export_onnx
    from platewise.ocr.registry import create_recognizer

    torch.manual_seed(0)
    return export_onnx(create_recognizer("ocr_tiny"), tmp_path_factory.mktemp("onnx") / "ocr_tiny.onnx")


@pytest.fixture(scope="session")
def tiny_ctc_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from platewise.ocr.export import export_onnx
    from platewise.ocr.registry import create_recognizer

    torch.manual_seed(0)
    return export_onnx(create_recognizer("ocr_tiny_ctc"), tmp_path_factory.mktemp("onnx") / "ocr_tiny_ctc.onnx")
