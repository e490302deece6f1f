from __future__ import annotations

import numpy as np
import pytest

from platewise.detection.evaluate import DetectionCounts, average_precision, found_truths, match_detections

GT = np.array([[0, 0, 10, 10], [20, 20, 40, 30]], np.float32)


def test_perfect_detections_give_full_recall_precision_and_ap() -> None:
    c = DetectionCounts()
    c.add(GT.copy(), np.array([0.9, 0.8], np.float32), GT, threshold=0.5)
    m = c.metrics()
    assert m["recall50"] == m["precision50"] == m["recall70"] == m["ap50"] == 1.0
    assert m["detections_per_image"] == 2


def test_each_ground_truth_matches_at_most_one_detection() -> None:
    dets = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    tp = match_detections(dets, np.array([0.9, 0.8], np.float32), GT[:1], 0.5)
    assert tp.tolist() == [True, False]


def test_found_truths_are_the_boxes_the_matching_takes() -> None:
    # the better detection takes the first box; the second overlaps it more than the second box and finds nothing
    dets = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 40, 31]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert found_truths(dets, scores, GT, 0.5).tolist() == [True, True]
    assert found_truths(dets[:2], scores[:2], GT, 0.5).tolist() == [True, False]
    assert found_truths(dets[:0], scores[:0], GT, 0.5).tolist() == [False, False]
    assert found_truths(dets, scores, GT[:0], 0.5).tolist() == []


def test_detections_below_the_threshold_count_for_ap_but_not_for_recall() -> None:
    c = DetectionCounts()
    c.add(GT.copy(), np.array([0.9, 0.1], np.float32), GT, threshold=0.5)
    m = c.metrics()
    assert m["recall50"] == 0.5
    assert m["precision50"] == 1.0
    assert m["ap50"] == pytest.approx(1.0)


def test_iou_07_is_stricter_than_05() -> None:
    shifted = GT + np.array([2, 0, 2, 0], np.float32)  # IoU 0.67 for the first box
    c = DetectionCounts()
    c.add(shifted, np.array([0.9, 0.9], np.float32), GT, threshold=0.5)
    m = c.metrics()
    assert m["recall50"] == 1.0
    assert m["recall70"] == 0.5


def test_average_precision_of_a_false_positive_first() -> None:
    ap = average_precision(np.array([0.9, 0.8]), np.array([False, True]), 1)
    assert ap == pytest.approx(0.5)


def test_corner_error_is_zero_for_exact_corners_and_scales_with_width() -> None:
    from platewise.detection.evaluate import corner_errors

    quad = np.array([[[10, 10], [110, 10], [110, 40], [10, 40]]], np.float32)
    box = np.array([[10, 10, 110, 40]], np.float32)
    assert corner_errors(box, quad, quad) == [pytest.approx(0.0)]
    shifted = quad + np.array([4.0, 0.0], np.float32)
    assert corner_errors(box, shifted, quad) == [pytest.approx(0.04)]


def test_corner_error_skips_plates_without_a_matching_detection() -> None:
    from platewise.detection.evaluate import corner_errors

    quad = np.array([[[10, 10], [110, 10], [110, 40], [10, 40]]], np.float32)
    far = np.array([[300, 300, 400, 330]], np.float32)
    assert corner_errors(far, quad, quad) == []


def test_merged_counts_are_those_of_every_image_added_to_one_group() -> None:
    rng = np.random.default_rng(0)
    images = []
    for _ in range(6):
        gt = rng.uniform(0, 200, (3, 2)).astype(np.float32)
        gt = np.concatenate([gt, gt + 30], 1)
        boxes = np.concatenate([gt[:2] + rng.normal(0, 4, (2, 4)).astype(np.float32), [[300, 300, 340, 320]]])
        images.append((boxes.astype(np.float32), rng.uniform(0.1, 0.9, 3).astype(np.float32), gt))
    one, parts = DetectionCounts(), [DetectionCounts(), DetectionCounts()]
    for i, (boxes, scores, gt) in enumerate(images):
        one.add(boxes, scores, gt, 0.5)
        parts[i % 2].add(boxes, scores, gt, 0.5)
    merged = DetectionCounts.merged(parts)
    assert (merged.images, merged.gt, merged.detections, merged.tp50, merged.tp70) == (
        one.images,
        one.gt,
        one.detections,
        one.tp50,
        one.tp70,
    )
    assert merged.metrics() == pytest.approx(one.metrics())  # distinct scores: AP alike too
    assert parts[0].images == 3  # the parts are left as they were
