from __future__ import annotations

import numpy as np
import pytest

from platewise.errors import InvalidImage
from platewise.pipeline import ALPR, choose_candidate
from platewise.pipeline.draw import draw_reads
from platewise.pipeline.fakes import FakeDetector, FakeRecognizer
from platewise.types import PlateText


def _img(h=120, w=200):
    return np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_read_batch_reads_all_plates_of_all_images_in_one_ocr_batch():
    rec = FakeRecognizer("AB123CD")
    alpr = ALPR(FakeDetector([(0.1, 0.1, 0.4, 0.3), (0.5, 0.5, 0.9, 0.7)]), rec, corner_refine=False)
    out = alpr.read_batch([_img(), _img(300, 400), _img(50, 60)])
    assert [len(p) for p in out] == [2, 2, 2]
    assert rec.batches == [(12, 32, 128, 3)]  # 6 straightened plates + their 6 box views
    rec.batches.clear()
    alpr.corner_refine = True  # (the default) up to one more view per plate, still one batch
    assert [len(p) for p in alpr.read_batch([_img(), _img(300, 400), _img(50, 60)])] == [2, 2, 2]
    assert len(rec.batches) == 1 and 12 <= rec.batches[0][0] <= 18
    assert out[1][1].box.x1 == pytest.approx(200)
    assert out[0][0].text == "AB123CD" and out[0][0].region == "eu-fr"


def test_region_bias_picks_the_best_candidate_matching_the_region_format():
    cands = (("ABC1234", 0.5), ("ABC1D34", 0.3))
    pt = PlateText("ABC1234", 0.5, (0.9,) * 7, cands)
    assert choose_candidate(pt, None)[0] == "ABC1234"
    assert choose_candidate(pt, "br")[0] == "ABC1234"  # old Brazilian format matches first
    pt2 = PlateText("ABCI234", 0.5, (0.9,) * 7, (("ABCI234", 0.5), ("ABC1234", 0.4)))
    text, conf, region = choose_candidate(pt2, "br")
    assert (text, conf, region) == ("ABC1234", 0.4, "br")


def test_min_confidence_drops_low_confidence_plates():
    alpr = ALPR(FakeDetector([(0.1, 0.1, 0.4, 0.3)]), FakeRecognizer(confidence=0.3), min_confidence=0.5)
    assert alpr.read(_img()) == []


def test_run_reports_per_stage_timings():
    res = ALPR(FakeDetector([(0.1, 0.1, 0.4, 0.3)]), FakeRecognizer()).run([_img()])
    assert set(res.timings) == {"detect", "straighten", "read", "total"}
    assert all(v >= 0 for v in res.timings.values())


def test_images_without_plates_give_empty_lists_and_no_ocr_call():
    rec = FakeRecognizer()
    assert ALPR(FakeDetector([]), rec).read_batch([_img(), _img()]) == [[], []]
    assert rec.batches == []


def test_read_accepts_gray_and_rgba_and_rejects_wrong_dtype():
    alpr = ALPR(FakeDetector([(0.1, 0.1, 0.5, 0.5)]), FakeRecognizer())
    assert len(alpr.read(np.zeros((40, 80), np.uint8))) == 1
    assert len(alpr.read(np.zeros((40, 80, 4), np.uint8))) == 1
    with pytest.raises(InvalidImage, match="uint8"):
        alpr.read(np.zeros((40, 80, 3), np.float32))
    with pytest.raises(InvalidImage, match="empty"):
        alpr.read(np.zeros((0, 0, 3), np.uint8))


def test_unknown_region_and_bad_options_are_rejected_with_a_hint():
    with pytest.raises(ValueError, match="known:"):
        ALPR(FakeDetector([]), FakeRecognizer(), region="atlantis")
    with pytest.raises(ValueError, match="top_n"):
        ALPR(FakeDetector([]), FakeRecognizer(), top_n=0)


def test_plate_read_round_trips_through_its_dict():
    from platewise.types import PlateRead

    r = ALPR(FakeDetector([(0.1, 0.1, 0.4, 0.3)]), FakeRecognizer()).read(_img())[0]
    back = PlateRead.from_dict(r.to_dict())
    assert back.text == r.text and back.box.as_list() == pytest.approx(r.box.as_list(), abs=0.1)


