from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from platewise.detection.corner_net import DEFAULT_CORNER_NET, CornerNet, corner_crops, corner_regions
from platewise.detection.detector import PlateDetector
from platewise.errors import InvalidInput, ModelNotFound


@pytest.fixture(scope="module")
def tiny_corner_net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained CornerRegressor exported to ONNX."""
    torch = pytest.importorskip("torch")
    from platewise.detection.corner_train import CornerRegressor, export

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("corners") / "corners.onnx"
    export(CornerRegressor(widths=(8, 8, 8, 8)), out)
    return out


def test_regions_grow_boxes_outward_to_whole_pixels() -> None:
    got = corner_regions(np.array([[10.5, 20.2, 110.5, 40.2], [5, 5, 5, 5]], np.float32), 0.1, 0.5)
    assert got.tolist() == [[0, 10, 121, 51], [4, 4, 6, 6]]  # 100 x 20 grown by 10 and 10; the empty box: 2 x 2


def test_crop_geometry_maps_image_points_to_crop_points() -> None:
    img = np.zeros((200, 300, 3), np.uint8)
    img[90:92, 150:152] = 255  # a bright 2x2 dot centred at (151, 91)
    region = np.array([[100, 60, 220, 120]], np.int64)  # 120 x 60 -> 240 x 120: twice as large
    crop = corner_crops(img, region, (120, 240))[0]
    ys, xs = np.nonzero(crop[..., 0] > 100)
    assert abs(xs.mean() + 0.5 - (151 - 100) * 2) <= 1.0 and abs(ys.mean() + 0.5 - (91 - 60) * 2) <= 1.0


def test_crops_outside_the_image_are_black_with_the_same_geometry() -> None:
    img = np.full((50, 80), 200, np.uint8)  # greyscale is accepted
    regions = np.array([[-40, 0, 40, 50], [500, 500, 600, 540]], np.int64)
    got = corner_crops(img, regions, (25, 40))
    assert got.shape == (2, 25, 40, 3) and got.dtype == np.uint8
    assert got[0, :, :19].max() == 0 and got[0, :, 21:].min() == 200  # the left half lies outside
    assert got[1].max() == 0
    assert corner_crops(img, np.zeros((0, 4), np.int64), (25, 40)).shape == (0, 25, 40, 3)


def test_corner_net_maps_the_networks_crop_fractions_to_image_pixels(tiny_corner_net: Path) -> None:
    torch = pytest.importorskip("torch")
    from platewise.detection.corner_train import CornerRegressor

    net = CornerNet(tiny_corner_net, threads=1)
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    boxes = np.array([[40, 50, 200, 100], [10, 150, 90, 180]], np.float32)
    got = net.predict(img, boxes)
    assert got.shape == (2, 4, 2) and got.dtype == np.float32
    torch.manual_seed(0)
    ref = CornerRegressor(widths=(8, 8, 8, 8)).eval()
    regions = corner_regions(boxes, net.pad_x, net.pad_y)
    crops = corner_crops(img, regions, net.size)
    with torch.no_grad():
        uv = ref(torch.from_numpy(crops.transpose(0, 3, 1, 2).astype(np.float32) / 255)).numpy().reshape(-1, 4, 2)
    assert ((uv > 0) & (uv < 1)).all()  # soft-argmax: inside the crop
    r = regions.astype(np.float32)
    want = r[:, None, :2] + uv * (r[:, None, 2:] - r[:, None, :2])
    np.testing.assert_allclose(got, want, atol=1e-3)
    again = net.predict(img, boxes, iterations=2)  # the second look crops around the first answer
    second = corner_regions(np.concatenate([got.min(1), got.max(1)], 1), net.pad_x, net.pad_y)
    r2 = second.astype(np.float32)
    assert (again >= r2[:, None, :2] - 1e-3).all() and (again <= r2[:, None, 2:] + 1e-3).all()
    assert net.predict(img, np.zeros((0, 4), np.float32)).shape == (0, 4, 2)
    edge = net.predict(img, np.array([[300, 200, 340, 260]], np.float32))  # reaches past the image
    assert edge[..., 0].max() <= 320 and edge[..., 1].max() <= 240


def test_corner_net_rejects_other_models_and_missing_files(tiny_onnx: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a platewise corner network"):
        CornerNet(tiny_onnx)
    with pytest.raises(ModelNotFound):
        CornerNet(tmp_path / "nope.onnx")


def test_detector_with_a_corner_net_reports_its_corners(tiny_onnx: Path, tiny_corner_net: Path) -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
    kw = {"threads": 1, "score_threshold": 0.0, "corner_refine": False, "box_blend": 0.0}
    assert PlateDetector(tiny_onnx, **kw).corner_net is None  # a custom detector gets none unless given one
    det = PlateDetector(tiny_onnx, corner_net=tiny_corner_net, **kw)
    got = det.detect_raw([img])[0]
    assert len(got.scores) > 0, "the untrained tiny detector should give candidates"
    assert det.corner_net is not None
    np.testing.assert_allclose(got.corners, det.corner_net.predict(img, got.boxes), atol=1e-4)


@pytest.mark.skipif(not DEFAULT_CORNER_NET.is_file(), reason="no shipped corner network")
def test_shipped_detector_uses_the_shipped_corner_net_unless_told_not_to() -> None:
    assert PlateDetector(threads=1).corner_net is not None
    assert PlateDetector(threads=1, corner_net=False).corner_net is None


def test_corner_loss_is_the_mean_corner_distance_over_the_plate_width() -> None:
    torch = pytest.importorskip("torch")
    from platewise.detection.corner_train import corner_loss

    target = torch.tensor([[0.2, 0.3, 0.8, 0.3, 0.8, 0.7, 0.2, 0.7]])
    pred = target.clone()
    pred[0, 0] += 0.1  # TL 0.1 of the crop width to the right
    pred[0, 5] += 0.05  # TR 0.05 of the crop height lower
    scale = torch.tensor([[1.5, 0.8]])  # crop width 1.5 plate widths, height 0.8
    want = (0.1 * 1.5 + 0.05 * 0.8) / 4
    assert float(corner_loss(pred, target, scale)) == pytest.approx(want, abs=1e-4)


def test_flip_mirrors_the_crop_and_swaps_the_corner_order() -> None:
    pytest.importorskip("torch")
    from platewise.detection.corner_train import _flip

    x = np.zeros((2, 4, 10, 3), np.float32)
    x[:, 1, 2] = 1.0
    t = np.array([[0.1, 0.2, 0.7, 0.25, 0.75, 0.8, 0.15, 0.85]] * 2, np.float32)
    _flip(x, t, np.array([True, False]))
    assert x[0, 1, 7].max() == 1.0 and x[0, 1, 2].max() == 0.0 and x[1, 1, 2].max() == 1.0
    np.testing.assert_allclose(t[0], [0.3, 0.25, 0.9, 0.2, 0.85, 0.85, 0.25, 0.8])  # TL'=flip(TR), ...
    np.testing.assert_allclose(t[1], [0.1, 0.2, 0.7, 0.25, 0.75, 0.8, 0.15, 0.85])


def test_corner_training_command_writes_a_corner_net(tmp_path: Path, tiny_data_root: Path) -> None:
    pytest.importorskip("torch")
    import json

    from platewise.detection.corner_train import main

    out = tmp_path / "run"
    args = ["--out", str(out), "--data-root", str(tiny_data_root), "--scenes", "4", "--val", "2"]
    assert main([*args, "--steps", "3", "--batch", "8"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["train_crops"] > 0
    assert 0.0 < summary["validation"]["mean"] < 1.0
    net = CornerNet(out / "corners.onnx", threads=1)
    assert net.size == (48, 144) and net.iterations == 1
    assert (out / "corners.pt").is_file() and (out / "samples.npz").is_file()


def test_surround_draws_around_the_plate_and_keeps_the_plate() -> None:
    pytest.importorskip("torch")
    from platewise.detection.corner_train import add_surround

    rng = np.random.default_rng(4)
    img = np.full((200, 300, 3), 128, np.uint8)
    img[80:120, 100:200] = rng.integers(0, 255, (40, 100, 3), dtype=np.uint8)  # the "plate"
    quad = np.array([[100, 80], [200, 80], [200, 120], [100, 120]], np.float32)
    changed_outside = 0
    for _ in range(20):
        out = add_surround(rng, img, quad)
        assert out.shape == img.shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out[82:118, 102:198], img[82:118, 102:198])  # the plate stays on top
        changed_outside += int((out[60:140, 80:220].astype(int) != 128).any(2).sum() > 100 * 40 + 200)
        assert (out[:10, :10] == 128).all()  # far away: untouched
    assert changed_outside >= 18  # a recess or a frame every time


def test_predict_many_gives_each_images_corners_as_predict_does(tiny_corner_net: Path) -> None:
    net = CornerNet(tiny_corner_net, threads=1)
    rng = np.random.default_rng(4)
    images = [rng.integers(0, 255, s, dtype=np.uint8) for s in ((240, 320, 3), (100, 150, 3), (80, 60))]
    boxes = [
        np.array([[40, 50, 200, 100], [10, 150, 90, 180]], np.float32),
        np.zeros((0, 4), np.float32),  # an image without plates in the middle
        np.array([[5, 10, 55, 30]], np.float32),  # greyscale, a plate reaching the border
    ]
    for iterations in (1, 2):
        got = net.predict_many(images, boxes, iterations=iterations)
        assert [g.shape for g in got] == [(2, 4, 2), (0, 4, 2), (1, 4, 2)]
        for g, im, b in zip(got, images, boxes, strict=True):
            np.testing.assert_allclose(g, net.predict(im, b, iterations=iterations), atol=1e-4)
    assert [g.shape for g in net.predict_many(images[:2], [boxes[1], boxes[1]])] == [(0, 4, 2), (0, 4, 2)]
    assert net.predict_many([], []) == []
    with pytest.raises(ValueError, match="2 images but 1 box arrays"):
        net.predict_many(images[:2], boxes[:1])
