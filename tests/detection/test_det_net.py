from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from platewise.detection.decode import anchor_grid  # noqa: E402
from platewise.detection.registry import VARIANTS, create_detector, detector_config  # noqa: E402
from platewise.errors import ModelNotFound  # noqa: E402


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_builds_and_outputs_one_row_per_location(name: str) -> None:
    net = create_detector(name).eval()
    h, w = 64, 96
    with torch.no_grad():
        scores, boxes, corners = net(torch.zeros(2, 3, h, w))
    a = len(anchor_grid(h, w, net.cfg.strides)[0])
    assert scores.shape == (2, a)
    assert boxes.shape == (2, a, 4, net.cfg.reg_max + 1)
    assert corners.shape == (2, a, 8)


def test_export_forward_scores_are_probabilities() -> None:
    net = create_detector("detector_tiny").eval()
    with torch.no_grad():
        s, b, k = net.export_forward(torch.randn(1, 3, 64, 64))
    assert float(s.min()) >= 0.0
    assert float(s.max()) <= 1.0
    assert b.shape[-1] == 4 * (net.cfg.reg_max + 1)


def test_unknown_variant_is_model_not_found() -> None:
    with pytest.raises(ModelNotFound, match="detector_s"):
        detector_config("detector_xxl")


def test_torch_anchor_points_match_numpy_grid() -> None:
    import numpy as np

    from platewise.detection.net import anchor_points

    pts, st = anchor_points(64, 96, (8, 16, 32))
    npts, nst = anchor_grid(64, 96, (8, 16, 32))
    np.testing.assert_allclose(pts.numpy(), npts)
    np.testing.assert_allclose(st.numpy(), nst)
