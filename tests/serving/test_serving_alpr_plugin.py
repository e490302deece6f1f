"""The built-in alpr plug-in, driven with the pipeline's fake detector and reader (no weights needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import platewise.pipeline as pipeline
from platewise.pipeline.fakes import FakeDetector, FakeRecognizer
from platewise.serving.codec import to_json_text
from platewise.serving.plugins import BUILTIN_DIR, load_plugin


@pytest.fixture
def fake_alpr(monkeypatch):
    real = pipeline.ALPR
    made = []

    def factory(**kw):
        kw.pop("threads", None)
        a = real(FakeDetector([(0.1, 0.4, 0.5, 0.6)]), FakeRecognizer("AB123CD", 0.9), **kw)
        made.append(a)
        return a

    monkeypatch.setattr(pipeline, "ALPR", factory)
    return made


def test_alpr_plugin_returns_plates_as_json_per_image(fake_alpr):
    name, model = load_plugin(BUILTIN_DIR / "alpr", threads=1)
    assert name == "alpr"
    imgs = [np.zeros((100, 200, 3), np.uint8), np.zeros((50, 80, 3), np.uint8)]
    outs = model.run_batch(imgs, [{}, {"region": "eu"}])
    assert len(outs) == 2
    for out, (h, w) in zip(outs, [(100, 200), (50, 80)], strict=True):
        (plate,) = json.loads(to_json_text(out))  # PlateRead objects, sent as their to_dict()
        assert plate["text"] == "AB123CD"
        # the detector's box (a flat image: refinement and box blending move it by a pixel at most)
        assert plate["box"] == pytest.approx([0.1 * w, 0.4 * h, 0.5 * w, 0.6 * h], abs=1.0)
    assert fake_alpr[0].region == "eu"  # the last group ran with its own region


def test_alpr_plugin_single_run_matches_batch(fake_alpr):
    _, model = load_plugin(BUILTIN_DIR / "alpr", threads=1, warm=False)
    img = np.zeros((60, 60, 3), np.uint8)
    assert model.run(img, {}) == model.run_batch([img], [{}])[0]


def test_alpr_plugin_reads_only_the_plates_in_a_requests_zone(fake_alpr):
    from platewise.errors import InvalidInput

    _, model = load_plugin(BUILTIN_DIR / "alpr", threads=1, warm=False)
    img = np.zeros((100, 200, 3), np.uint8)
    # the fake detector finds a plate at 10-50% of the width and 40-60% of the height of what it is given: with
    # a zone, of the zone's rectangle (grown by the margin, 16 px here)
    zones = [{"zone": "0,0 100,100"}, {"zone": "0,0 200,0 200,100"}, {}]  # the second: the upper-right half
    outs = model.run_batch([img, img, img], zones)
    assert [len(o) for o in outs] == [1, 0, 1]
    box = outs[0][0].detection.box  # the rectangle x 0-116: back in the image's pixels
    assert (box.x1, box.x2) == pytest.approx((11.6, 58.0), abs=1.5)
    with pytest.raises(InvalidInput, match="cannot read the zone"):
        model.run_batch([img], [{"zone": "left half"}])
