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


def test_int8_detector_keeps_metadata_and_stays_close_to_fp32(tiny_onnx: Path, tmp_path: Path) -> None:
    from platewise.detection.export import quantize_int8

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for h, w in ((90, 150), (120, 100), (60, 200))]
    q = quantize_int8(tiny_onnx, tmp_path / "q.onnx", images, batch=2)
    fp32, int8 = OnnxModel(tiny_onnx, threads=1), OnnxModel(q, threads=1)
    assert int8.metadata["kind"] == "detector" and "int8" in int8.metadata["quantized"]
    assert int8.metadata["input_size"] == fp32.metadata["input_size"]
    x = rng.standard_normal((2, 3, 96, 160)).astype(np.float32) * 0.5
    for a, b in zip(fp32.run(x), int8.run(x), strict=True):
        assert a.shape == b.shape
        assert np.abs(a - b).mean() < 0.1 * (np.abs(a).mean() + 1e-3) + 0.05


def test_export_cli_int8_reports_a_missing_data_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dataclasses import asdict

    from platewise.cli import main
    from platewise.detection.registry import create_detector
    from platewise.training.checkpoint import save_checkpoint

    net = create_detector("detector_tiny")
    ck = save_checkpoint(
        tmp_path / "last.pt", model=net.state_dict(), ema=net.state_dict(), model_config=asdict(net.cfg), step=0
    )
    args = ["export", "detector", str(ck), "--out", str(tmp_path / "d.onnx"), "--int8", "--data-root", "/nonexistent"]
    assert main(args) != 0
    assert "--data-root" in capsys.readouterr().err


def test_calibration_images_come_from_the_training_side_only(tmp_path: Path) -> None:
    import cv2

    from platewise.data.splits import is_holdout
    from platewise.detection.export import calibration_images

    folder = tmp_path / "scenes"
    folder.mkdir()
    rows = ["image,region,x,y,w,h,plate"]
    for i in range(12):
        cv2.imwrite(str(folder / f"{i}.jpg"), np.full((40, 60, 3), i * 20, np.uint8))
        rows.append(f"{i}.jpg,us,5,5,20,10,ABC{i}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    train_side = {i for i in range(12) if not is_holdout(f"scenes/{i}.jpg")}
    images = calibration_images(tmp_path, ("scenes",), n=100)
    assert len(images) == len(train_side)
    assert {int(im[0, 0, 0]) // 20 for im in images} == train_side


def _scalar_muls(model: object) -> int:
    """Mul nodes of ``model`` (an onnx.ModelProto) that scale by a one-value initializer."""
    from onnx import numpy_helper

    graph = model.graph  # type: ignore[attr-defined]
    sizes = {i.name: numpy_helper.to_array(i).size for i in graph.initializer}
    return sum(n.op_type == "Mul" and any(sizes.get(i) == 1 for i in n.input) for n in graph.node)


def test_cpu_layout_rewrite_keeps_the_outputs_bit_for_bit(tmp_path: Path) -> None:
    import onnx

    from platewise.detection.export import detector_metadata, export_onnx
    from platewise.detection.registry import create_detector
    from platewise.runtime.cpu_layout import optimize_for_cpu

    torch.manual_seed(1)
    net = create_detector("detector_tiny").eval()
    with torch.no_grad():  # unequal fusion weights, as after training
        for name, p in net.named_parameters():
            if name.endswith(".w"):
                p.copy_(torch.rand_like(p) + 0.1)
    plain = export_onnx(net, tmp_path / "plain.onnx", detector_metadata(net), cpu_layout=False)
    report = optimize_for_cpu(plain, tmp_path / "fast.onnx")
    before, after = onnx.load(str(plain)), onnx.load(str(tmp_path / "fast.onnx"))
    fusion_muls = sum(n.op_type == "Mul" and "/bifpn/" in n.name for n in before.graph.node)
    assert fusion_muls > 0 and report.left == 0
    # each fusion weight is a Mul; those right after a Conv ONNX Runtime folds into it, the rest become Convs
    assert 0 < report.rewritten <= fusion_muls
    assert _scalar_muls(after) == 0
    assert not any(n.op_type == "Mul" and "/bifpn/" in n.name for n in after.graph.node)
    assert {o.domain for o in after.opset_import} == {""}
    assert OnnxModel(tmp_path / "fast.onnx").metadata == OnnxModel(plain).metadata
    rng = np.random.default_rng(0)
    for shape in ((1, 3, 96, 160), (3, 3, 128, 96)):
        x = rng.standard_normal(shape).astype(np.float32)
        for a, b in zip(OnnxModel(plain).run(x), OnnxModel(tmp_path / "fast.onnx").run(x), strict=True):
            assert a.shape == b.shape
            assert np.array_equal(a, b)


def test_the_shipped_detector_is_written_for_the_cpu_layout() -> None:
    import onnx

    from platewise.detection.detector import DEFAULT_WEIGHTS

    model = onnx.load(str(DEFAULT_WEIGHTS))
    assert _scalar_muls(model) == 0
    assert sum(n.op_type == "Conv" and "_as_conv" in n.name for n in model.graph.node) == 17


def test_cpu_layout_command_rewrites_an_older_export_and_refuses_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import onnx

    from platewise.detection.export import detector_metadata, export_onnx
    from platewise.detection.registry import create_detector
    from platewise.runtime.cpu_layout import main

    net = create_detector("detector_tiny").eval()
    plain = export_onnx(net, tmp_path / "old.onnx", detector_metadata(net), cpu_layout=False)
    x = np.random.default_rng(2).standard_normal((2, 3, 96, 160)).astype(np.float32)
    before = OnnxModel(plain).run(x)
    assert main([str(plain)]) == 0  # in place
    assert "scalar products as convolutions, 0 left" in capsys.readouterr().out
    assert _scalar_muls(onnx.load(str(plain))) == 0
    assert all(np.array_equal(a, b) for a, b in zip(before, OnnxModel(plain).run(x), strict=True))
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    for bad, why in ((tmp_path / "notes.txt", "not an ONNX model"), (tmp_path / "missing.onnx", "no such file")):
        with pytest.raises(SystemExit) as e:
            main([str(bad), "--out", str(tmp_path / "out.onnx")])
        assert e.value.code == 2 and why in capsys.readouterr().err
