from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from platewise.detection.detector import DEFAULT_WEIGHTS, PlateDetector
from platewise.errors import InvalidImage, InvalidInput, ModelNotFound
from platewise.types import Detection


@pytest.fixture(scope="module")
def det(tiny_onnx: Path) -> PlateDetector:
    return PlateDetector(tiny_onnx, threads=1, score_threshold=0.3)


def test_detect_returns_one_list_per_image_in_original_pixels(det: PlateDetector) -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), rng.integers(0, 255, (50, 90, 3), dtype=np.uint8)]
    out = det.detect(images)
    assert len(out) == 2
    for img, dets in zip(images, out, strict=False):
        h, w = img.shape[:2]
        for d in dets:
            assert isinstance(d, Detection)
            assert 0 <= d.box.x1 <= d.box.x2 <= w
            assert 0 <= d.box.y1 <= d.box.y2 <= h
            pts = d.corners.as_array()
            assert pts.shape == (4, 2)
            assert (pts[:, 0] <= w).all()
            assert (pts[:, 1] <= h).all()
            assert 0.3 <= d.score <= 1.0


def test_detect_batches_larger_than_the_batch_size(tiny_onnx: Path) -> None:
    d = PlateDetector(tiny_onnx, threads=1, batch_size=2)
    assert len(d.detect([np.zeros((40, 60, 3), np.uint8)] * 5)) == 5


def test_detect_accepts_grayscale_rgba_and_rgb(det: PlateDetector) -> None:
    assert len(det.detect([np.zeros((64, 64), np.uint8)])) == 1
    assert len(det.detect([np.zeros((64, 64, 4), np.uint8)])) == 1
    assert len(det.detect([np.zeros((64, 64, 3), np.uint8)], rgb=True)) == 1


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros((1, 1, 3), np.uint8), "too small"),
        (np.zeros((20000, 20000, 3), np.uint8), "pixel limit"),  # np.zeros does not touch the memory
        (np.zeros((64, 64, 3), np.float32), "uint8"),
        (np.zeros((64, 64, 2), np.uint8), "shape"),
        ("not an image", "numpy array"),
    ],
)
def test_detect_rejects_bad_images_with_a_clear_message(det: PlateDetector, image: object, match: str) -> None:
    with pytest.raises(InvalidImage, match=match):
        det.detect([image])  # type: ignore[list-item]


def test_detect_asks_for_a_list_when_given_one_array(det: PlateDetector) -> None:
    with pytest.raises(InvalidInput, match="list"):
        det.detect(np.zeros((64, 64, 3), np.uint8))


def test_input_size_must_be_a_multiple_of_the_largest_stride(tiny_onnx: Path) -> None:
    with pytest.raises(InvalidInput, match="multiples"):
        PlateDetector(tiny_onnx, input_size=(100, 100))
    assert PlateDetector(tiny_onnx, input_size=(96, 160)).input_size == (96, 160)


