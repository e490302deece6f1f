"""The shift of ``benchmarks/e2e_pads.py`` and ``synthetic_e2e.py --pad``: image and labels move together."""

from __future__ import annotations

import numpy as np
import pytest

from platewise.pipeline.evaluate import shift_box, shift_image
from platewise.types import BBox


def test_shifted_box_holds_the_same_pixels() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    box = BBox(10, 5, 30, 20)
    for k in (0, 1, 7):
        out = shift_image(image, k)
        assert out.shape == (40 + k, 60 + k, 3)
        b = shift_box(box, k)
        assert (b.width, b.height) == (box.width, box.height)
        np.testing.assert_array_equal(out[int(b.y1) : int(b.y2), int(b.x1) : int(b.x2)], image[5:20, 10:30])
        # the added rows and columns repeat the image's edge
        np.testing.assert_array_equal(out[:k, k:], np.repeat(image[:1], k, axis=0))
        np.testing.assert_array_equal(out[k:, :k], np.repeat(image[:, :1], k, axis=1))
    assert shift_image(image, 0) is image


def test_negative_shift_is_refused() -> None:
    with pytest.raises(ValueError, match="shift must be >= 0"):
        shift_image(np.zeros((4, 4, 3), np.uint8), -1)
