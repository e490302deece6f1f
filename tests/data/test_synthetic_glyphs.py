"""The packaged glyph atlas and the glyph layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from platewise.data.synthetic import STYLE_NAMES, PlateRenderer
from platewise.data.synthetic.glyphs import ATLAS_PATH, layout_run, load_atlas
from platewise.plates.alphabet import ALPHABET, CN_PROVINCES, CN_SPECIAL


def test_atlas_is_small_and_covers_the_plate_alphabet() -> None:
    assert ATLAS_PATH.stat().st_size < 3_000_000
    atlas = load_atlas()
    for font in range(atlas.n_fonts("plate")):
        assert set(ALPHABET) - set(CN_PROVINCES + CN_SPECIAL) <= set(atlas.glyphs["plate"][font])
    for font in range(atlas.n_fonts("cjk")):
        assert set(CN_PROVINCES + CN_SPECIAL) <= set(atlas.glyphs["cjk"][font])
    m = atlas.get("plate", 0, "A")
    assert m.dtype == np.uint8
    assert m.max() > 200


def test_layout_squeezes_a_run_into_max_width() -> None:
    atlas = load_atlas()
    items = [(atlas.get("plate", 0, c), 0.0) for c in "ABC1234"]
    run = layout_run(items, 40, 0.1, max_width=100)
    assert run.width <= 100
    assert run.mask.shape == (40, run.width)
    wide = layout_run(items, 40, 0.1)
    assert wide.width > 150


def test_fixed_pitch_cells_centre_narrow_glyphs() -> None:
    atlas = load_atlas()
    one, w = atlas.get("plate", 0, "1"), atlas.get("plate", 0, "W")
    run = layout_run([(one, 0.0), (w, 0.0)], 40, 0.0, cell=1.2)
    assert run.width == 96  # two cells of 1.2 x 40
    cols = np.nonzero(run.mask.max(0) > 128)[0]
    assert cols.min() > 0  # the narrow "1" sits inside its cell, not at its left edge


def test_gaps_are_reported_between_groups() -> None:
    atlas = load_atlas()
    a = atlas.get("plate", 0, "A")
    run = layout_run([(a, 0.0), (np.zeros((0, 0), np.uint8), 0.5), (a, 0.0)], 40, 0.0)
    assert len(run.gaps) == 1
    assert 0 < run.gaps[0] < run.width


@pytest.mark.parametrize("width", [40, 64, 480])
def test_every_style_renders_at_extreme_widths(width: int) -> None:
    r = PlateRenderer(seed=width)
    for style in STYLE_NAMES:
        for _ in range(10):
            p = r.render(style=style, width=width)
            assert p.image.shape[1] == width
            img, _, _ = r.render_crop(style=style, width=width, strength=1.0)
            assert img.ndim == 3


def test_cli_bad_input_exits_2_with_one_line_in_a_subprocess(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    proc = subprocess.run(
        [sys.executable, "-m", "platewise", "synth", "crops", "--n", "0", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--n must be a positive" in lines[0]