def test_missing_model_file_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound):
        PlateDetector(tmp_path / "nope.onnx")


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="no shipped detector weights")
def test_shipped_detector_runs_without_importing_torch() -> None:
    code = (
        "import sys, numpy as np\n"
        "from platewise.detection.detector import PlateDetector\n"
        "d = PlateDetector()\n"
        "out = d.detect([np.zeros((720, 1280, 3), np.uint8)])\n"
        "assert len(out) == 1 and d.input_size[0] % 32 == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_contain_threshold_is_checked_and_drops_nested_detections(tiny_onnx: Path) -> None:
    from platewise.detection.decode import RawDetections
    from platewise.detection.detector import DEFAULT_CONTAIN_THRESHOLD

    assert PlateDetector(tiny_onnx, verifier=False).contain_threshold == 1.0  # off without a verifier
    if DEFAULT_WEIGHTS.is_file():
        assert PlateDetector().contain_threshold == DEFAULT_CONTAIN_THRESHOLD  # the shipped verifier is on
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(InvalidInput, match="contain_threshold"):
            PlateDetector(tiny_onnx, contain_threshold=bad)
    boxes = np.array([[0, 0, 100, 40], [10, 5, 60, 35], [200, 0, 260, 30]], np.float32)
    found = RawDetections(boxes, np.zeros((3, 4, 2), np.float32), np.array([0.9, 0.7, 0.5], np.float32))
    kept = PlateDetector(tiny_onnx, contain_threshold=0.6)._uncontained(found)
    assert kept.boxes.tolist() == boxes[[0, 2]].tolist() and kept.scores.tolist() == pytest.approx([0.9, 0.5])


def test_contain_margin_comes_from_the_verifier_and_lets_the_tight_box_win(
    tiny_onnx: Path, tiny_verifier: Path, tmp_path: Path
) -> None:
    import shutil

    from platewise.detection.decode import RawDetections
    from platewise.training.export import update_metadata

    assert PlateDetector(tiny_onnx, verifier=False).contain_margin == 0.0  # off without a verifier
    assert PlateDetector(tiny_onnx, verifier=tiny_verifier).contain_margin == 0.0  # none in its metadata
    ver = tmp_path / "verifier.onnx"
    shutil.copy(tiny_verifier, ver)
    update_metadata(ver, {"contain_margin": 0.05})
    det = PlateDetector(tiny_onnx, verifier=ver)
    assert det.contain_margin == 0.05 and det.default_threshold == pytest.approx(0.2)
    assert PlateDetector(tiny_onnx, verifier=ver, contain_margin=0.0).contain_margin == 0.0  # given wins
    for bad in (-0.1, 1.5):
        with pytest.raises(InvalidInput, match="contain_margin"):
            PlateDetector(tiny_onnx, verifier=ver, contain_margin=bad)
    loose, tight = [0, 0, 100, 40], [10, 5, 60, 35]
    found = RawDetections(
        np.array([loose, tight], np.float32), np.zeros((2, 4, 2), np.float32), np.array([0.62, 0.58], np.float32)
    )
    assert det._uncontained(found).boxes.tolist() == [tight]
    assert PlateDetector(tiny_onnx, verifier=ver, contain_margin=0.0)._uncontained(found).boxes.tolist() == [loose]
    # a tight box below the reported threshold cannot make the loose one give way
    high = PlateDetector(tiny_onnx, verifier=ver, score_threshold=0.6)
    assert high._uncontained(found).boxes.tolist() == [loose]


def test_corner_voting_settings_are_checked(tiny_onnx: Path) -> None:
    assert PlateDetector(tiny_onnx).corner_vote_iou == pytest.approx(0.7)  # on by default
    with pytest.raises(InvalidInput, match="corner_vote"):
        PlateDetector(tiny_onnx, corner_vote_iou=1.5)


# -- the close-up pass ---------------------------------------------------------------------------------------


def _raw(boxes: list[list[float]], scores: list[float]):
    from platewise.detection.decode import RawDetections

    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    c = np.stack([b[:, [0, 1]], b[:, [2, 1]], b[:, [2, 3]], b[:, [0, 3]]], 1) if len(b) else np.zeros((0, 4, 2))
    return RawDetections(b, c.astype(np.float32), np.asarray(scores, np.float32))


def test_merge_closeup_adds_only_large_plates_and_drops_their_fragments() -> None:
    from platewise.detection.detector import merge_closeup

    main = _raw([[10, 10, 60, 30], [220, 130, 330, 170], [400, 300, 440, 315]], [0.8, 0.5, 0.6])
    # a whole close-up plate (wider than 0.4 x 600), a duplicate of main's first box, and a small box
    close = _raw([[100, 100, 500, 230], [12, 10, 60, 31], [400, 300, 440, 315]], [0.7, 0.9, 0.9])
    out = merge_closeup(main, close, (480, 600), min_width=0.4, nms_threshold=0.45)
    got = sorted((tuple(int(v) for v in b), round(float(s), 2)) for b, s in zip(out.boxes, out.scores, strict=True))
    # main's 2nd box lies inside the close-up plate and scores lower: a fragment, dropped;
    # the small close-up boxes are ignored (main's own copies stay, with main's scores)
    assert got == [((10, 10, 60, 30), 0.8), ((100, 100, 500, 230), 0.7), ((400, 300, 440, 315), 0.6)]
    assert list(out.scores) == sorted(out.scores, reverse=True)
    assert out.corners.shape == (3, 4, 2)


def test_merge_closeup_without_large_plates_returns_the_main_pass_unchanged() -> None:
    from platewise.detection.detector import merge_closeup

    main = _raw([[10, 10, 60, 30]], [0.8])
    assert merge_closeup(main, _raw([[0, 0, 50, 20]], [0.9]), (480, 600), 0.4, 0.45) is main
    assert merge_closeup(main, _raw([], []), (480, 600), 0.4, 0.45) is main


def test_closeup_pass_settings(tiny_onnx: Path) -> None:
    assert PlateDetector(tiny_onnx).closeup_size is not None  # on by default
    assert PlateDetector(tiny_onnx, input_size=(384, 640), closeup_scale=0.5).closeup_size == (192, 320)
    assert PlateDetector(tiny_onnx, input_size=(96, 160), closeup_scale=0.1).closeup_size == (32, 32)
    assert PlateDetector(tiny_onnx, closeup_scale=0).closeup_size is None
    for bad in ({"closeup_scale": 1.0}, {"closeup_scale": -0.1}, {"closeup_min_width": 0.0}):
        with pytest.raises(InvalidInput, match="closeup"):
            PlateDetector(tiny_onnx, **bad)


@pytest.mark.parametrize("shape", [(720, 1280, 3), (471, 587, 3), (100, 900, 3), (60, 80, 3)])
def test_closeup_input_from_the_main_letterbox_matches_a_direct_letterbox(tiny_onnx: Path, shape) -> None:
    from platewise.detection.preprocess import letterbox

    d = PlateDetector(tiny_onnx, input_size=(384, 640), closeup_scale=0.5)
    img = cv2.GaussianBlur(np.random.default_rng(1).integers(0, 255, shape, dtype=np.uint8), (9, 9), 3)
    small, lb = d._shrink(img, letterbox(img, d.input_size), d.input_size, (192, 320))
    ref, ref_lb = letterbox(img, (192, 320))
    assert small.shape == ref.shape == (192, 320, 3)
    assert lb.scale == pytest.approx(ref_lb.scale, rel=0.02)
    assert abs(lb.pad_x - ref_lb.pad_x) <= 1 and abs(lb.pad_y - ref_lb.pad_y) <= 1
    assert (lb.orig_h, lb.orig_w) == shape[:2]
    assert np.abs(small.astype(int) - ref.astype(int)).mean() < 6


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="no shipped detector weights")
def test_shipped_detector_finds_a_plate_filling_the_frame_only_with_the_closeup_pass(data_root: Path) -> None:
    from platewise.detection.evaluate import box_iou_matrix
    from platewise.imageio import load_image

    img = load_image(data_root / "openalpr-dev" / "br" / "PVX0095.jpg")  # plate 460 of 587 px wide
    truth = np.asarray([[34, 115, 34 + 460, 115 + 149]], np.float32)

    def best_iou(det: PlateDetector) -> float:
        raw = det.detect_raw([img])[0]
        return float(box_iou_matrix(raw.boxes, truth).max()) if len(raw.boxes) else 0.0

    assert best_iou(PlateDetector(threads=1)) >= 0.7
    assert best_iou(PlateDetector(threads=1, closeup_scale=0)) < 0.5


