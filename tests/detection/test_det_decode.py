from __future__ import annotations

import numpy as np
import pytest

from platewise.detection.decode import (
    anchor_grid,
    decode_batch,
    decode_one,
    fuse_mirrored,
    nms,
    order_corners,
    suppress_contained,
)
from platewise.detection.preprocess import Letterbox

R = 8


def _peaked(dist: list[float]) -> np.ndarray:
    """Box logits whose expected distances are exactly ``dist`` (integers) strides."""
    z = np.full((4, R + 1), -30.0, np.float32)
    for i, d in enumerate(dist):
        z[i, int(d)] = 30.0
    return z.reshape(-1)


def _outputs(h: int, w: int, hits: dict[int, tuple[float, list[float]]]) -> tuple[np.ndarray, ...]:
    pts, _ = anchor_grid(h, w, (8, 16, 32))
    a = len(pts)
    scores = np.zeros(a, np.float32)
    dist = np.tile(_peaked([1, 1, 1, 1]), (a, 1))
    corners = np.tile(np.array([-1, -1, 1, -1, 1, 1, -1, 1], np.float32), (a, 1))
    for idx, (s, d) in hits.items():
        scores[idx] = s
        dist[idx] = _peaked(d)
    return scores, dist, corners


def _identity(h: int, w: int) -> Letterbox:
    return Letterbox(scale=1.0, pad_x=0.0, pad_y=0.0, orig_h=h, orig_w=w)


def test_decode_drops_boxes_below_threshold() -> None:
    pts, st = anchor_grid(64, 64, (8, 16, 32))
    s, d, c = _outputs(64, 64, {5: (0.9, [2, 1, 2, 1]), 20: (0.2, [1, 1, 1, 1])})
    out = decode_one(s, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5)
    assert len(out.scores) == 1
    assert out.scores[0] == pytest.approx(0.9)


def test_decode_turns_distributions_into_boxes_around_the_location() -> None:
    pts, st = anchor_grid(64, 64, (8, 16, 32))
    s, d, c = _outputs(64, 64, {9: (0.8, [1, 1, 3, 1])})  # location 9 = (x 1, y 1) at stride 8 -> centre (12, 12)
    out = decode_one(s, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5)
    np.testing.assert_allclose(out.boxes[0], [12 - 8, 12 - 8, 12 + 24, 12 + 8], atol=1e-3)


def test_decode_maps_letterboxed_coordinates_back_to_the_original_image() -> None:
    pts, st = anchor_grid(64, 64, (8, 16, 32))
    s, d, c = _outputs(64, 64, {27: (0.8, [1, 1, 1, 1])})  # (x 3, y 3) -> centre (28, 28)
    lb = Letterbox(scale=0.5, pad_x=4.0, pad_y=8.0, orig_h=200, orig_w=200)
    out = decode_one(s, d, c, pts, st, lb, reg_max=R, score_threshold=0.5)
    np.testing.assert_allclose(out.boxes[0], [(20 - 4) / 0.5, (20 - 8) / 0.5, (36 - 4) / 0.5, (36 - 8) / 0.5])
    np.testing.assert_allclose(out.corners[0][0], [(20 - 4) / 0.5, (20 - 8) / 0.5])


def test_decode_clips_boxes_and_corners_to_the_image() -> None:
    pts, st = anchor_grid(64, 64, (8, 16, 32))
    s, d, c = _outputs(64, 64, {0: (0.9, [4, 4, 1, 1])})
    out = decode_one(s, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5)
    assert out.boxes.min() >= 0
    assert out.boxes.max() <= 64
    assert out.corners.min() >= 0


def test_decode_returns_empty_arrays_when_nothing_passes() -> None:
    pts, st = anchor_grid(64, 64, (8, 16, 32))
    s, d, c = _outputs(64, 64, {})
    out = decode_one(s, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5)
    assert out.boxes.shape == (0, 4)
    assert out.corners.shape == (0, 4, 2)
    assert out.scores.shape == (0,)


def test_decode_batch_keeps_images_apart() -> None:
    s1, d1, c1 = _outputs(64, 64, {9: (0.9, [1, 1, 1, 1])})
    s2, d2, c2 = _outputs(64, 64, {})
    outs = decode_batch(
        np.stack([s1, s2]),
        np.stack([d1, d2]),
        np.stack([c1, c2]),
        [_identity(64, 64)] * 2,
        (64, 64),
        (8, 16, 32),
        reg_max=R,
        score_threshold=0.5,
    )
    assert [len(o.scores) for o in outs] == [1, 0]


