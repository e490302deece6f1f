"""Corner refinement: sides snap to a plate's edges; degenerate input keeps its corners."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from platewise.detection.refine import refine_corners


def _scene(quad: np.ndarray, text: bool = True) -> np.ndarray:
    img = np.full((300, 400, 3), 60, np.uint8)
    cv2.fillConvexPoly(img, quad.astype(np.int32), (235, 235, 235))
    if text:  # dark characters inside the plate: edges the sides must not snap to
        c = quad.mean(0)
        cv2.putText(img, "AB 123", (int(c[0] - 75), int(c[1] + 14)), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (20, 20, 20), 4)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=-1).mean())


@pytest.mark.parametrize("angle", [0.0, 8.0, -12.0])
def test_noisy_corners_move_onto_the_plate_outline(angle: float) -> None:
    w, h = 200.0, 60.0
    base = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    truth = (base @ rot.T + [200, 150]).astype(np.float32)
    img = _scene(truth)
    rng = np.random.default_rng(0)
    noisy = truth + rng.normal(0, 4.0, truth.shape).astype(np.float32)  # ~7% of the height, 2% of the width
    noisy[:, 1] += [5, 5, -4, -4]  # and a box a little too tall
    refined = refine_corners(img, noisy[None])[0]
    assert refined.shape == (4, 2) and refined.dtype == np.float32
    assert _err(refined, truth) < 0.5 * _err(noisy, truth)
    assert _err(refined, truth) < 3.0


def test_clear_corners_stay_put_and_order_is_kept() -> None:
    truth = np.array([[100, 120], [300, 120], [300, 180], [100, 180]], np.float32)
    refined = refine_corners(_scene(truth), truth[None])[0]
    assert _err(refined, truth) < 1.5
    assert refined[0, 0] < refined[1, 0] and refined[3, 1] > refined[0, 1]  # TL, TR, BR, BL


def test_degenerate_tiny_and_empty_input_keep_their_corners() -> None:
    img = _scene(np.array([[100, 120], [300, 120], [300, 180], [100, 180]], np.float32))
    tiny = np.array([[[10, 10], [14, 10], [14, 12], [10, 12]]], np.float32)
    flat = np.array([[[50, 50], [50, 50], [50, 50], [50, 50]]], np.float32)
    nan = np.full((1, 4, 2), np.nan, np.float32)
    assert np.array_equal(refine_corners(img, tiny), tiny)
    assert np.array_equal(refine_corners(img, flat), flat)
    assert np.isnan(refine_corners(img, nan)).all()
    assert refine_corners(img, np.zeros((0, 4, 2), np.float32)).shape == (0, 4, 2)


def test_plates_at_the_border_and_grey_images_stay_inside_the_image() -> None:
    truth = np.array([[-20, 100], [150, 100], [150, 160], [-20, 160]], np.float32)
    img = _scene(truth, text=False)
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    for im in (img, grey):
        out = refine_corners(im, truth[None])[0]
        assert (out >= 0).all() and (out[:, 0] <= 400).all() and (out[:, 1] <= 300).all()


def test_blend_boxes_moves_each_box_toward_its_corners_bounding_box() -> None:
    from platewise.detection.refine import blend_boxes

    boxes = np.array([[10, 20, 110, 80], [0, 0, 40, 20]], np.float32)
    corners = np.array([[[20, 30], [100, 28], [102, 70], [18, 72]], [[0, 0], [40, 0], [40, 20], [0, 20]]], np.float32)
    half = blend_boxes(boxes, corners, 0.5)
    assert half.dtype == np.float32
    np.testing.assert_allclose(half[0], [14, 24, 106, 76])  # tight box 18,28,102,72
    np.testing.assert_allclose(half[1], boxes[1])  # already tight: unchanged
    np.testing.assert_allclose(blend_boxes(boxes, corners, 0.0), boxes)
    np.testing.assert_allclose(blend_boxes(boxes, corners, 1.0)[0], [18, 28, 102, 72])
    assert blend_boxes(np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32), 0.5).shape == (0, 4)


def test_sides_with_no_edge_near_them_stay_put() -> None:
    flat = np.full((200, 300, 3), 90, np.uint8)
    quad = np.array([[[60, 70], [240, 70], [240, 130], [60, 130]]], np.float32)
    out = refine_corners(flat, quad)[0]
    # left/right: the smallest step of their grid (5% of the search range, 10% then 5% of the width)
    assert np.abs(out - quad[0]).max() <= 0.05 * (0.1 + 0.05) * 180 + 1e-3
    np.testing.assert_allclose(out[:, 1], quad[0, :, 1], atol=1e-3)  # top and bottom: exactly where they were


def test_refine_many_gives_each_images_corners_as_refine_does() -> None:
    from platewise.detection.refine import refine_corners_many

    a = np.array([[100, 120], [300, 120], [300, 180], [100, 180]], np.float32)
    b = np.array([[60, 40], [250, 60], [245, 115], [55, 95]], np.float32)
    scenes = [_scene(a), cv2.cvtColor(_scene(b), cv2.COLOR_BGR2GRAY), _scene(a)]
    rng = np.random.default_rng(1)
    quads = [
        np.stack([a + rng.normal(0, 3, a.shape), a * 0 + 50]).astype(np.float32),  # a plate and a degenerate one
        (b + rng.normal(0, 3, b.shape)).astype(np.float32)[None],
        np.zeros((0, 4, 2), np.float32),
    ]
    got = refine_corners_many(scenes, quads)
    assert [g.shape for g in got] == [(2, 4, 2), (1, 4, 2), (0, 4, 2)]
    for g, im, q in zip(got, scenes, quads, strict=True):
        assert np.array_equal(g, refine_corners(im, q))  # the same numbers, not just close
    assert np.array_equal(got[0][1], quads[0][1])  # the degenerate quad keeps its corners
    assert _err(got[1][0], b) < _err(quads[1][0], b)
    with pytest.raises(ValueError, match="2 images but 1 corner arrays"):
        refine_corners_many(scenes[:2], quads[:1])


def test_refine_many_searches_large_batches_in_groups_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from platewise.detection import refine

    truth = np.array([[100, 120], [300, 120], [300, 180], [100, 180]], np.float32)
    rng = np.random.default_rng(2)
    quads = (truth[None] + rng.normal(0, 3, (7, 4, 2))).astype(np.float32)
    img = _scene(truth)
    whole = refine.refine_corners_many([img], [quads])[0]
    monkeypatch.setattr(refine, "_GROUP", 3)  # 7 plates: groups of 3, 3 and 1
    assert np.array_equal(refine.refine_corners_many([img], [quads])[0], whole)
