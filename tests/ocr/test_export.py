from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from platewise.ocr.export import check_parity, export_onnx, export_torchscript  # noqa: E402
from platewise.ocr.registry import create_recognizer  # noqa: E402
from platewise.plates import ALPHABET, MAX_LEN  # noqa: E402


@pytest.mark.parametrize("name", ["ocr_tiny", "ocr_tiny_ctc"])
def test_exported_onnx_matches_torch_logits(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_recognizer(name)
    path = export_onnx(model, tmp_path / f"{name}.onnx")
    assert check_parity(model, path, batch=5) < 1e-4


def test_exported_onnx_carries_the_preprocessing_contract(tiny_onnx: Path) -> None:
    proto = onnx.load(str(tiny_onnx))
    meta = json.loads({p.key: p.value for p in proto.metadata_props}["platewise"])
    assert meta["kind"] == "ocr"
    assert meta["input_size"] == [16, 64]
    assert meta["alphabet"] == ALPHABET
    assert meta["max_len"] == MAX_LEN
    assert meta["pad_id"] == 0
    assert meta["color_order"] == "BGR"
    assert meta["head"] == "parallel"
    assert len(meta["mean"]) == 3
    assert len(meta["std"]) == 3
    assert "version" in meta
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17


def test_exported_onnx_has_a_dynamic_batch_axis(tiny_onnx: Path) -> None:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(tiny_onnx), providers=["CPUExecutionProvider"])
    for n in (1, 7):
        (out,) = sess.run(None, {"image": np.zeros((n, 3, 16, 64), np.float32)})
        assert out.shape == (n, MAX_LEN, len(ALPHABET) + 1)


def test_torchscript_export_reproduces_torch_outputs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_recognizer("ocr_tiny").eval()
    path = export_torchscript(model, tmp_path / "tiny.pt")
    loaded = torch.jit.load(str(path))
    x = torch.randn(4, 3, 16, 64)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-5)


def test_int8_quantized_reader_keeps_metadata_and_output_shape(tiny_onnx: Path, tmp_path: Path) -> None:
    import onnxruntime as ort

    from platewise.ocr.export import quantize_int8

    cal = np.random.default_rng(0).integers(0, 255, (8, 16, 64, 3), dtype=np.uint8)
    q = quantize_int8(tiny_onnx, tmp_path / "q.onnx", cal)
    meta = json.loads({p.key: p.value for p in onnx.load(str(q)).metadata_props}["platewise"])
    assert meta["kind"] == "ocr" and "int8" in meta["quantized"]
    sess = ort.InferenceSession(str(q), providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {"image": np.zeros((2, 3, 16, 64), np.float32)})
    assert out.shape == (2, MAX_LEN, len(ALPHABET) + 1)
