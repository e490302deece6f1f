from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from platewise.detection.assign import task_aligned_assign  # noqa: E402
from platewise.detection.loss import (  # noqa: E402
    DetectorLoss,
    distribution_focal_loss,
    giou_loss,
    integral,
    quality_focal_loss,
)
from platewise.detection.net import anchor_points  # noqa: E402
from platewise.detection.registry import create_detector  # noqa: E402


def _targets(with_corners: bool) -> tuple[torch.Tensor, ...]:
    boxes = torch.tensor([[[20.0, 30.0, 60.0, 40.0], [0, 0, 0, 0]]])
    corners = torch.tensor([[[20.0, 30, 60, 30, 60, 40, 20, 40], [0] * 8]])
    valid = torch.tensor([[True, False]])
    has = torch.tensor([[with_corners, False]])
    return boxes, corners, valid, has


def test_assigner_gives_a_thin_plate_positives_inside_it() -> None:
    pts, st = anchor_points(64, 64, (8, 16, 32))
    a = len(pts)
    boxes, corners, valid, has = _targets(True)
    pred = torch.tensor([[0.0, 0.0, 64.0, 64.0]]).expand(1, a, 4)
    asg = task_aligned_assign(torch.full((1, a), 0.1), pred, pts, st, boxes, corners, valid, has)
    assert 0 < int(asg.fg.sum()) <= 10
    fg_pts = pts[asg.fg[0]]
    assert (fg_pts[:, 0] > 16).all()
    assert (fg_pts[:, 0] < 64).all()
    assert bool(asg.corner_mask[asg.fg].all())
    assert float(asg.scores.max()) > 0


def test_assigner_masks_corners_of_plates_without_corner_labels() -> None:
    pts, st = anchor_points(64, 64, (8, 16, 32))
    boxes, corners, valid, has = _targets(False)
    pred = torch.tensor([[0.0, 0.0, 64.0, 64.0]]).expand(1, len(pts), 4)
    asg = task_aligned_assign(torch.full((1, len(pts)), 0.1), pred, pts, st, boxes, corners, valid, has)
    assert bool(asg.fg.any())
    assert not bool(asg.corner_mask.any())


def test_quality_focal_loss_is_smallest_at_the_target() -> None:
    target = torch.tensor([0.7])
    logit = torch.logit(target)
    assert float(quality_focal_loss(logit, target)) < float(quality_focal_loss(logit + 2, target))
    assert float(quality_focal_loss(logit, target)) == pytest.approx(0.0, abs=1e-6)


def test_distribution_focal_loss_prefers_the_two_bins_around_the_target() -> None:
    good = torch.full((1, 9), -10.0)
    good[0, 2], good[0, 3] = 0.0, 0.0
    bad = torch.zeros(1, 9)
    t = torch.tensor([2.5])
    assert float(distribution_focal_loss(good, t)) < float(distribution_focal_loss(bad, t))
    assert float(integral(good)) == pytest.approx(2.5, abs=1e-3)


def test_giou_loss_is_zero_for_equal_boxes_and_above_one_for_disjoint() -> None:
    a = torch.tensor([[0.0, 0, 10, 10]])
    assert float(giou_loss(a, a)) == pytest.approx(0.0, abs=1e-5)
    assert float(giou_loss(a, a + 20)) > 1.0


def test_loss_falls_when_overfitting_one_batch() -> None:
    torch.manual_seed(0)
    net = create_detector("detector_tiny")
    pts, st = anchor_points(64, 64, (8, 16, 32))
    loss_fn = DetectorLoss(net.cfg.reg_max)
    x = torch.randn(1, 3, 64, 64)
    boxes, corners, valid, has = _targets(True)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss, parts = loss_fn(net(x), pts, st, boxes, corners, valid, has)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert all(map(lambda v: v == v, losses))
    assert min(losses[-5:]) < 0.6 * losses[0]
    assert parts["num_fg"] > 0


