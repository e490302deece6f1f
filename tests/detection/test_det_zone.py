from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from platewise.detection.detector import DEFAULT_WEIGHTS, PlateDetector
from platewise.detection.zone import ZONE_MARGIN_MIN, Zone, fitted_input, zones_for
from platewise.errors import InvalidInput

SCENE = Path(__file__).resolve().parents[2] / "examples" / "scene_1280x720.jpg"


def test_a_zone_reads_pixels_or_fractions_as_a_rectangle_or_a_polygon() -> None:
    rect = Zone.parse("640,700 0,260")  # any two opposite corners
    assert not rect.relative
    np.testing.assert_array_equal(rect.polygon(720, 1280), [[0, 260], [640, 260], [640, 700], [0, 700]])
    rel = Zone.parse("0.1,0.5, 0.9,0.5, 1,1, 0,1")  # commas between the points too
    assert rel.relative and len(rel.points) == 4
    np.testing.assert_allclose(rel.polygon(720, 1280), [[128, 360], [1152, 360], [1280, 720], [0, 720]])
    assert Zone.parse(str(rel)) == rel
    assert Zone.of(rect) is rect and Zone.of("0,0 10,10") == Zone(((0, 0), (10, 10)))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "cannot read"),
        ("1,2,3", "cannot read"),
        ("a,b c,d", "cannot read"),
        ("0,0 10,10 nan,1", "cannot read"),
        ("-1,0 5,5", "negative"),
        ("0,0 0,5", "no area"),
        ("0,0 5,5 10,10", "no area"),  # three points on a line
        ("3,3", "at least 2 points"),
    ],
)
def test_a_bad_zone_is_rejected_with_what_to_write(text: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        Zone.parse(text)


def test_a_relative_zone_stays_within_the_image() -> None:
    with pytest.raises(InvalidInput, match=r"\[0, 1\]"):
        Zone(((0.0, 0.0), (1.5, 0.5)), relative=True)


def test_contains_tells_points_inside_a_polygon_and_on_its_border() -> None:
    tri = Zone.parse("0,0 100,0 0,100")
    inside = tri.contains(720, 1280, [[10, 10], [60, 60], [50, 50], [0, 0], [-1, 5]])
    assert inside.tolist() == [True, False, True, True, False]
    assert tri.contains(720, 1280, np.zeros((0, 2))).shape == (0,)


def test_the_crop_rectangle_grows_by_the_margin_and_stays_inside_the_image() -> None:
    assert Zone.parse("100,100 300,200").crop_rect(720, 1280) == (80, 100 - ZONE_MARGIN_MIN, 320, 200 + ZONE_MARGIN_MIN)
    assert Zone.parse("0,0 1,1").crop_rect(720, 1280) == (0, 0, 1280, 720)  # fractions: the whole image
    assert Zone.parse("1000,600 5000,5000").crop_rect(720, 1280) == (972, 584, 1280, 720)  # clipped first
    with pytest.raises(InvalidInput, match="outside the 1280x720 image"):
        Zone.parse("1300,10 1400,100").crop_rect(720, 1280)


@pytest.mark.parametrize(
    ("h", "w", "want"),
    [
        (720, 1280, (384, 640)),  # the default input already fits a 16:9 frame
        (492, 1280, (320, 768)),  # a band: seen at 0.6 instead of 0.5, as many pixels
        (576, 432, (576, 416)),  # portrait
        (200, 300, (224, 320)),  # small: the least input that holds it at its own size
    ],
)
def test_fitted_input_shows_the_crop_largest_within_the_default_inputs_pixels(h: int, w: int, want) -> None:
    ih, iw = fitted_input(h, w, (384, 640), 32)
    assert (ih, iw) == want
    assert ih % 32 == 0 and iw % 32 == 0 and ih * iw <= 384 * 640
    assert min(ih / h, iw / w) >= min(384 / h, 640 / w, 1.0) - 1e-9


def test_zones_for_gives_one_zone_per_image() -> None:
    z = Zone.parse("0,0 10,10")
    assert zones_for(3, None) == [None, None, None]
    assert zones_for(2, "0,0 10,10") == [z, z]
    assert zones_for(2, [z, None]) == [z, None]
    with pytest.raises(InvalidInput, match="2 zones for 3 images"):
        zones_for(3, [z, z])


def test_a_zone_over_the_whole_frame_changes_nothing(tiny_onnx: Path) -> None:
    img = cv2.GaussianBlur(np.random.default_rng(5).integers(0, 255, (720, 1280, 3), dtype=np.uint8), (7, 7), 2)
    det = PlateDetector(tiny_onnx, threads=1, score_threshold=0.0, input_size=(384, 640))
    plain, whole = det.detect_raw([img])[0], det.detect_raw([img], zones="0,0 1,1")[0]
    assert len(plain.scores) > 0
    np.testing.assert_array_equal(whole.boxes, plain.boxes)
    np.testing.assert_array_equal(whole.scores, plain.scores)


def test_detections_in_a_zone_have_their_centres_in_it_in_image_pixels(tiny_onnx: Path) -> None:
    rng = np.random.default_rng(6)
    images = [cv2.GaussianBlur(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), (7, 7), 2) for _ in range(3)]
    zone = Zone.parse("300,200 900,200 1000,600 200,600")
    det = PlateDetector(tiny_onnx, threads=1, score_threshold=0.0, batch_size=2)
    out = det.detect_raw(images, zones=[zone, None, zone])
    assert len(out) == 3 and len(out[0].scores) and len(out[2].scores)
    for raw in (out[0], out[2]):
        centres = (raw.boxes[:, :2] + raw.boxes[:, 2:]) / 2
        assert zone.contains(720, 1280, centres).all()
        assert (raw.boxes >= 0).all() and (raw.boxes[:, [0, 2]] <= 1280).all()
        assert raw.corners.shape == (len(raw.scores), 4, 2)
    np.testing.assert_array_equal(out[1].boxes, det.detect_raw([images[1]])[0].boxes)  # no zone: as before
    centres = (out[1].boxes[:, :2] + out[1].boxes[:, 2:]) / 2
    assert not zone.contains(720, 1280, centres).all()  # the zone left some out