def test_decode_batch_rejects_outputs_of_another_input_size() -> None:
    s, d, c = _outputs(64, 64, {})
    with pytest.raises(ValueError, match="locations"):
        decode_batch(s[None], d[None], c[None], [_identity(64, 64)], (96, 96), (8, 16, 32), reg_max=R)


def test_nms_suppresses_overlapping_boxes_and_keeps_separate_ones() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    keep = nms(boxes, np.array([0.8, 0.9, 0.5], np.float32), 0.45)
    assert keep.tolist() == [1, 2]


def test_nms_keeps_boxes_below_the_iou_threshold() -> None:
    boxes = np.array([[0, 0, 10, 10], [8, 0, 18, 10]], np.float32)
    assert sorted(nms(boxes, np.array([0.9, 0.8], np.float32), 0.45).tolist()) == [0, 1]


def test_suppress_contained_drops_boxes_inside_or_around_a_better_one() -> None:
    plate = [100, 100, 160, 120]
    loose = [90, 80, 200, 140]  # holds the plate: IoU 0.18, so NMS at 0.45 keeps both
    part = [100, 100, 125, 120]  # the plate's left part: IoU 0.42
    other = [150, 110, 230, 140]  # another plate, overlapping a little (a fifth of the smaller box)
    boxes = np.array([plate, loose, part, other], np.float32)
    scores = np.array([0.9, 0.6, 0.5, 0.8], np.float32)
    assert sorted(nms(boxes, scores, 0.45).tolist()) == [0, 1, 2, 3]
    assert suppress_contained(boxes, scores, 0.6).tolist() == [0, 3]
    # the better-scored box wins whichever holds the other
    assert suppress_contained(boxes[:2], np.array([0.5, 0.9], np.float32), 0.6).tolist() == [1]
    assert suppress_contained(boxes, scores, 1.0).tolist() == [0, 3, 1, 2]  # nothing is more than all of it


def test_suppress_contained_margin_lets_a_loose_box_give_way_to_the_tight_one_inside() -> None:
    plate = [100, 100, 160, 120]
    loose = [90, 80, 200, 140]
    other = [300, 100, 360, 120]  # a plate elsewhere, untouched
    boxes = np.array([loose, plate, other], np.float32)
    scores = np.array([0.62, 0.58, 0.7], np.float32)
    assert suppress_contained(boxes, scores, 0.6).tolist() == [2, 0]  # no margin: the better score wins
    assert suppress_contained(boxes, scores, 0.6, margin=0.05).tolist() == [2, 1]  # within 0.05: the tight box
    assert suppress_contained(boxes, scores, 0.6, margin=0.03).tolist() == [2, 0]  # 0.04 apart: not close enough
    # an inner box below the floor (not reported) cannot make a reported box give way
    assert suppress_contained(boxes, scores, 0.6, margin=0.05, floor=0.6).tolist() == [2, 0]
    # a part of the plate nearly as good as the plate: the plate gives way only within the margin
    part = [100, 100, 125, 120]
    two = np.array([plate, part], np.float32)
    assert suppress_contained(two, np.array([0.9, 0.5], np.float32), 0.6, margin=0.3).tolist() == [0]
    assert suppress_contained(two, np.array([0.9, 0.85], np.float32), 0.6, margin=0.1).tolist() == [1]


def test_suppress_contained_handles_no_boxes_and_degenerate_ones() -> None:
    assert suppress_contained(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.6).tolist() == []
    flat = np.array([[10, 10, 10, 30], [0, 0, 50, 50]], np.float32)  # a zero-width box inside a real one
    assert suppress_contained(flat, np.array([0.9, 0.8], np.float32), 0.6).tolist() == [0, 1]


@pytest.mark.parametrize("perm", [[0, 1, 2, 3], [2, 0, 3, 1], [3, 2, 1, 0], [1, 3, 0, 2]])
def test_order_corners_gives_tl_tr_br_bl_for_any_input_order(perm: list[int]) -> None:
    quad = np.array([[10, 20], [90, 22], [88, 45], [12, 43]], np.float32)
    out = order_corners(quad[perm][None])[0]
    np.testing.assert_allclose(out, quad)


