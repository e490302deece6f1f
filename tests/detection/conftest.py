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


@pytest.fixture(scope="session")
def tiny_data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root of three scene folders of synthetic scenes (training side and the verifier's calibration part
    both present, no hold-out images) and one negative; built once per session."""
    pytest.importorskip("torch")
    import cv2
    import numpy as np

    from platewise.data.splits import is_holdout
    from platewise.data.synthetic.scenes import SceneSynthesizer
    from platewise.detection.verifier_train import _is_calibration

    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    synth = SceneSynthesizer([rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)], seed=0)
    for folder in ("openlpr-scenes", "ro-dashcam", "openalpr-dev"):
        (root / folder).mkdir(parents=True)
        rows, calib, train = ["image,region,x,y,w,h,plate"], 0, 0
        for i in range(40):
            key = f"{folder}/s{i}.png"
            if is_holdout(key) or (calib >= 2 and _is_calibration(key)) or (train >= 3 and not _is_calibration(key)):
                continue
            calib += _is_calibration(key)
            train += not _is_calibration(key)
            sc = synth.sample(320, 192)
            cv2.imwrite(str(root / key), sc.image)
            for p in sc.plates:
                b = p.box
                rows.append(f"s{i}.png,eu,{b.x1:.0f},{b.y1:.0f},{b.width:.0f},{b.height:.0f},")
        (root / folder / "labels.csv").write_text("\n".join(rows) + "\n")
    (root / "negatives").mkdir()
    cv2.imwrite(str(root / "negatives" / "n0.png"), rng.integers(0, 255, (192, 320, 3), dtype=np.uint8))
    (root / "negatives" / "labels.csv").write_text("image\nn0.png\n")
    return root
