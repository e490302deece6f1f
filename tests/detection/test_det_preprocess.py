from __future__ import annotations

import cv2
import numpy as np
import pytest

from platewise.detection.preprocess import PAD_VALUE, letterbox, to_input_tensor


@pytest.mark.parametrize(("h", "w"), [(720, 1280), (1280, 720), (100, 100), (3, 5000), (5, 5)])
def test_letterbox_fills_the_input_size_and_keeps_aspect(h: int, w: int) -> None:
    img = np.full((h, w, 3), 7, np.uint8)
    out, lb = letterbox(img, (384, 640))
    assert out.shape == (384, 640, 3)
    assert out.dtype == np.uint8
    assert abs(lb.scale - min(384 / h, 640 / w)) / lb.scale < 0.05
    assert (lb.orig_h, lb.orig_w) == (h, w)


def test_letterbox_centres_the_image_and_pads_with_grey() -> None:
    out, lb = letterbox(np.zeros((720, 1280, 3), np.uint8), (384, 640))
    assert lb.scale == pytest.approx(0.5)
    assert (lb.pad_x, lb.pad_y) == (0.0, 12.0)
    assert (out[:12] == PAD_VALUE).all()
    assert (out[12:372] == 0).all()
    assert (out[372:] == PAD_VALUE).all()


@pytest.mark.parametrize(("h", "w"), [(720, 1280), (361, 999), (384, 640), (1000, 300), (7, 11)])
def test_letterbox_is_resize_then_pad_bit_for_bit(h: int, w: int) -> None:
    rng = np.random.default_rng(h)
    big = rng.integers(0, 256, (h + 4, w + 6, 3), dtype=np.uint8)
    img = big[2 : 2 + h, 3 : 3 + w]  # a view, as the close-up pass passes
    out, lb = letterbox(img, (384, 640))
    scale = min(384 / h, 640 / w)
    nh, nw = min(384, round(h * scale)), min(640, round(w * scale))
    interp = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
    want = np.full((384, 640, 3), PAD_VALUE, np.uint8)
    top, left = (384 - nh) // 2, (640 - nw) // 2
    want[top : top + nh, left : left + nw] = (
        cv2.resize(img, (nw, nh), interpolation=interp) if (nh, nw) != (h, w) else img
    )
    assert np.array_equal(out, want) and (lb.pad_x, lb.pad_y) == (left, top)


def test_letterbox_maps_a_point_forward_as_documented() -> None:
    img = np.zeros((200, 400, 3), np.uint8)
    img[98:103, 298:303] = 255  # a 5x5 dot centred on (300, 100)
    out, lb = letterbox(img, (256, 256))
    x, y = 300.5 * lb.scale + lb.pad_x - 0.5, 100.5 * lb.scale + lb.pad_y - 0.5
    ys, xs = np.nonzero(out[..., 0] > 200)
    assert abs(xs.mean() - x) <= 1.0
    assert abs(ys.mean() - y) <= 1.0


def test_to_input_tensor_is_nchw_float32_rgb_normalized() -> None:
    img = np.zeros((4, 6, 3), np.uint8)
    img[..., 0] = 255  # blue in BGR
    x = to_input_tensor([img, img], mean=(0, 0, 0), std=(255, 255, 255), rgb=True)
    assert x.shape == (2, 3, 4, 6)
    assert x.dtype == np.float32
    assert x.flags.c_contiguous
    assert x[0, 2].min() == pytest.approx(1.0)  # blue is the last channel in RGB
    assert x[0, 0].max() == pytest.approx(0.0)


def test_to_input_tensor_fast_path_matches_per_channel_path() -> None:
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (32, 48, 3), dtype=np.uint8) for _ in range(2)]
    fast = to_input_tensor(imgs, mean=(127.5, 127.5, 127.5), std=(128.0, 128.0, 128.0))
    slow = to_input_tensor(imgs, mean=(127.5, 127.5, 127.5), std=(128.0, 128.0, 128.0 + 1e-9))
    np.testing.assert_allclose(fast, slow, atol=1e-5)
