"""Synthetic scenes: exact corners, boxes, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from platewise.data.synthetic import PlateRenderer, RenderedPlate, SceneSynthesizer
from platewise.errors import InvalidInput
from platewise.plates import formats_for


def _backgrounds(n: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 60, (300 + 40 * i, 400, 3), dtype=np.uint8) for i in range(n)]


class FlatRenderer(PlateRenderer):
    """Renders one flat colour per plate, so the pasted pixels can be found exactly."""

    def render(self, style: str | None = None, width: int | None = None) -> RenderedPlate:
        img = np.zeros((50, 200, 3), np.uint8)
        img[:] = (0, 255, 0)
        return RenderedPlate(img, "ABC1234", "br", 1, "br")


def test_scene_is_deterministic_for_a_seed() -> None:
    a = SceneSynthesizer(backgrounds=_backgrounds(), seed=3).sample(320, 240)
    b = SceneSynthesizer(backgrounds=_backgrounds(), seed=3).sample(320, 240)
    np.testing.assert_array_equal(a.image, b.image)
    assert [p.text for p in a.plates] == [p.text for p in b.plates]
    for pa, pb in zip(a.plates, b.plates, strict=True):
        np.testing.assert_array_equal(pa.corners, pb.corners)


def test_scene_has_requested_size_plates_and_valid_labels() -> None:
    s = SceneSynthesizer(backgrounds=_backgrounds(), seed=1)
    counts = []
    for _ in range(10):
        scene = s.sample(width=320, height=256)
        assert scene.image.shape == (256, 320, 3)
        assert scene.image.dtype == np.uint8
        counts.append(len(scene.plates))
        for p in scene.plates:
            assert p.corners.shape == (4, 2)
            assert p.corners.dtype == np.float32
            assert p.box.x1 == pytest.approx(max(0.0, float(p.corners[:, 0].min())))
            assert p.box.y2 == pytest.approx(min(256.0, float(p.corners[:, 1].max())))
            assert 0 <= p.box.x1 < p.box.x2 <= 320
            assert 0 <= p.box.y1 < p.box.y2 <= 256
            assert any(f.matches(p.text) for f in formats_for(p.region.split("-")[0]))
            tl, tr, br, bl = p.corners
            assert tl[0] < tr[0]
            assert bl[0] < br[0]
            assert tl[1] < bl[1]
            assert tr[1] < br[1]
    assert min(counts) >= 1
    assert max(counts) <= 4


def test_n_plates_is_respected_and_plates_do_not_overlap_much() -> None:
    s = SceneSynthesizer(backgrounds=_backgrounds(), seed=2)
    scene = s.sample(640, 640, n_plates=3)
    assert len(scene.plates) == 3
    boxes = [p.box for p in scene.plates]
    for i in range(3):
        for j in range(i + 1, 3):
            assert boxes[i].iou(boxes[j]) < 0.05


def test_corners_lie_on_the_pasted_plate() -> None:
    """A flat green plate on a dark background: inside the corners is green, just outside is not."""
    s = SceneSynthesizer(backgrounds=_backgrounds(), seed=4, renderer=FlatRenderer(seed=0), strength=0.0, grey_prob=0.0)
    for _ in range(8):
        scene = s.sample(400, 300, n_plates=2)
        g = scene.image.astype(np.int16)
        greenness = g[..., 1] - np.maximum(g[..., 0], g[..., 2])
        for p in scene.plates:
            c = p.corners.astype(np.float64)
            centre = c.mean(0)
            cx, cy = int(centre[0]), int(centre[1])
            assert greenness[cy, cx] > 150
            for k in range(4):  # a point 30% of the way from each corner to the centre is on the plate
                x, y = c[k] + 0.3 * (centre - c[k])
                assert greenness[int(y), int(x)] > 150
            for k in range(4):  # a point just outside each corner (away from the centre) is background
                d = c[k] - centre
                x, y = c[k] + 3.0 * d / np.linalg.norm(d)
                if 0 <= x < 400 and 0 <= y < 300:
                    assert greenness[int(y), int(x)] < 60


def test_pasted_plate_area_equals_corner_quad_area() -> None:
    """The green mass of the scene equals the area of the corner quad: the corners are the plate's outline."""
    bg = np.zeros((200, 200, 3), np.uint8)
    bg[..., 2] = 200  # red: not a grey background
    s = SceneSynthesizer(backgrounds=[bg], seed=5, renderer=FlatRenderer(seed=0), strength=0.0, grey_prob=0.0)
    scene = s.sample(320, 240, n_plates=1)
    p = scene.plates[0]
    g = scene.image[..., 1].astype(np.float32)
    mask_area = float((g / 255.0).sum())
    c = p.corners.astype(np.float64)
    x, y = c[:, 0], c[:, 1]
    poly_area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    assert mask_area == pytest.approx(poly_area, rel=0.03)


def test_plates_can_be_as_small_as_12_px() -> None:
    s = SceneSynthesizer(backgrounds=_backgrounds(), seed=6)
    heights = [p.box.height for _ in range(30) for p in s.sample(320, 320).plates]
    assert min(heights) < 20
    assert min(heights) >= 10


def test_too_small_scene_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        SceneSynthesizer(backgrounds=_backgrounds(), seed=0).sample(8, 8)


def test_random_backgrounds_when_none_are_given() -> None:
    scene = SceneSynthesizer(backgrounds=[], seed=0).sample(128, 96, n_plates=1)
    assert scene.image.shape == (96, 128, 3)


def test_grey_backgrounds_give_grey_scenes() -> None:
    bg = np.repeat(np.random.default_rng(0).integers(0, 255, (200, 300, 1), dtype=np.uint8), 3, axis=2)
    scene = SceneSynthesizer(backgrounds=[bg], seed=0, grey_prob=0.0).sample(160, 120, n_plates=2)
    np.testing.assert_array_equal(scene.image[..., 0], scene.image[..., 2])