def test_draw_reads_marks_the_plate_box_and_keeps_the_original():
    img = np.zeros((120, 200, 3), np.uint8)
    reads = ALPR(FakeDetector([(0.1, 0.3, 0.6, 0.6)]), FakeRecognizer()).read(img)
    drawn = draw_reads(img, reads)
    assert drawn.any() and not img.any()
    with_zone = draw_reads(img, [], zone="0.5,0 1,1")  # the zone's outline, magenta
    assert (with_zone[60, 100] == (255, 0, 255)).all() and not with_zone[60, 50].any()


def test_evaluate_e2e_counts_exact_reads_detection_recall_and_false_positives(tmp_path):
    from platewise.data.sources import SceneSample
    from platewise.pipeline.evaluate import evaluate_e2e, match_reads
    from platewise.types import BBox

    img = np.zeros((100, 200, 3), np.uint8)
    alpr = ALPR(FakeDetector([(0.1, 0.1, 0.3, 0.3), (0.6, 0.6, 0.9, 0.9)]), FakeRecognizer("AB123CD"))
    samples = [
        SceneSample(tmp_path / "a.jpg", "x/a.jpg", (BBox(20, 10, 60, 30),), ("AB-123-CD",), ("eu",)),
        SceneSample(tmp_path / "b.jpg", "x/b.jpg", (BBox(20, 10, 60, 30),), ("ZZ999ZZ",), ("eu",)),
    ]
    res = evaluate_e2e(alpr, samples, lambda p: img)
    o = res["overall"]
    assert o["plates"] == 2 and o["accuracy"] == 0.5 and o["detection_recall"] == 1.0
    assert o["false_positives_per_image"] == 1.0 and res["regions"]["eu"]["plates"] == 2
    assert match_reads([BBox(0, 0, 10, 10)], []) == [None]
    # the one plate not read is listed with what was read where it is
    [miss] = res["misses"]
    assert miss["image"] == "x/b.jpg" and miss["label"] == "ZZ999ZZ" and miss["read"] == "AB123CD"
    assert miss["iou"] >= 0.5 and miss["detection_score"] is not None


class _ByPosition(FakeRecognizer):
    """Reads the first ``k`` crops of a batch (the straightened plates) as ``first``, the rest (box views) as
    ``second``."""

    def __init__(self, k: int, first: tuple[str, float], second: tuple[str, float]) -> None:
        super().__init__()
        self.k, self.first, self.second = k, first, second

    def read_prepared(self, batch):
        self.batches.append(tuple(batch.shape))
        out = []
        for j in range(len(batch)):
            t, c = self.first if j < self.k else self.second
            out.append(PlateText(t, c, (c,) * len(t), ((t, c),)))
        return out


def test_box_view_wins_only_when_more_confident():
    det = FakeDetector([(0.1, 0.1, 0.4, 0.3)])
    rec = _ByPosition(1, ("AB123CD", 0.4), ("XY987ZW", 0.8))
    (p,) = ALPR(det, rec, corner_refine=False).read(_img())
    assert (p.text, p.extra["view"], p.extra["rectified"]) == ("XY987ZW", "box", True)
    rec = _ByPosition(1, ("AB123CD", 0.9), ("XY987ZW", 0.8))
    (p,) = ALPR(det, rec, corner_refine=False).read(_img())
    assert (p.text, p.extra["view"]) == ("AB123CD", "rectified")
    rec = _ByPosition(1, ("AB123CD", 0.4), ("XY987ZW", 0.8))
    (p,) = ALPR(det, rec, box_view=False, corner_refine=False).read(_img())
    assert (p.text, p.extra["view"]) == ("AB123CD", "rectified")
    assert rec.batches == [(1, 32, 128, 3)]
    with pytest.raises(ValueError, match="box_pad"):
        ALPR(det, rec, box_pad=0.7)


def test_min_chars_drops_short_readings():
    det = FakeDetector([(0.1, 0.1, 0.4, 0.3)])
    assert ALPR(det, FakeRecognizer("K77")).read(_img()) == []
    assert [p.text for p in ALPR(det, FakeRecognizer("K77"), min_chars=3).read(_img())] == ["K77"]
    assert [p.text for p in ALPR(det, FakeRecognizer("K779")).read(_img())] == ["K779"]
    with pytest.raises(ValueError, match="min_chars"):
        ALPR(det, FakeRecognizer(), min_chars=0)
    with pytest.raises(ValueError, match="box_blend"):
        ALPR(det, FakeRecognizer(), box_blend=1.5)


