"""The synthetic plate renderer and its augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from platewise.data.synthetic import STYLE_NAMES, PlateRenderer, augment
from platewise.errors import InvalidInput
from platewise.plates import Tokenizer, formats_for, normalize


def test_render_is_deterministic_for_a_seed() -> None:
    a, b = PlateRenderer(seed=7), PlateRenderer(seed=7)
    for _ in range(5):
        pa, pb = a.render(), b.render()
        assert pa.text == pb.text
        assert pa.region == pb.region
        np.testing.assert_array_equal(pa.image, pb.image)
        ca, cb = a.render_crop(strength=0.7), b.render_crop(strength=0.7)
        assert ca[1:] == cb[1:]
        np.testing.assert_array_equal(ca[0], cb[0])


def test_different_seeds_give_different_plates() -> None:
    texts_a = [PlateRenderer(seed=1).render().text for _ in range(1)]
    texts_b = [PlateRenderer(seed=2).render().text for _ in range(1)]
    assert texts_a != texts_b


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_every_style_renders_text_matching_its_region_format(style: str) -> None:
    r = PlateRenderer(seed=3)
    tok = Tokenizer()
    lines = set()
    for _ in range(60):
        p = r.render(style=style)
        fmts = formats_for(p.region.split("-")[0])
        assert any(f.matches(p.text) for f in fmts), (p.region, p.text)
        assert p.region.split("-")[0] == style
        assert tok.can_encode(p.text)
        assert normalize(p.text) == p.text
        assert p.lines in (1, 2)
        lines.add(p.lines)
        assert p.image.dtype == np.uint8
        assert p.image.ndim == 3
        assert p.image.shape[2] == 3
        assert p.image.shape[0] >= 10
        assert p.image.shape[1] >= 40
    if style in ("eu", "cn"):
        assert lines == {1, 2}


def test_specific_regions_use_their_specific_format() -> None:
    r = PlateRenderer(seed=4)
    for _ in range(100):
        p = r.render(style="eu")
        assert any(f.matches(p.text) for f in formats_for(p.region)), (p.region, p.text)


def test_render_mix_covers_every_style() -> None:
    r = PlateRenderer(seed=5)
    assert {r.render().style for _ in range(200)} == set(STYLE_NAMES)


def test_render_crop_returns_uint8_bgr_crop_and_label() -> None:
    r = PlateRenderer(seed=6)
    for style in (*STYLE_NAMES, None):
        img, text, region = r.render_crop(style=style, strength=0.5)
        assert img.dtype == np.uint8
        assert img.ndim == 3
        assert img.shape[2] == 3
        assert img.shape[0] >= 10
        assert img.shape[1] >= 40
        assert text
        assert region


def test_render_crop_returns_the_rendered_plate_text() -> None:
    a, b = PlateRenderer(seed=8), PlateRenderer(seed=8)
    p = a.render(style="cn", width=200)
    _, text, region = b.render_crop(style="cn", strength=0.0, width=200)
    assert (text, region) == (p.text, p.region)


def test_crop_around_keeps_a_margin_or_cuts_just_inside_the_plate() -> None:
    r = PlateRenderer(seed=8)
    p = r.render(style="cn", width=200)
    h, w = p.image.shape[:2]
    for _ in range(5):
        loose = r.crop_around(p.image, 0.0, tight=0.0)
        assert loose.shape[0] >= h and loose.shape[1] >= w
        cut = r.crop_around(p.image, 0.0, tight=1.0)
        assert 0.8 * h <= cut.shape[0] <= h and 0.94 * w <= cut.shape[1] <= w


@pytest.mark.parametrize("width", [0, 8, 10_000])
def test_out_of_range_width_is_rejected(width: int) -> None:
    with pytest.raises(InvalidInput, match="out of range"):
        PlateRenderer().render(width=width)


def test_unknown_style_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="unknown plate style"):
        PlateRenderer().render(style="xx")


def test_augment_strength_zero_is_identity() -> None:
    img = PlateRenderer(seed=9).render().image
    out = augment(img, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(out, img)
    assert out is not img


@pytest.mark.parametrize("strength", [0.3, 1.0])
def test_augment_keeps_shape_and_dtype_and_changes_pixels(strength: float) -> None:
    img = PlateRenderer(seed=10).render().image
    rng = np.random.default_rng(1)
    changed = 0
    for _ in range(10):
        out = augment(img, strength, rng)
        assert out.shape == img.shape
        assert out.dtype == np.uint8
        changed += int(not np.array_equal(out, img))
    assert changed >= 8


def test_augment_grows_with_strength() -> None:
    img = PlateRenderer(seed=11).render().image.astype(np.float32)
    diffs = []
    for s in (0.1, 1.0):
        rng = np.random.default_rng(2)
        d = [np.abs(augment(img.astype(np.uint8), s, rng).astype(np.float32) - img).mean() for _ in range(30)]
        diffs.append(float(np.mean(d)))
    assert diffs[1] > diffs[0]


def test_augment_rejects_non_bgr_uint8() -> None:
    with pytest.raises(InvalidInput):
        augment(np.zeros((10, 10), np.uint8), 0.5, np.random.default_rng(0))


def test_perspective_keeps_the_whole_input_inside_the_frame() -> None:
    from platewise.data.synthetic.augment import perspective

    img = np.zeros((40, 200, 3), np.uint8)
    img[2:6, 2:6] = 255  # bright marks in the four corners, just inside the border (which stays black)
    img[2:6, -6:-2] = 255
    img[-6:-2, 2:6] = 255
    img[-6:-2, -6:-2] = 255
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = perspective(img, 1.0, rng)
        assert out.shape == img.shape
        # all four corner marks survive (nothing was cut off)
        assert out[:20, :100].max() > 100
        assert out[:20, 100:].max() > 100
        assert out[20:, :100].max() > 100
        assert out[20:, 100:].max() > 100