@pytest.mark.parametrize("deg", [-30, -10, 0, 10, 30])
def test_order_corners_handles_rotated_plates(deg: float) -> None:
    a = np.deg2rad(deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    quad = np.array([[-40, -10], [40, -10], [40, 10], [-40, 10]], np.float32) @ rot.T + 100
    out = order_corners(quad[[3, 1, 0, 2]][None])[0]
    np.testing.assert_allclose(out, quad, atol=1e-4)


def test_corner_voting_averages_the_corners_of_overlapping_locations_by_score() -> None:
    pts, st = anchor_grid(64, 64, (8, 16, 32))
    # Locations 9 (centre 12,12) and 10 (centre 20,12) predict the same box (4..36, 4..20) with different corners.
    s, d, c = _outputs(64, 64, {9: (0.9, [1, 1, 3, 1]), 10: (0.3, [2, 1, 2, 1])})
    c[9] = [-1, -1, 3, -1, 3, 1, -1, 1]  # TL (4,4) TR (36,4) BR (36,20) BL (4,20)
    c[10] = [-1.5, -1, 2.5, -1, 2.5, 1, -1.5, 1]  # the same quad moved 4 px right: TL (8,4) ...
    plain = decode_one(s, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5)
    voted = decode_one(
        s, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5, vote_iou=0.7, vote_min_score=0.2
    )
    assert len(plain.scores) == len(voted.scores) == 1
    np.testing.assert_allclose(plain.corners[0][0], [4, 4], atol=1e-3)
    np.testing.assert_allclose(voted.corners[0][0], [4 + 4 * 0.3 / 1.2, 4], atol=1e-3)  # weights 0.9 and 0.3
    np.testing.assert_allclose(voted.boxes, plain.boxes)  # boxes and scores are NMS's
    np.testing.assert_allclose(voted.scores, plain.scores)
    # a location below vote_min_score, or overlapping less than vote_iou, does not vote
    low = decode_one(
        s, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5, vote_iou=0.7, vote_min_score=0.5
    )
    np.testing.assert_allclose(low.corners, plain.corners)


def test_corner_voting_keeps_the_detections_of_plain_decoding() -> None:
    pts, st = anchor_grid(64, 64, (8, 16, 32))
    s, d, c = _outputs(64, 64, {5: (0.9, [2, 1, 2, 1]), 27: (0.7, [1, 1, 1, 1]), 20: (0.2, [1, 1, 1, 1])})
    plain = decode_one(s, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5)
    voted = decode_one(s, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5, vote_iou=0.7)
    np.testing.assert_allclose(voted.boxes, plain.boxes)
    np.testing.assert_allclose(voted.scores, plain.scores)
    empty = decode_one(s * 0, d, c, pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5, vote_iou=0.7)
    assert empty.boxes.shape == (0, 4) and empty.corners.shape == (0, 4, 2)


def test_fuse_mirrored_maps_the_mirrored_view_back_onto_its_location() -> None:
    # 64x64 input: at stride 8, location (x 2, y 2) is index 18 (centre (20, 20)) and its mirror (x 5, y 2) 21
    pts, st = anchor_grid(64, 64, (8, 16, 32))
    quiet = _outputs(64, 64, {})
    s, d, c = _outputs(64, 64, {21: (0.8, [1, 2, 3, 1])})  # the mirrored view sees a plate reaching right
    c[21] = [-1, -2, 2, -1, 3, 1, -2, 2]  # TL, TR, BR, BL offsets of an uneven quad
    one = tuple(x[None] for x in quiet)
    mirrored = tuple(x[None] for x in (s, d, c))
    fs, fd, fc = fuse_mirrored(one, mirrored, (64, 64), (8, 16, 32), R, "max")  # type: ignore[arg-type]
    assert fs[0, 18] == pytest.approx(0.8) and fs[0].sum() == pytest.approx(0.8)
    out = decode_one(fs[0], fd[0], fc[0], pts, st, _identity(64, 64), reg_max=R, score_threshold=0.5)
    # the fused distributions are the geometric mean of (1,1,1,1) and the swapped (3,2,1,1): expected 2, 1.5, 1, 1
    np.testing.assert_allclose(out.boxes[0], [20 - 16, 20 - 12, 20 + 8, 20 + 8], atol=1e-3)
    # corners: the mirror's TR (2,-1) becomes TL (-2,-1), averaged with (-1,-1): (-1.5, -1) strides
    np.testing.assert_allclose(out.corners[0][0], [20 - 12, 20 - 8], atol=1e-3)
    fs, _, _ = fuse_mirrored(one, mirrored, (64, 64), (8, 16, 32), R, "mean")  # type: ignore[arg-type]
    assert fs[0, 18] == pytest.approx(0.4)
    with pytest.raises(ValueError, match="fusion"):
        fuse_mirrored(one, mirrored, (64, 64), (8, 16, 32), R, "median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="locations"):
        fuse_mirrored(one, mirrored, (64, 96), (8, 16, 32), R)  # type: ignore[arg-type]