def test_box_blend_setting_is_checked_and_zero_keeps_the_network_boxes(tiny_onnx: Path) -> None:
    with pytest.raises(InvalidInput, match="box_blend"):
        PlateDetector(tiny_onnx, box_blend=1.5)
    img = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 255, (240, 320, 3), dtype=np.uint8), (5, 5), 2)
    kw = {"score_threshold": 0.0, "corner_refine": False, "closeup_scale": 0.0}
    plain = PlateDetector(tiny_onnx, box_blend=0.0, **kw).detect_raw([img])[0]
    half = PlateDetector(tiny_onnx, box_blend=0.5, **kw).detect_raw([img])[0]
    assert len(plain.boxes) and len(plain.boxes) == len(half.boxes)
    tight = np.concatenate([plain.corners.min(1), plain.corners.max(1)], 1)
    np.testing.assert_allclose(half.boxes, (plain.boxes + tight) / 2, atol=1e-3)
    np.testing.assert_array_equal(half.corners, plain.corners)


@pytest.mark.parametrize(("h", "w"), [(2160, 3840), (1080, 1920), (900, 5000), (3000, 700), (1441, 2561)])
def test_tile_grid_covers_the_image_with_overlapping_tiles_at_its_edges(h: int, w: int) -> None:
    from platewise.detection.detector import tile_grid

    tiles = tile_grid(h, w, (768, 1280), 0.25)
    covered = np.zeros((h, w), bool)
    for x1, y1, x2, y2 in tiles:
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
        assert (x2 - x1, y2 - y1) == (min(1280, w), min(768, h))
        covered[y1:y2, x1:x2] = True
    assert covered.all()
    xs, ys = sorted({t[0] for t in tiles}), sorted({t[1] for t in tiles})
    assert xs[0] == 0 and ys[0] == 0 and max(t[2] for t in tiles) == w and max(t[3] for t in tiles) == h
    assert all(b - a <= 1280 * 0.75 + 1 for a, b in zip(xs, xs[1:], strict=False))  # at least a quarter overlaps
    assert all(b - a <= 768 * 0.75 + 1 for a, b in zip(ys, ys[1:], strict=False))
    assert len(tiles) == len(xs) * len(ys)


