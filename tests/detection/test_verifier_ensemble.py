"""verifier_ensemble: several verifier ONNX files merged into one whose logit is the mean of theirs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from platewise.detection.verifier import PlateVerifier


def _second_verifier(tmp_path: Path, size: tuple[int, int] = (32, 96), seed: int = 1) -> Path:
    torch = pytest.importorskip("torch")
    from platewise.detection.verifier_train import VerifierNet, export

    torch.manual_seed(seed)
    out = tmp_path / f"v{seed}_{size[0]}x{size[1]}.onnx"
    export(VerifierNet(widths=(8, 8, 8, 8)), out, (1.0, 0.5, 0.2), candidate=0.0, thr=0.2, size=size)
    return out


def _logits(v: PlateVerifier, img: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    p = v.probabilities(img, boxes).astype(np.float64)
    return np.log(p / (1 - p))


def test_the_ensembles_logit_is_the_mean_of_its_members(tmp_path: Path, tiny_verifier: Path) -> None:
    pytest.importorskip("onnx")
    from platewise.detection.verifier_ensemble import ensemble_verifiers

    other = _second_verifier(tmp_path)
    meta = ensemble_verifiers([tiny_verifier, other], tmp_path / "ens.onnx")
    assert meta["ensemble"] == 2 and meta["combine"] == [1.0, 0.5, 0.2]  # the first file's, until refitted
    img = np.random.default_rng(0).integers(0, 255, (120, 200, 3), dtype=np.uint8)
    boxes = np.array([[10, 10, 90, 40], [100, 60, 190, 100], [0, 0, 30, 12]], np.float32)
    a, b = PlateVerifier(tiny_verifier, threads=1), PlateVerifier(other, threads=1)
    ens = PlateVerifier(tmp_path / "ens.onnx", threads=1)
    assert ens.combine == a.combine and ens.size == a.size
    want = (_logits(a, img, boxes) + _logits(b, img, boxes)) / 2
    assert not np.allclose(_logits(a, img, boxes), _logits(b, img, boxes))  # two different members
    np.testing.assert_allclose(_logits(ens, img, boxes), want, atol=1e-4)


def test_members_must_crop_alike_and_be_verifiers(tmp_path: Path, tiny_verifier: Path) -> None:
    pytest.importorskip("onnx")
    from platewise.detection.verifier_ensemble import ensemble_verifiers

    with pytest.raises(ValueError, match="input_size"):
        ensemble_verifiers([tiny_verifier, _second_verifier(tmp_path, size=(32, 64))], tmp_path / "e.onnx")
    with pytest.raises(ValueError, match="at least 2"):
        ensemble_verifiers([tiny_verifier], tmp_path / "e.onnx")
    corners = Path(__file__).parents[2] / "src/platewise/weights/corners.onnx"
    if corners.is_file():
        with pytest.raises(ValueError, match="not a platewise verifier"):
            ensemble_verifiers([tiny_verifier, corners], tmp_path / "e.onnx")


def test_the_command_line_reports_bad_input_without_a_traceback(
    tmp_path: Path, tiny_verifier: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("onnx")
    from platewise.detection.verifier_ensemble import main

    with pytest.raises(SystemExit) as e:
        main([str(tiny_verifier), str(tmp_path / "missing.onnx"), "--out", str(tmp_path / "e.onnx")])
    assert e.value.code == 2 and "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main([str(tiny_verifier), "--out", str(tmp_path / "e.onnx")])
    assert e.value.code == 2 and "at least 2" in capsys.readouterr().err
    assert main([str(tiny_verifier), str(_second_verifier(tmp_path)), "--out", str(tmp_path / "e.onnx")]) == 0
    assert "2 verifiers" in capsys.readouterr().out
    assert PlateVerifier(tmp_path / "e.onnx", threads=1).metadata["ensemble"] == 2
