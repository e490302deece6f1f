from __future__ import annotations

import cv2
import numpy as np

from platewise.pipeline.rectify import corners_plausible, order_corners, rectify
from platewise.types import BBox, Corners


def _scene_with_skewed_plate():
    """A 200x300 gray scene with a white plate (black left half) warped onto a skewed quad."""
    plate = np.full((48, 192, 3), 255, np.uint8)
    plate[:, :96] = 0
    quad = np.float32([[60, 80], [230, 60], [240, 120], [70, 140]])
    M = cv2.getPerspectiveTransform(np.float32([[0, 0], [192, 0], [192, 48], [0, 48]]), quad)
    scene = np.full((200, 300, 3), 128, np.uint8)
    warped = cv2.warpPerspective(plate, M, (300, 200))
    mask = cv2.warpPerspective(np.ones((48, 192), np.uint8), M, (300, 200)) > 0
    scene[mask] = warped[mask]
    return scene, quad


def test_rectify_straightens_a_skewed_plate_with_its_corners():
    scene, quad = _scene_with_skewed_plate()
    box = BBox(60, 60, 240, 140)
    crop, used = rectify(scene, Corners.from_array(quad), box, (48, 192), pad=0.0)
    assert used
    assert crop.shape == (48, 192, 3)
    assert crop[10:38, 10:80].mean() < 40  # left half black
    assert crop[10:38, 112:180].mean() > 215  # right half white


def test_rectify_falls_back_to_the_box_when_corners_are_implausible():
    scene, _ = _scene_with_skewed_plate()
    box = BBox(60, 60, 240, 140)
    crossed = Corners.from_array([[60, 60], [240, 140], [240, 60], [60, 140]])  # self-intersecting
    crop, used = rectify(scene, crossed, box, (32, 128))
    assert not used
    assert crop.shape == (32, 128, 3)


def test_corners_plausible_rejects_degenerate_and_far_away_quads():
    box = BBox(0, 0, 100, 30)
    assert corners_plausible(np.float32([[0, 0], [100, 0], [100, 30], [0, 30]]), box)
    assert not corners_plausible(np.float32([[0, 0], [100, 0], [100, 1], [0, 1]]), box)  # too thin
    assert not corners_plausible(np.float32([[500, 0], [600, 0], [600, 30], [500, 30]]), box)
    assert not corners_plausible(np.float32([[np.nan, 0], [100, 0], [100, 30], [0, 30]]), box)


def test_order_corners_returns_tl_tr_br_bl_from_any_order():
    pts = np.float32([[100, 30], [0, 0], [0, 30], [100, 0]])
    np.testing.assert_array_equal(order_corners(pts), np.float32([[0, 0], [100, 0], [100, 30], [0, 30]]))


def test_rectify_of_a_box_at_the_image_edge_gives_a_full_size_crop():
    scene = np.zeros((50, 50, 3), np.uint8)
    box = BBox(40, 40, 60, 60)  # half outside
    crop, _ = rectify(scene, Corners.from_box(box), box, (32, 128))
    assert crop.shape == (32, 128, 3)