def test_tile_grid_leaves_images_of_one_tile_alone() -> None:
    from platewise.detection.detector import tile_grid

    assert tile_grid(720, 1280, (768, 1280), 0.25) == []
    assert tile_grid(768, 1280, (768, 1280), 0.0) == []
    assert tile_grid(100, 1281, (768, 1280), 0.0) == [(0, 0, 1280, 100), (1, 0, 1281, 100)]


def test_tile_settings_are_checked(tiny_onnx: Path) -> None:
    for kw in ({"tile_size": 10}, {"tile_size": -1}, {"tile_overlap": 0.95}, {"tile_overlap": -0.1}):
        with pytest.raises(InvalidInput, match="tile_"):
            PlateDetector(tiny_onnx, threads=1, **kw)
    det = PlateDetector(tiny_onnx, threads=1, input_size=(384, 640))
    assert det.tile_hw == (768, 1280) and det.tile_above == 1920  # the default: automatic
    assert PlateDetector(tiny_onnx, threads=1, tile_size=0).tile_hw is None
    assert PlateDetector(tiny_onnx, threads=1, tile_size=640).tile_above == 0


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="no shipped detector")
def test_shipped_detector_finds_a_small_plate_in_a_4k_frame_through_tiles() -> None:
    scene = cv2.imread(str(Path(__file__).resolve().parents[2] / "examples" / "scene_1280x720.jpg"))
    det = PlateDetector(threads=1)
    (plate,) = det.detect([scene])[0]  # the plate of the 1280x720 scene, about 75 px wide
    # the scene pasted into a 3840x2160 frame so that the plate straddles the right edge of the first tile
    # column (x 0-1280): the whole-image pass sees it at a sixth of its size, the tiles at half
    x0, y0 = 1240 - round(plate.box.x1), 700
    big = np.full((2160, 3840, 3), 90, np.uint8)
    big[y0 : y0 + 720, x0 : x0 + 1280] = scene
    assert PlateDetector(threads=1, tile_size=0).detect([big])[0] == []
    found = det.detect([big])[0]  # automatic tiles: the frame is over 1920 pixels wide
    assert len(found) == 1  # found once: the cut copy in the first tile column is dropped
    want = np.asarray(plate.box.as_list()) + [x0, y0, x0, y0]
    assert np.abs(np.asarray(found[0].box.as_list()) - want).max() < 6
    # a 1280x720 frame is not tiled: the same result as with tiles off
    off = PlateDetector(threads=1, tile_size=0).detect_raw([scene])[0]
    assert np.array_equal(det.detect_raw([scene])[0].boxes, off.boxes)