def test_loss_handles_images_without_plates() -> None:
    net = create_detector("detector_tiny")
    pts, st = anchor_points(64, 64, (8, 16, 32))
    z = torch.zeros(1, 1, 4)
    loss, parts = DetectorLoss(net.cfg.reg_max)(
        net(torch.randn(1, 3, 64, 64)),
        pts,
        st,
        z,
        torch.zeros(1, 1, 8),
        torch.zeros(1, 1, dtype=torch.bool),
        torch.zeros(1, 1, dtype=torch.bool),
    )
    loss.backward()
    assert parts["num_fg"] == 0
    assert float(loss.detach()) > 0


def test_ignored_locations_are_the_centres_inside_valid_regions() -> None:
    from platewise.detection.loss import ignored_locations

    pts = torch.tensor([[4.0, 4.0], [20.0, 12.0], [40.0, 40.0]])
    regions = torch.tensor([[[16.0, 8.0, 24.0, 16.0], [0.0, 0.0, 100.0, 100.0]]])
    assert ignored_locations(pts, regions, torch.tensor([[True, False]])).tolist() == [[False, True, False]]
    assert ignored_locations(pts, regions, torch.tensor([[True, True]])).tolist() == [[True, True, True]]


def _one_batch() -> tuple:  # type: ignore[type-arg]
    """An untrained tiny network's outputs on one 64x64 image, its locations, and one plate's targets."""
    torch.manual_seed(0)
    net = create_detector("detector_tiny")
    pts, st = anchor_points(64, 64, (8, 16, 32))
    with torch.no_grad():
        out = net(torch.randn(1, 3, 64, 64))
    return (net, out, pts, st, *_targets(True))


def test_ignore_regions_drop_the_background_loss_there_but_not_a_plates() -> None:
    net, out, pts, st, boxes, corners, valid, has = _one_batch()
    loss_fn = DetectorLoss(net.cfg.reg_max)
    base, p0 = loss_fn(out, pts, st, boxes, corners, valid, has)
    none = torch.zeros(1, 0, 4), torch.zeros(1, 0, dtype=torch.bool)
    same, _ = loss_fn(out, pts, st, boxes, corners, valid, has, *none)
    assert float(same) == pytest.approx(float(base))
    # a region away from the plate: fewer background locations count, the plate's targets stay
    away = torch.tensor([[[0.0, 44.0, 64.0, 64.0]]]), torch.tensor([[True]])
    less, p1 = loss_fn(out, pts, st, boxes, corners, valid, has, *away)
    assert p1["loss_cls"] < p0["loss_cls"]
    assert (p1["loss_box"], p1["num_fg"]) == (p0["loss_box"], p0["num_fg"])
    # a region over the whole image: only the plate's own locations still count
    everywhere = torch.tensor([[[0.0, 0.0, 64.0, 64.0]]]), torch.tensor([[True]])
    _, p2 = loss_fn(out, pts, st, boxes, corners, valid, has, *everywhere)
    assert 0 < p2["loss_cls"] < p1["loss_cls"]


def test_quality_power_lifts_the_classification_targets_only() -> None:
    net, out, pts, st, boxes, corners, valid, has = _one_batch()
    _, p1 = DetectorLoss(net.cfg.reg_max)(out, pts, st, boxes, corners, valid, has)
    _, p_half = DetectorLoss(net.cfg.reg_max, quality_power=0.5)(out, pts, st, boxes, corners, valid, has)
    # the untrained network scores every location near 0: targets lifted toward 1 cost more there
    assert p_half["loss_cls"] > p1["loss_cls"]
    assert (p_half["loss_box"], p_half["loss_dfl"], p_half["num_fg"]) == (p1["loss_box"], p1["loss_dfl"], p1["num_fg"])
    with pytest.raises(ValueError, match="quality_power"):
        DetectorLoss(net.cfg.reg_max, quality_power=0.0)
