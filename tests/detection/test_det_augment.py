from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from platewise.detection.augment import affine_crop, hflip, photometric
from platewise.detection.dataset import DetectionSampler, SceneRecord, build_cache, load_cache
from platewise.errors import InvalidInput

QUAD = np.array([[[20, 30], [60, 32], [58, 45], [22, 43]]], np.float32)
BOX = np.concatenate([QUAD.min(1), QUAD.max(1)], 1)


def test_hflip_keeps_corners_ordered_tl_tr_br_bl() -> None:
    img = np.zeros((80, 100, 3), np.uint8)
    _, boxes, corners = hflip(img, BOX, QUAD)
    tl, tr, br, bl = corners[0]
    assert tl[0] < tr[0]
    assert bl[0] < br[0]
    assert tl[1] < bl[1]
    assert tr[1] < br[1]
    np.testing.assert_allclose(boxes[0], [100 - 60, 30, 100 - 20, 45])


def test_affine_crop_moves_boxes_and_corners_with_the_image() -> None:
    img = np.zeros((80, 100, 3), np.uint8)
    out, boxes, corners, has = affine_crop(img, BOX, QUAD, np.array([True]), 64, 0.5, (50.0, 40.0))
    assert out.shape == (64, 64, 3)
    np.testing.assert_allclose(corners[0][0], [(20 - 50) * 0.5 + 32, (30 - 40) * 0.5 + 32], atol=1e-4)
    np.testing.assert_allclose(boxes[0], np.concatenate([corners[0].min(0), corners[0].max(0)]), atol=1e-4)
    assert has.tolist() == [True]


def test_affine_crop_drops_boxes_that_leave_the_crop() -> None:
    img = np.zeros((400, 400, 3), np.uint8)
    _, boxes, corners, has = affine_crop(img, BOX, QUAD, np.array([False]), 64, 1.0, (300.0, 300.0))
    assert len(boxes) == len(corners) == len(has) == 0


def test_photometric_keeps_shape_and_dtype() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (50, 60, 3), dtype=np.uint8)
    for _ in range(20):
        out = photometric(img, rng, strength=1.0)
        assert out.shape == img.shape
        assert out.dtype == np.uint8


def _records(n: int, with_boxes: bool) -> list[SceneRecord]:
    import cv2

    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        img = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
        ok, enc = cv2.imencode(".png", img)
        boxes = np.array([[40, 50, 100, 70]], np.float32) if with_boxes else np.zeros((0, 4), np.float32)
        out.append(SceneRecord(f"f/{i}.png", enc.tobytes(), boxes))
    return out


def test_sampler_returns_square_samples_with_consistent_targets() -> None:
    sampler = DetectionSampler(_records(3, True), _records(2, False), 96, synth_fraction=0.5, mosaic_prob=0.3)
    rng = np.random.default_rng(0)
    seen_corners = False
    for _ in range(30):
        s = sampler.sample(rng)
        assert s.image.shape == (96, 96, 3)
        assert s.image.dtype == np.uint8
        assert len(s.boxes) == len(s.corners) == len(s.has_corners)
        assert (s.boxes[:, 2] > s.boxes[:, 0]).all()
        assert (s.boxes[:, 3] > s.boxes[:, 1]).all()
        seen_corners |= bool(s.has_corners.any())
    assert seen_corners


def test_cache_round_trips_records_and_scales_boxes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    recs = _records(2, True)
    path = build_cache(recs, tmp_path / "c.pkl", max_side=80)
    back = load_cache(path)
    assert [r.key for r in back] == [r.key for r in recs]
    assert back[0].image().shape == (60, 80, 3)
    np.testing.assert_allclose(back[0].boxes, recs[0].boxes * 0.5)


def test_sampler_scale_range_sets_the_plate_size_seen_in_training() -> None:
    """A higher ``scale_max`` shows plates larger (the large close-ups that the default range never showed whole)."""

    def widths(scale_range: tuple[float, float]) -> float:
        sampler = DetectionSampler(
            _records(3, True), [], 96, synth_fraction=0.0, mosaic_prob=0.0, scale_range=scale_range
        )
        rng = np.random.default_rng(0)
        ws = [float(s.boxes[0, 2] - s.boxes[0, 0]) for s in (sampler.sample(rng) for _ in range(40)) if len(s.boxes)]
        return float(np.median(ws))

    # the 60 px wide box of a 160 px image, whole image fitted to 96 px: 36 px at scale 1
    assert widths((1.0, 1.0)) == pytest.approx(36.0, abs=1.0)
    assert widths((2.0, 2.0)) > 1.8 * 36.0  # twice as wide, less the crops that cut a plate at the edge


def test_sampler_rejects_an_empty_scale_range() -> None:
    with pytest.raises(InvalidInput, match="scale range"):
        DetectionSampler(_records(1, True), [], 96, scale_range=(2.0, 1.0))


def test_distractors_draw_text_outside_the_boxes_to_avoid() -> None:
    from platewise.detection.synth import paste_distractors

    rng = np.random.default_rng(3)
    img = np.full((240, 320, 3), 128, np.uint8)
    avoid = np.array([[100, 80, 220, 160]], np.float32)
    out = paste_distractors(rng, img, 3, avoid=avoid)
    assert out.shape == img.shape and out.dtype == np.uint8
    changed = (out != img).any(2)
    assert changed.any()
    assert not changed[80:161, 100:221].any()  # the plate region is untouched
    assert (img == 128).all()  # the input is not modified


def test_sampler_with_distractors_keeps_labels_unchanged() -> None:
    sampler = DetectionSampler(_records(2, True), [], 96, synth_fraction=0.0, mosaic_prob=0.0, distractor_prob=1.0)
    rng = np.random.default_rng(0)
    for _ in range(10):
        s = sampler.sample(rng)
        assert len(s.boxes) <= 1  # only the labelled plate, never a distractor