class _Candidates(FakeRecognizer):
    """Reads every crop as the same ranked candidates."""

    def __init__(self, cands: tuple[tuple[str, float], ...]) -> None:
        super().__init__()
        self.cands = cands

    def read_prepared(self, batch):
        t, c = self.cands[0]
        return [PlateText(t, c, (c,) * len(t), self.cands) for _ in range(len(batch))]


def test_evaluate_e2e_can_set_each_images_labelled_region(tmp_path):
    from platewise.data.sources import SceneSample
    from platewise.pipeline.evaluate import evaluate_e2e
    from platewise.types import BBox

    img = np.zeros((100, 200, 3), np.uint8)
    alpr = ALPR(FakeDetector([(0.1, 0.1, 0.3, 0.3)]), _Candidates((("ABC12345", 0.6), ("ABC1234", 0.3))))
    samples = [SceneSample(tmp_path / "a.jpg", "x/a.jpg", (BBox(20, 10, 60, 30),), ("ABC1234",), ("br",))]
    assert evaluate_e2e(alpr, samples, lambda p: img)["overall"]["accuracy"] == 0.0
    assert evaluate_e2e(alpr, samples, lambda p: img, region_from_labels=True)["overall"]["accuracy"] == 1.0
    assert alpr.region == "br"


def test_corner_refine_reads_a_third_view_and_reports_the_refined_corners():
    import cv2

    img = np.full((200, 400, 3), 50, np.uint8)
    cv2.rectangle(img, (100, 80), (300, 140), (230, 230, 230), -1)  # the plate: x 100..300, y 80..140
    det = FakeDetector([(90 / 400, 72 / 200, 310 / 400, 150 / 200)])  # a box (and corners) a little loose
    rec = _ByPosition(1, ("AB123CD", 0.5), ("XY987ZW", 0.6))  # crop 0: rectified; 1: refined; 2: box
    (p,) = ALPR(det, rec).read(img)  # corner_refine=True is the default
    assert rec.batches == [(3, 32, 128, 3)]
    assert (p.text, p.extra["view"]) == ("XY987ZW", "refined")
    q = p.detection.corners.as_array()
    truth = np.array([[100, 80], [300, 80], [300, 140], [100, 140]], np.float32)
    assert np.abs(q - truth).max() < 3  # snapped onto the plate's outline (the box was 8-10 px off)
    # the box moves halfway (box_blend=0.5) from the detector's (90..310 x 72..150) to the refined corners'
    assert (p.box.x1, p.box.y1, p.box.x2, p.box.y2) == pytest.approx((95, 76, 305, 145), abs=1.5)
    (p0,) = ALPR(det, _ByPosition(1, ("AB123CD", 0.5), ("XY987ZW", 0.6)), box_blend=0).read(img)
    assert (p0.box.x1, p0.box.y1, p0.box.x2, p0.box.y2) == pytest.approx((90, 72, 310, 150))
    # off: two views, the detector's corners
    rec = _ByPosition(1, ("AB123CD", 0.5), ("XY987ZW", 0.6))
    (p,) = ALPR(det, rec, corner_refine=False).read(img)
    assert rec.batches == [(2, 32, 128, 3)] and p.detection.corners.as_array()[0, 0] == pytest.approx(90)


def test_default_min_confidence_drops_only_very_unsure_readings():
    det = FakeDetector([(0.1, 0.1, 0.4, 0.3)])
    assert ALPR(det, FakeRecognizer(confidence=0.1)).read(_img()) == []  # default 0.15
    assert len(ALPR(det, FakeRecognizer(confidence=0.2)).read(_img())) == 1
    assert len(ALPR(det, FakeRecognizer(confidence=0.1), min_confidence=0.0).read(_img())) == 1


class _CtcViews(FakeRecognizer):
    """A CTC reader whose first crop of a batch reads 0BCA (0 at 0.6, D at 0.4) and the others DBCA (D at 0.58,
    0 at 0.42), with per-frame probabilities, as PlateReader.read_prepared_with_probs returns them."""

    head = "ctc"
    alphabet = "ABCD0"

    def _probs(self, n: int) -> np.ndarray:
        c = len(self.alphabet) + 1
        out = []
        for j in range(n):
            p = np.full((10, c), 0.01 / (c - 1))
            p[:, 0] = 0.99
            for k, i in enumerate((5, 2, 3, 1)):  # 0 B C A
                p[1 + 2 * k] = 0.01 / (c - 1)
                p[1 + 2 * k, i] = 0.99
            p[1] = 1e-6
            p[1, 5], p[1, 4] = (0.6, 0.4) if j == 0 else (0.42, 0.58)
            out.append(p / p.sum(-1, keepdims=True))
        return np.stack(out).astype(np.float32)

    def read_prepared_with_probs(self, batch):
        from platewise.ocr.decode import decode_ctc

        self.batches.append(tuple(batch.shape))
        probs = self._probs(len(batch))
        return decode_ctc(np.log(probs), self.alphabet, top_n=3), probs

    def read_prepared(self, batch):
        return self.read_prepared_with_probs(batch)[0]