def test_tiles_in_a_mixed_batch_keep_every_box_inside_its_image(tiny_onnx: Path) -> None:
    rng = np.random.default_rng(7)
    big = rng.integers(0, 255, (2200, 3000, 3), dtype=np.uint8)  # tiled: longer side over 1920
    grey = rng.integers(0, 255, (1000, 2100), dtype=np.uint8)  # tiled, greyscale
    small = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)  # not tiled
    kw = {"threads": 1, "score_threshold": 0.0, "batch_size": 3}
    tiled = PlateDetector(tiny_onnx, **kw).detect_raw([big, grey, small])
    plain = PlateDetector(tiny_onnx, tile_size=0, **kw).detect_raw([big, grey, small])
    assert len(tiled) == 3
    for raw, im in zip(tiled, (big, grey, small), strict=True):
        h, w = im.shape[:2]
        assert raw.boxes.shape[1:] == (4,) and raw.corners.shape[1:] == (4, 2)
        assert (raw.boxes[:, [0, 2]] <= w).all() and (raw.boxes[:, [1, 3]] <= h).all() and (raw.boxes >= 0).all()
        assert (np.diff(raw.scores) <= 0).all()
    assert np.array_equal(tiled[2].boxes, plain[2].boxes)  # the small image is not tiled
    assert len(tiled[0].scores) != len(plain[0].scores) or not np.array_equal(tiled[0].boxes, plain[0].boxes)


def _mirrored(raw, width: int):  # type: ignore[no-untyped-def]
    """Detections of an image mirrored left to right, as the unmirrored image's: boxes and corners mapped back,
    corners in TL, TR, BR, BL order again, best score first."""
    b = raw.boxes.copy()
    b[:, [0, 2]] = width - raw.boxes[:, [2, 0]]
    c = raw.corners.copy()
    c[..., 0] = width - c[..., 0]
    return b, c[:, [1, 0, 3, 2]]


@pytest.mark.parametrize("fusion", ["mean", "max"])
def test_flip_makes_detection_mirror_symmetric(fusion: str) -> None:
    # A 384x640 scene fills the input without padding: with the flip, detecting in the mirrored scene must give
    # the mirror image of the detections (each location's two views are the same pair of network outputs). The
    # companions that are not mirror-symmetric (corner network, refinement, close-up, verifier) are off.
    from platewise.data.synthetic.scenes import SceneSynthesizer

    rng = np.random.default_rng(3)
    bg = cv2.GaussianBlur(rng.integers(0, 255, (384, 640, 3), dtype=np.uint8), (0, 0), 2)
    img = SceneSynthesizer([bg], seed=1).sample(640, 384).image
    assert img.shape == (384, 640, 3)
    opts = dict(threads=1, score_threshold=0.05, verifier=False, corner_net=False, closeup_scale=0.0)
    opts.update(corner_refine=False, box_blend=0.0)
    flipped = PlateDetector(flip=fusion, **opts)  # type: ignore[arg-type]
    a, b = flipped.detect_raw([img, np.ascontiguousarray(img[:, ::-1])])
    assert len(a.scores) >= 1 and len(a.scores) == len(b.scores)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    boxes, corners = _mirrored(b, 640)
    np.testing.assert_allclose(a.boxes, boxes, atol=0.05)
    np.testing.assert_allclose(a.corners, corners, atol=0.05)
    plain = PlateDetector(**opts)  # type: ignore[arg-type]
    a, b = plain.detect_raw([img, np.ascontiguousarray(img[:, ::-1])])
    assert not np.allclose(a.scores[:1], b.scores[:1], atol=1e-3)  # one view alone is not symmetric


def test_flip_fusions_and_setting(tiny_onnx: Path) -> None:
    img = cv2.GaussianBlur(np.random.default_rng(4).integers(0, 255, (300, 500, 3), dtype=np.uint8), (0, 0), 3)
    opts = dict(threads=1, score_threshold=0.0, closeup_scale=0.0)
    best = {f: PlateDetector(tiny_onnx, flip=f, **opts).detect_raw([img])[0].scores.max() for f in ("mean", "max")}  # type: ignore[arg-type]
    assert best["max"] >= best["mean"]
    assert PlateDetector(tiny_onnx, flip=True, **opts).flip == "mean"  # type: ignore[arg-type]
    assert PlateDetector(tiny_onnx, **opts).flip is None  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="flip 'median'"):
        PlateDetector(tiny_onnx, flip="median")