def _audit(tmp_path, rows: str):  # type: ignore[no-untyped-def]
    f = tmp_path / "audit.csv"
    f.write_text("folder,image,region,x,y,w,h,verdict\n" + rows)
    return f


def test_apply_audit_adds_plates_as_boxes_and_unsure_ones_as_ignore_regions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from platewise.detection.dataset import apply_audit

    recs = _records(3, True)
    a = _audit(tmp_path, "f,0.png,x,10,20,30,8,plate\nf,0.png,x,100,90,20,8,unsure\nf,2.png,x,1,2,3,4,plate\n")
    b = tmp_path / "empty.csv"
    b.write_text("folder,image,region,x,y,w,h,verdict\n")  # an audit without rows changes nothing
    out, n_plates, n_ignore = apply_audit(recs, (str(a), str(b)))
    assert (n_plates, n_ignore) == (2, 1)
    assert out[0].boxes.tolist() == [[40, 50, 100, 70], [10, 20, 40, 28]]
    assert out[0].ignore.tolist() == [[100, 90, 120, 98]]
    assert out[1] is recs[1]  # not audited: unchanged
    assert out[2].boxes.shape == (2, 4) and out[2].ignore.shape == (0, 4)
    assert recs[0].boxes.shape == (1, 4)  # the input records are not modified


def test_apply_audit_ignores_rows_of_images_it_is_not_given(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from platewise.detection.dataset import apply_audit

    out, n_plates, n_ignore = apply_audit(
        _records(1, True), (str(_audit(tmp_path, "g/holdout.png,,x,1,2,3,4,plate\n")),)
    )
    assert (n_plates, n_ignore) == (0, 0)
    assert out[0].boxes.shape == (1, 4)


def test_read_audit_says_what_is_wrong_with_a_bad_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from platewise.detection.dataset import read_audit

    with pytest.raises(InvalidInput, match="not found"):
        read_audit(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("folder,image,x,y\nf,0.png,1,2\n")
    with pytest.raises(InvalidInput, match="no column"):
        read_audit(bad)


def test_move_boxes_keeps_any_visible_part_of_an_ignore_region_at_min_visible_zero() -> None:
    from platewise.detection.augment import crop_matrix, move_boxes

    m = crop_matrix(64, 1.0, (32.0, 32.0))  # identity
    boxes = np.array([[50, 10, 90, 20], [100, 100, 120, 110]], np.float32)  # half inside, wholly outside
    none = np.zeros((2, 4, 2), np.float32)
    b, _, _, keep = move_boxes(m, boxes, none, np.zeros(2, bool), 64, 0.0)
    assert keep.tolist() == [True, False]
    assert b.tolist() == [[50, 10, 64, 20]]
    assert move_boxes(m, boxes, none, np.zeros(2, bool), 64)[3].tolist() == [False, False]  # 35% inside < 45%


def test_sampler_carries_ignore_regions_through_crops_flips_and_mosaics() -> None:
    from dataclasses import replace

    recs = [replace(r, ignore=np.array([[10, 10, 30, 20]], np.float32)) for r in _records(2, True)]
    sampler = DetectionSampler(recs, [], 96, synth_fraction=0.0, mosaic_prob=0.5)
    rng = np.random.default_rng(0)
    seen = 0
    for _ in range(40):
        s = sampler.sample(rng)
        assert s.ignore.dtype == np.float32 and s.ignore.shape[1:] == (4,)
        assert (s.ignore >= 0).all() and (s.ignore <= 96).all()
        assert (s.ignore[:, 2] >= s.ignore[:, 0]).all() and (s.ignore[:, 3] >= s.ignore[:, 1]).all()
        seen += len(s.ignore)
    assert seen > 0
    # scale 1 without mosaics: the 20x10 region of a 160x120 image fitted to 96 px is 12x6 px (some crops
    # rotate it by up to 5 degrees or cut it at the edge)
    one = DetectionSampler(recs, [], 96, synth_fraction=0.0, mosaic_prob=0.0, scale_range=(1.0, 1.0))
    ign = np.concatenate([one.sample(rng).ignore for _ in range(20)])
    assert float(np.median(ign[:, 2] - ign[:, 0])) == pytest.approx(12.0, abs=0.5)
    assert float(np.median(ign[:, 3] - ign[:, 1])) == pytest.approx(6.0, abs=0.5)


def test_cache_keeps_ignore_regions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    recs = [replace(r, ignore=np.array([[10, 10, 30, 20]], np.float32)) for r in _records(1, True)]
    back = load_cache(build_cache(recs, tmp_path / "c.pkl", max_side=80))
    np.testing.assert_allclose(back[0].ignore, [[5, 5, 15, 10]])


def test_pack_script_writes_the_training_side_and_negatives(tiny_data_root: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from platewise.data.splits import is_holdout

    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "pack.pkl"
    cmd = [sys.executable, str(repo / "scripts" / "pack_detector_data.py"), "--out", str(out)]
    done = subprocess.run(
        [*cmd, "--data-root", str(tiny_data_root), "--max-side", "160"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    recs = load_cache(out)
    assert recs and not any(is_holdout(r.key) for r in recs)
    assert {r.key.split("/")[0] for r in recs} == {"openlpr-scenes", "ro-dashcam", "openalpr-dev", "negatives"}
    assert max(max(r.image().shape[:2]) for r in recs) <= 160
    bad = subprocess.run([*cmd, "--data-root", str(tmp_path / "none")], capture_output=True, text=True)
    assert bad.returncode == 2 and "--data-root" in bad.stderr