def test_views_are_fused_by_their_mean_ctc_probability():
    import cv2

    img = np.full((200, 400, 3), 50, np.uint8)
    cv2.rectangle(img, (100, 80), (300, 140), (230, 230, 230), -1)
    det = FakeDetector([(90 / 400, 72 / 200, 310 / 400, 150 / 200)])  # refinement moves it: three views
    rec = _CtcViews()
    (p,) = ALPR(det, rec, min_confidence=0, reread_below=0).read(img)
    assert rec.batches == [(3, 32, 128, 3)]
    assert p.text == "DBCA"  # two of three views lean to D; the most confident single view says 0
    assert p.extra["view"] in ("refined", "box")
    assert [t for t, _ in p.candidates[:2]] == ["DBCA", "0BCA"]
    # the confidence averages the three views' confidences in DBCA: below that of the views that read it
    texts, _ = _CtcViews().read_prepared_with_probs(np.zeros((3, 32, 128, 3), np.uint8))
    stated = [next(c for t, c in pt.candidates if t == "DBCA") for pt in texts]
    assert p.confidence == pytest.approx(sum(stated) / 3) and p.confidence < texts[1].confidence
    (q,) = ALPR(det, _CtcViews(), min_confidence=0, fuse_views=False).read(img)
    assert (q.text, q.extra["view"]) == ("0BCA", "rectified")


def test_unsure_plates_are_read_again_in_four_more_views():
    import cv2

    img = np.full((200, 400, 3), 50, np.uint8)
    cv2.rectangle(img, (100, 80), (300, 140), (230, 230, 230), -1)
    det = FakeDetector([(90 / 400, 72 / 200, 310 / 400, 150 / 200)])
    rec = _CtcViews()
    alpr = ALPR(det, rec, min_confidence=0)  # reread_below=0.9: the fused confidence (~0.5) is under it
    (p,) = alpr.read(img)
    # a second batch: the refined crop less 3% on the left and on the right, straightened with margins 0, 8%
    assert rec.batches == [(3, 32, 128, 3), (4, 32, 128, 3)]
    assert p.text == "DBCA"
    # the second batch's first crop reads like the first view (0BCA): two of seven views lean to 0, five to D
    texts, probs = rec.read_prepared_with_probs(np.zeros((3, 32, 128, 3), np.uint8))
    texts2, probs2 = rec.read_prepared_with_probs(np.zeros((4, 32, 128, 3), np.uint8))
    from platewise.ocr.decode import fuse_ctc_views

    weights = [1, 1, 1] + [0.75] * 4  # the four new views weigh as much as the first three
    want, k = fuse_ctc_views(texts + texts2, np.concatenate([probs, probs2]), rec.alphabet, 3, weights)
    assert (p.text, p.confidence) == (want.text, pytest.approx(want.confidence))
    names = ["rectified", "refined", "box", "cut-left", "cut-right", "pad-0", "pad-0.08"]
    assert p.extra["view"] == names[k]
    rec = _CtcViews()
    ALPR(det, rec, min_confidence=0, reread_below=0.3).read(img)  # sure enough: one batch
    assert rec.batches == [(3, 32, 128, 3)]
    with pytest.raises(ValueError, match="reread_below"):
        ALPR(det, rec, reread_below=-1)


