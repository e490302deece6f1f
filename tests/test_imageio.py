from __future__ import annotations

import cv2
import numpy as np
import pytest

from platewise.errors import InvalidImage
from platewise.imageio import as_bgr, decode_image, load_image, to_nchw


def _jpeg(h=40, w=60):
    ok, buf = cv2.imencode(".jpg", np.full((h, w, 3), 120, np.uint8))
    return buf.tobytes()


def test_decode_image_returns_bgr_uint8():
    img = decode_image(_jpeg())
    assert img.shape == (40, 60, 3) and img.dtype == np.uint8


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n garbage"])
def test_decode_image_rejects_non_images(data):
    with pytest.raises(InvalidImage):
        decode_image(data)


def test_decode_image_rejects_a_truncated_jpeg():
    data = _jpeg(200, 300)
    with pytest.raises(InvalidImage, match="truncated|corrupt"):
        decode_image(data[: len(data) // 2])


def test_decode_image_rejects_a_decompression_bomb_before_decoding():
    ok, buf = cv2.imencode(".png", np.zeros((2000, 2000), np.uint8))
    with pytest.raises(InvalidImage, match="pixel limit"):
        decode_image(buf.tobytes(), max_pixels=1_000_000)


def test_a_20000x20000_array_is_rejected():
    big = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=(20000, 20000, 3), strides=(0, 0, 0))
    with pytest.raises(InvalidImage, match="pixel limit"):
        as_bgr(big)


def test_as_bgr_converts_gray_rgba_and_rgb():
    assert as_bgr(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert as_bgr(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 255
    assert as_bgr(rgb, rgb=True)[0, 0, 2] == 255


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 5, 3), np.float32),
        np.zeros((0, 5, 3), np.uint8),
        np.zeros((4, 5, 2), np.uint8),
        np.zeros((2, 2, 2, 3), np.uint8),
        [[1, 2]],
    ],
)
def test_as_bgr_rejects_bad_arrays_with_a_clear_error(bad):
    with pytest.raises(InvalidImage):
        as_bgr(bad)


def test_load_image_names_the_file_in_the_error(tmp_path):
    p = tmp_path / "x.jpg"
    p.write_bytes(b"nope")
    with pytest.raises(InvalidImage, match="x.jpg"):
        load_image(p)


@pytest.mark.parametrize(
    ("mean", "std", "swap_rb"),
    [
        ((127.5,) * 3, (128.0,) * 3, True),
        ((10.0, 20.0, 30.0), (50.0, 60.0, 70.5), False),
        ((123.675, 116.28, 103.53), (58.395, 57.12, 57.375), True),  # not exact in float32
    ],
)
def test_to_nchw_is_the_per_channel_formula(mean, std, swap_rb):
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (2, 14, 23, 3), dtype=np.uint8)
    images = [big[i, 2:12, 3:20] for i in range(2)]  # views into a larger array, not contiguous
    x = to_nchw(images, mean, std, swap_rb=swap_rb)
    batch = np.stack(images).astype(np.float32)
    if swap_rb:
        batch = batch[..., ::-1]
    inv = (1.0 / np.asarray(std, np.float64)).astype(np.float32)  # 1 / std rounded once to float32
    expected = ((batch - np.float32(mean)) * inv).transpose(0, 3, 1, 2)
    assert x.shape == (2, 3, 10, 17) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_array_equal(x, expected)  # bit for bit numpy's float32 arithmetic


def test_to_nchw_rejects_images_of_different_sizes_and_no_images():
    with pytest.raises(ValueError, match="no images"):
        to_nchw([], (0.0,) * 3, (1.0,) * 3)
    with pytest.raises(ValueError, match="differ in size"):
        to_nchw([np.zeros((4, 5, 3), np.uint8), np.zeros((4, 6, 3), np.uint8)], (0.0,) * 3, (1.0,) * 3)
