"""Background pool: plain photos and real scenes whose plates must be avoided."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from platewise.data.splits import is_holdout
from platewise.data.synthetic import BackgroundPool, default_backgrounds, real_scene_backgrounds
from platewise.types import BBox


def test_pool_crops_have_the_requested_size() -> None:
    pool = BackgroundPool([np.full((100, 150, 3), 7, np.uint8)])
    out = pool.sample(64, 48, np.random.default_rng(0))
    assert out is not None
    assert out.shape == (48, 64, 3)
    assert out.dtype == np.uint8


def test_pool_never_shows_the_boxes_it_must_avoid() -> None:
    img = np.zeros((300, 400, 3), np.uint8)
    img[100:140, 150:260] = 255  # a "real plate" that has no synthetic label
    pool = BackgroundPool([(img, [BBox(150, 100, 260, 140)])])
    rng = np.random.default_rng(1)
    found = 0
    for _ in range(40):
        out = pool.sample(96, 96, rng)
        if out is not None:
            found += 1
            assert out.max() == 0
    assert found > 10


def test_pool_gives_none_when_every_crop_would_show_a_box() -> None:
    img = np.zeros((50, 50, 3), np.uint8)
    pool = BackgroundPool([(img, [BBox(0, 0, 50, 50)])])
    assert pool.sample(32, 32, np.random.default_rng(0)) is None


def test_real_scene_backgrounds_skip_the_holdout(data_root: Path) -> None:
    entries = real_scene_backgrounds(data_root)
    assert entries
    assert all(p.is_file() for p, _ in entries[::100])
    keys = {
        f"{p.relative_to(data_root).parts[0]}/{Path(*p.relative_to(data_root).parts[1:]).as_posix()}"
        for p, _ in entries
    }
    assert not any(is_holdout(k) for k in keys)


def test_default_backgrounds_are_the_negatives(data_root: Path) -> None:
    paths = default_backgrounds(data_root)
    assert len(paths) > 100
    assert all(p.parent == data_root / "negatives" / "images" for p in paths)