def test_default_pipeline_detector_threshold_is_below_the_detectors_own():
    from platewise.detection.detector import DEFAULT_WEIGHTS, PlateDetector
    from platewise.detection.verifier import DEFAULT_VERIFIER

    if not DEFAULT_WEIGHTS.is_file() or not DEFAULT_VERIFIER.is_file():
        pytest.skip("no shipped detector or verifier weights")
    own = PlateDetector(threads=1, verifier=False).score_threshold
    assert own == pytest.approx(0.35)  # the network's metadata (the detector's default adds the verifier)
    verified = PlateDetector(threads=1)
    assert verified.verifier is not None and verified.score_threshold > 0.2
    default = ALPR(threads=1)
    # the shipped verifier, at its metadata's pipeline_threshold (0.35 since the sixteenth session) on its combined
    # score, under the detector's own
    assert default.detector.verifier is not None  # type: ignore[attr-defined]
    assert default.detector.score_threshold == pytest.approx(0.35)  # type: ignore[attr-defined]
    assert default.detector.score_threshold < verified.score_threshold  # type: ignore[attr-defined]
    # its own detector: no corner refinement or box blending (the pipeline does both, reading both views)
    assert default.detector.corner_refine is False and default.detector.box_blend == 0.0  # type: ignore[attr-defined]
    plain = ALPR(threads=1, detector_verifier=False).detector
    assert plain.verifier is None and plain.score_threshold == pytest.approx(0.3)  # type: ignore[attr-defined]
    custom = ALPR(threads=1, detector_path=DEFAULT_WEIGHTS).detector  # a detector file given: no verifier
    assert custom.verifier is None and custom.score_threshold == pytest.approx(0.3)  # type: ignore[attr-defined]
    assert ALPR(threads=1, detector_threshold=0.5).detector.score_threshold == 0.5  # type: ignore[attr-defined]


def test_pipeline_threshold_comes_from_the_verifiers_metadata(tmp_path):
    import shutil

    pytest.importorskip("onnx")
    from platewise.detection.detector import DEFAULT_WEIGHTS
    from platewise.detection.verifier import DEFAULT_VERIFIER
    from platewise.training.export import update_metadata

    if not DEFAULT_WEIGHTS.is_file() or not DEFAULT_VERIFIER.is_file():
        pytest.skip("no shipped detector or verifier weights")
    path = tmp_path / "verifier.onnx"
    shutil.copy(DEFAULT_VERIFIER, path)
    update_metadata(path, {"pipeline_threshold": 0.42})
    assert ALPR(threads=1, detector_verifier=path).detector.score_threshold == pytest.approx(0.42)  # type: ignore[attr-defined]
    # a threshold given wins over the metadata's
    assert ALPR(threads=1, detector_verifier=path, detector_threshold=0.3).detector.score_threshold == 0.3  # type: ignore[attr-defined]
    update_metadata(path, {"pipeline_threshold": 1.5})
    with pytest.raises(ValueError, match="pipeline_threshold"):
        ALPR(threads=1, detector_verifier=path)


def test_zones_per_call_override_the_pipelines_and_work_with_any_detector():
    rec = FakeRecognizer("AB123CD")
    # the fake finds a plate at 10-40% of the width of what it is given, so, with a zone, of the zone's rectangle
    alpr = ALPR(FakeDetector([(0.1, 0.4, 0.4, 0.6)]), rec, zone="0,0 100,120")
    img = _img(120, 200)
    (plate,) = alpr.read(img)
    assert plate.box.x2 <= 116  # found in the zone's rectangle (100 px and the 16 px margin)
    assert alpr.read(img, zone="0,0 200,0 200,120") == []  # the upper-right triangle: its centre is outside
    assert [len(p) for p in alpr.read_batch([img, img], zones=[None, "0.5,0 1,1"])] == [1, 1]
    with pytest.raises(ValueError, match="outside the 200x120 image"):
        alpr.read(img, zone="300,0 400,100")
    with pytest.raises(ValueError, match="cannot read the zone"):
        ALPR(FakeDetector([]), rec, zone="somewhere")


def test_the_default_pipeline_reads_only_the_plate_in_its_zone():
    from pathlib import Path

    import cv2

    from platewise.detection.detector import DEFAULT_WEIGHTS

    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("no shipped detector")
    scene = cv2.imread(str(Path(__file__).resolve().parents[2] / "examples" / "scene_1280x720.jpg"))
    alpr = ALPR(threads=1)
    (whole,) = alpr.read(scene)  # one plate, x 805-880
    (right,) = alpr.read(scene, zone="640,0 1280,720")
    assert right.text == whole.text and abs(right.box.x1 - whole.box.x1) < 4
    assert ALPR(threads=1, zone="0,0 640,720").read(scene) == []
    assert ALPR(threads=1, detector_min_plate_width=whole.box.width + 10).read(scene) == []
