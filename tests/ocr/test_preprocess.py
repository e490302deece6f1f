from __future__ import annotations

import numpy as np

from platewise.ocr.preprocess import normalize_batch, resize_crop


def test_resize_crop_ignores_aspect_ratio_and_returns_uint8_bgr() -> None:
    img = np.zeros((80, 300, 3), np.uint8)
    out = resize_crop(img, (48, 144))
    assert out.shape == (48, 144, 3)
    assert out.dtype == np.uint8


def test_resize_crop_returns_input_unchanged_at_target_size() -> None:
    img = np.ones((48, 144, 3), np.uint8)
    assert resize_crop(img, (48, 144)) is img


def test_resize_crop_enlarges_a_one_pixel_crop() -> None:
    out = resize_crop(np.full((1, 1, 3), 7, np.uint8), (16, 64))
    assert out.shape == (16, 64, 3)
    assert (out == 7).all()


def test_normalize_batch_is_nchw_float32_with_mean_std() -> None:
    b = np.zeros((2, 4, 6, 3), np.uint8)
    b[..., 2] = 255
    x = normalize_batch(b, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    assert x.shape == (2, 3, 4, 6)
    assert x.dtype == np.float32
    assert np.allclose(x[:, 0], -1.0)
    assert np.allclose(x[:, 2], 1.0)


def test_normalize_batch_fast_and_generic_paths_agree_per_channel() -> None:
    b = np.random.default_rng(1).integers(0, 256, (3, 8, 12, 3), dtype=np.uint8)
    mean = (0.2, 0.5, 0.7)  # BGR order
    want = (b.astype(np.float32) / 255 - np.array(mean, np.float32)).transpose(0, 3, 1, 2)
    fast = normalize_batch(b, mean, (0.5, 0.5, 0.5))  # equal std: the fused OpenCV path
    generic = normalize_batch(b, mean, (0.5, 0.5, 0.50001))  # the numpy path
    np.testing.assert_allclose(fast, want / 0.5, atol=1e-5)
    np.testing.assert_allclose(generic, want / np.array([0.5, 0.5, 0.50001], np.float32).reshape(1, 3, 1, 1), atol=1e-5)
    assert fast.dtype == np.float32 and fast.flags["C_CONTIGUOUS"]
    assert normalize_batch(b[:0], mean, (0.5, 0.5, 0.5)).shape == (0, 3, 8, 12)
