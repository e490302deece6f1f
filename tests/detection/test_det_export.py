from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from platewise.runtime.onnx import OnnxModel  # noqa: E402


def test_onnx_matches_torch_on_the_tiny_variant(tiny_onnx: Path) -> None:
    from platewise.detection.registry import create_detector

    torch.manual_seed(0)
    net = create_detector("detector_tiny").eval()  # same seed as the fixture: same weights
    x = np.random.default_rng(0).standard_normal((2, 3, 96, 160)).astype(np.float32)
    with torch.no_grad():
        ref = [t.numpy() for t in net.export_forward(torch.from_numpy(x))]
    got = OnnxModel(tiny_onnx, threads=1).run(x)
    for r, g in zip(ref, got, strict=False):
        assert r.shape == g.shape
        np.testing.assert_allclose(g, r, rtol=1e-3, atol=1e-4)


def test_onnx_metadata_has_the_preprocessing_contract(tiny_onnx: Path) -> None:
    meta = OnnxModel(tiny_onnx, threads=1).metadata
    assert meta["kind"] == "detector"
    for key in (
        "version",
        "input_size",
        "mean",
        "std",
        "color",
        "strides",
        "reg_max",
        "score_threshold",
        "nms_threshold",
    ):
        assert key in meta
    assert meta["strides"] == [8, 16, 32]
    json.dumps(meta)


def test_checkpoint_exports_through_the_cli(tmp_path: Path) -> None:
    from dataclasses import asdict

    from platewise.cli import main
    from platewise.detection.registry import create_detector
    from platewise.training.checkpoint import save_checkpoint

    net = create_detector("detector_tiny")
    ck = save_checkpoint(
        tmp_path / "last.pt", model=net.state_dict(), ema=net.state_dict(), model_config=asdict(net.cfg), step=0
    )
    assert main(["export", "detector", str(ck), "--out", str(tmp_path / "d.onnx"), "--input-size", "96x160"]) == 0
    assert OnnxModel(tmp_path / "d.onnx").metadata["input_size"] == [96, 160]
    assert main(["export", "detector", str(ck), "--out", str(tmp_path / "d.pt"), "--format", "torchscript"]) == 0
    ts = torch.jit.load(str(tmp_path / "d.pt"))
    assert len(ts(torch.zeros(1, 3, 128, 128))) == 3


def test_export_rejects_an_input_size_that_is_not_a_multiple_of_32(tmp_path: Path) -> None:
    from dataclasses import asdict

    from platewise.cli import main
    from platewise.detection.registry import create_detector
    from platewise.training.checkpoint import save_checkpoint

    net = create_detector("detector_tiny")
    ck = save_checkpoint(tmp_path / "last.pt", model=net.state_dict(), model_config=asdict(net.cfg), step=0)
    assert main(["export", "detector", str(ck), "--out", str(tmp_path / "d.onnx"), "--input-size", "100x160"]) == 2