def test_zone_and_min_plate_width_settings_are_checked(tiny_onnx: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read the zone"):
        PlateDetector(tiny_onnx, threads=1, zone="here")
    with pytest.raises(InvalidInput, match="min_plate_width"):
        PlateDetector(tiny_onnx, threads=1, min_plate_width=-5)
    det = PlateDetector(tiny_onnx, threads=1, zone="0,0 100,100")
    img = np.zeros((50, 60, 3), np.uint8)
    with pytest.raises(InvalidInput, match="outside the 60x50 image"):
        det.detect([img], zones="70,0 80,40")
    with pytest.raises(InvalidInput, match="1 zones for 2 images"):
        det.detect([img, img], zones=["0,0 10,10"])


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="no shipped detector")
def test_the_shipped_detector_finds_the_plate_in_its_zone_only() -> None:
    scene = cv2.imread(str(SCENE))
    (plate,) = PlateDetector(threads=1).detect([scene])[0]  # about 75 px wide, x 805-880
    right, left = "640,0 1280,720", "0,0 640,720"
    det = PlateDetector(threads=1, zone=right)
    (found,) = det.detect([scene])[0]
    assert np.abs(np.asarray(found.box.as_list()) - plate.box.as_list()).max() < 4
    assert det.detect([scene], zones=left) == [[]]
    assert [len(d) for d in det.detect([scene, scene], zones=[left, None])] == [0, 1]
    # relative: the right half
    assert len(PlateDetector(threads=1, zone="0.5,0 1,1").detect([scene])[0]) == 1
    assert PlateDetector(threads=1, min_plate_width=plate.box.width + 5).detect([scene]) == [[]]
    assert len(PlateDetector(threads=1, min_plate_width=plate.box.width - 5).detect([scene])[0]) == 1


def test_a_zone_around_plate_centres_holds_them_between_the_percentiles() -> None:
    rng = np.random.default_rng(0)
    centres = np.column_stack([rng.uniform(100, 1200, 500), rng.uniform(260, 660, 500)])
    zone = Zone.around(centres, 1, 99, step=10)
    assert not zone.relative and len(zone.points) == 2
    assert 0.97 <= zone.contains(720, 1280, centres).mean() <= 1.0
    assert all(v % 10 == 0 for p in zone.points for v in p)
    assert Zone.around([[5, 7]]) == Zone(((0.0, 0.0), (10.0, 10.0)))  # one centre: one step around it, not below 0
    with pytest.raises(InvalidInput, match="at least one plate centre"):
        Zone.around(np.zeros((0, 2)))
    with pytest.raises(InvalidInput, match="low < high"):
        Zone.around(centres, 99, 1)


def test_a_zone_holds_the_boxes_whose_centre_it_contains() -> None:
    tri = Zone.parse("0,0 100,0 0,100")
    boxes = [[0, 0, 20, 20], [40, 40, 80, 80], [45, 45, 55, 55]]  # centres (10,10) in, (60,60) out, (50,50) edge
    assert tri.holds(720, 1280, boxes).tolist() == [True, False, True]
    assert tri.holds(720, 1280, np.zeros((0, 4))).shape == (0,)
