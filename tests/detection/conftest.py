from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained ``detector_tiny`` exported to ONNX (with metadata), once per session."""
    pytest.importorskip("torch")
    import torch

    from platewise.detection.export import detector_metadata, export_onnx
    from platewise.detection.registry import create_detector

    torch.manual_seed(0)
    net = create_detector("detector_tiny").eval()
    out = tmp_path_factory.mktemp("det") / "tiny.onnx"
    return export_onnx(net, out, detector_metadata(net, score_threshold=0.0))


@pytest.fixture(scope="session")
def tiny_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained VerifierNet exported with made-up calibration metadata."""
    torch = pytest.importorskip("torch")
    from platewise.detection.verifier_train import VerifierNet, export

    torch.manual_seed(0)
    net = VerifierNet(widths=(8, 8, 8, 8))
    out = tmp_path_factory.mktemp("ver") / "verifier.onnx"
    export(net, out, (1.0, 0.5, 0.2), candidate=0.0, thr=0.2)  # the untrained detector scores low
    return out


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    """Tiny networks run fastest on one thread, and the machine is shared."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
