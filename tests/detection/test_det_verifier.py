from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from platewise.detection.detector import PlateDetector
from platewise.detection.verifier import DEFAULT_VERIFIER, PlateVerifier, combine_scores, verifier_crops
from platewise.errors import InvalidInput, ModelNotFound


def test_crops_of_an_inside_box_are_the_padded_region_resized() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    box = np.array([[100, 80, 196, 112]], np.float32)  # 96 x 32; padded 0.25 / 0.5 -> 144 x 64 at (76, 64)
    got = verifier_crops(img, box, (32, 72), 0.25, 0.5)
    want = cv2.resize(img[64:128, 76:220], (72, 32), interpolation=cv2.INTER_AREA)
    assert got.shape == (1, 32, 72, 3) and got.dtype == np.uint8
    assert np.abs(got[0].astype(int) - want.astype(int)).max() <= 1


def test_crops_outside_the_image_are_black_and_odd_boxes_do_not_fail() -> None:
    img = np.full((50, 80), 200, np.uint8)  # greyscale is accepted
    boxes = np.array(
        [
            [-40, 10, 20, 30],  # partly outside on the left
            [500, 500, 600, 540],  # wholly outside
            [30, 20, 30, 20],  # zero size
            [10, 10, 70, 40],
        ],
        np.float32,
    )
    got = verifier_crops(img, boxes, (16, 48), 0.25, 0.5)
    assert got.shape == (4, 16, 48, 3)
    assert got[0, :, :12].max() == 0 and got[0, 8, 40:].min() == 200
    assert got[1].max() == 0
    assert got[2].max() == 200
    assert got[3, 8, 24].tolist() == [200, 200, 200]
    assert verifier_crops(img, np.zeros((0, 4), np.float32), (16, 48), 0.25, 0.5).shape == (0, 16, 48, 3)


def test_combine_scores_is_the_logistic_combination() -> None:
    d = np.array([0.1, 0.5, 0.9], np.float32)
    v = np.array([0.9, 0.5, 0.1], np.float32)
    np.testing.assert_allclose(combine_scores(d, v, (1.0, 0.0, 0.0)), d, atol=1e-5)
    np.testing.assert_allclose(combine_scores(d, v, (0.0, 1.0, 0.0)), v, atol=1e-5)
    z = 2 * np.log(d / (1 - d)) + 0.5 * np.log(v / (1 - v)) - 1
    np.testing.assert_allclose(combine_scores(d, v, (2.0, 0.5, -1.0)), 1 / (1 + np.exp(-z)), atol=1e-5)


def test_fit_combination_recovers_the_coefficients_of_logistic_data() -> None:
    pytest.importorskip("torch")
    from platewise.detection.verifier_train import fit_combination

    rng = np.random.default_rng(1)
    d = rng.uniform(0.02, 0.98, 40000).astype(np.float32)
    v = rng.uniform(0.02, 0.98, 40000).astype(np.float32)
    truth = (1.5, 2.0, -0.5)
    y = rng.random(40000) < combine_scores(d, v, truth)
    a, b, c = fit_combination(d, v, y.astype(np.int64))
    assert abs(a - 1.5) < 0.1 and abs(b - 2.0) < 0.1 and abs(c + 0.5) < 0.1
    # the direction given (here the true one, 2.0 / 3.5 of the way to the verifier): only scale and bias fitted
    a, b, c = fit_combination(d, v, y.astype(np.int64), verifier_weight=2.0 / 3.5)
    assert b / (a + b) == pytest.approx(2.0 / 3.5) and abs(a - 1.5) < 0.1 and abs(c + 0.5) < 0.1
    # a direction off the truth: the ratio is kept as given
    a, b, _ = fit_combination(d, v, y.astype(np.int64), verifier_weight=0.2)
    assert b / (a + b) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="verifier_weight"):
        fit_combination(d, v, y.astype(np.int64), verifier_weight=1.0)


def test_f1_threshold_picks_the_best_f1_of_the_evaluation_counts() -> None:
    pytest.importorskip("torch")
    from platewise.detection.evaluate import DetectionCounts
    from platewise.detection.verifier_train import f1_threshold

    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10]], np.float32)
    boxes = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [100, 0, 110, 10], [40, 0, 50, 10], [120, 0, 130, 10]])
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2], np.float32)
    counts = {}
    for t in (0.1, 0.25, 0.5, 0.75):
        counts[t] = DetectionCounts()
        counts[t].add(boxes.astype(np.float32), scores, gt, t)
    thr, at = f1_threshold(counts)  # 0.25: 3 of 4 plates, 3 of 4 detections (F1 0.75); 0.5: 2/4, 2/3
    assert thr == 0.25
    assert at["recall50"] == pytest.approx(0.75) and at["precision50"] == pytest.approx(0.75)


def test_precision_floor_threshold_keeps_every_folder_at_the_floor() -> None:
    pytest.importorskip("torch")
    from platewise.detection.evaluate import DetectionCounts
    from platewise.detection.verifier_train import precision_floor_threshold

    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10]], np.float32)
    # folder a: the F1 example above (precision 0.6 / 0.75 / 0.67 / 1.0 at the four thresholds)
    a_boxes = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [100, 0, 110, 10], [40, 0, 50, 10], [120, 0, 130, 10]])
    a_scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2], np.float32)
    # folder b: every detection right
    b_boxes, b_scores = gt[:2], np.array([0.6, 0.4], np.float32)
    grid = (0.1, 0.25, 0.5, 0.75)
    total = {t: DetectionCounts() for t in grid}
    folders = {"a": {t: DetectionCounts() for t in grid}, "b": {t: DetectionCounts() for t in grid}}
    for name, boxes, scores in (("a", a_boxes, a_scores), ("b", b_boxes, b_scores)):
        for t in grid:
            total[t].add(boxes.astype(np.float32), scores, gt, t)
            folders[name][t].add(boxes.astype(np.float32), scores, gt, t)
    thr, at, met = precision_floor_threshold(total, [(c, 0.7) for c in folders.values()])
    assert (thr, met) == (0.25, True)  # the best F1 (5 of 8 plates, 5 of 6 detections); folder a: 0.75
    thr, at, met = precision_floor_threshold(total, [(c, 0.95) for c in folders.values()])
    assert (thr, met) == (0.75, True)  # the only threshold where folder a has no false detection
    assert at["precision50"] == pytest.approx(1.0) and at["recall50"] == pytest.approx(2 / 8)
    folders["a"][0.75] = folders["a"][0.5]  # no threshold meets it any more: the plain best F1, flagged
    thr, _, met = precision_floor_threshold(total, [(c, 0.95) for c in folders.values()])
    assert (thr, met) == (0.25, False)


def test_verifier_probabilities_match_torch(tiny_verifier: Path) -> None:
    torch = pytest.importorskip("torch")
    from platewise.detection.verifier_train import VerifierNet

    v = PlateVerifier(tiny_verifier, threads=1)
    assert v.combine == (1.0, 0.5, 0.2) and v.candidate_threshold == 0.0 and v.score_threshold == 0.2
    rng = np.random.default_rng(2)
    img = rng.integers(0, 255, (120, 200, 3), dtype=np.uint8)
    boxes = np.array([[10, 10, 90, 40], [50, 60, 190, 110]], np.float32)
    p = v.probabilities(img, boxes)
    torch.manual_seed(0)
    net = VerifierNet(widths=(8, 8, 8, 8)).eval()
    crops = verifier_crops(img, boxes, v.size, v.pad_x, v.pad_y)
    with torch.no_grad():
        want = torch.sigmoid(net(torch.from_numpy(crops.transpose(0, 3, 1, 2).astype(np.float32) / 255))).numpy()
    np.testing.assert_allclose(p, want, atol=1e-4)
    assert v.probabilities(img, np.zeros((0, 4), np.float32)).shape == (0,)
    np.testing.assert_allclose(
        v.rescore(img, boxes, np.array([0.3, 0.6], np.float32)),
        combine_scores(np.array([0.3, 0.6], np.float32), p, v.combine),
        atol=1e-5,
    )


def test_verifier_many_images_at_once_match_one_at_a_time(tiny_verifier: Path) -> None:
    v = PlateVerifier(tiny_verifier, threads=1, batch_size=2)  # 3 crops: two network calls
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 255, (120, 200, 3), dtype=np.uint8), rng.integers(0, 255, (90, 160), dtype=np.uint8)]
    images[1] = np.stack([images[1]] * 3, -1)
    boxes = [np.array([[10, 10, 90, 40], [50, 60, 190, 110]], np.float32), np.array([[0, 0, 40, 20]], np.float32)]
    scores = [np.array([0.3, 0.6], np.float32), np.array([0.9], np.float32)]
    probs = v.probabilities_many(images, boxes)
    assert [p.shape for p in probs] == [(2,), (1,)]
    for p, im, b in zip(probs, images, boxes, strict=True):
        np.testing.assert_allclose(p, v.probabilities(im, b), atol=1e-5)
    for r, im, b, s in zip(v.rescore_many(images, boxes, scores), images, boxes, scores, strict=True):
        np.testing.assert_allclose(r, v.rescore(im, b, s), atol=1e-5)
    empty = np.zeros((0, 4), np.float32)
    got = v.rescore_many(images, [empty, boxes[1]], [np.zeros(0, np.float32), scores[1]])
    assert got[0].shape == (0,) and got[1].shape == (1,)
    assert [p.shape for p in v.probabilities_many(images, [empty, empty])] == [(0,), (0,)]
    with pytest.raises(ValueError, match="1 images but 2 box arrays"):
        v.probabilities_many(images[:1], boxes)


def test_verifier_rejects_other_models_and_missing_files(tiny_onnx: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a platewise plate verifier"):
        PlateVerifier(tiny_onnx)
    with pytest.raises(ModelNotFound):
        PlateVerifier(tmp_path / "nope.onnx")


def test_detector_with_a_verifier_keeps_rescored_candidates(tiny_onnx: Path, tiny_verifier: Path) -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
    plain = PlateDetector(tiny_onnx, threads=1, score_threshold=0.0, verifier=False, corner_refine=False)
    assert plain.verifier is None  # a custom detector gets no verifier unless given one
    assert PlateDetector(tiny_onnx, threads=1).verifier is None
    cand = plain.detect_raw([img])[0]
    assert len(cand.scores) > 0, "the untrained tiny detector should give candidates"
    det = PlateDetector(tiny_onnx, threads=1, verifier=tiny_verifier, corner_refine=False)
    assert det.score_threshold == det.default_threshold == 0.2 and det.candidate_threshold == 0.0
    got = det.detect_raw([img])[0]
    want = det.verifier.rescore(img, cand.boxes, cand.scores)  # type: ignore[union-attr]
    keep = np.sort(want[want >= 0.2])[::-1]
    np.testing.assert_allclose(got.scores, keep, atol=1e-5)
    assert (np.diff(got.scores) <= 0).all()


@pytest.mark.skipif(not DEFAULT_VERIFIER.is_file(), reason="no shipped verifier")
def test_shipped_detector_uses_the_shipped_verifier_unless_told_not_to() -> None:
    assert PlateDetector(threads=1).verifier is not None
    assert PlateDetector(threads=1, verifier=False).verifier is None


def test_verifier_training_command_writes_a_calibrated_verifier(tmp_path: Path, tiny_data_root: Path) -> None:
    pytest.importorskip("torch")
    import json

    from platewise.detection.verifier_train import main

    root = tiny_data_root
    out = tmp_path / "run"
    args = ["--out", str(out), "--data-root", str(root), "--synthetic", "2", "--steps", "3", "--batch", "8"]
    args += ["--size", "24x72", "--widths", "8,8,8,8", "--strong-augment", "--distractor-prob", "1"]
    assert main([*args, "--candidate-thresholds", "0.05,0.3"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["candidate_threshold"] in (0.05, 0.3)
    assert set(summary["per_candidate_threshold"]) == {"0.05", "0.3"}
    v = PlateVerifier(out / "verifier.onnx", threads=1)
    assert v.candidate_threshold == summary["candidate_threshold"]
    assert v.score_threshold == summary["score_threshold"]
    assert v.combine == pytest.approx(tuple(summary["combine"]))
    assert v.size == (24, 72)
    assert (out / "verifier.pt").is_file() and (out / "candidates.npz").is_file()
    # recalibrating alone reuses the trained weights (verifier.pt) and sweeps again
    assert main(["--out", str(out), "--data-root", str(root), "--recalibrate", "--candidate-thresholds", "0.3"]) == 0
    assert PlateVerifier(out / "verifier.onnx", threads=1).candidate_threshold == 0.3
    assert PlateVerifier(out / "verifier.onnx", threads=1).size == (24, 72)
    with pytest.raises(SystemExit, match="--size"):  # the cached candidates are 24x72
        main([*args[:4], "--size", "32x96"])
    with pytest.raises(SystemExit, match="--widths"):
        main(["--out", str(tmp_path / "other"), "--widths", "8,x"])


def test_read_audit_keeps_the_chosen_verdicts_as_corner_boxes(tmp_path: Path) -> None:
    from platewise.detection.dataset import read_audit

    f = tmp_path / "audit.csv"
    f.write_text(
        "folder,image,region,x,y,w,h,verdict\n"
        "ro-dashcam,train/a.jpg,ro,10,20,30,8,plate\n"
        "ro-dashcam,train/a.jpg,ro,100,20,40,10,unsure\n"
        "openlpr-scenes,images/train/1.jpg,world,1,2,3,4,plate\n"
    )
    plates = read_audit(f)
    assert set(plates) == {"ro-dashcam/train/a.jpg", "openlpr-scenes/images/train/1.jpg"}
    assert plates["ro-dashcam/train/a.jpg"].tolist() == [[10, 20, 40, 28]]
    both = read_audit(f, ("plate", "unsure"))
    assert both["ro-dashcam/train/a.jpg"].shape == (2, 4)


def test_verifier_training_with_an_audit_and_cross_fitted_negatives(tmp_path: Path, tiny_data_root: Path) -> None:
    """--audit adds unlabelled plates to the calibration's plates, --train-audit to the training's (this audit
    names a calibration image only, so it changes no training candidate); --pu-ignore trains two cross-fitted
    verifiers and leaves out the unlabelled candidates they call plates."""
    pytest.importorskip("torch")
    import csv
    import json

    from platewise.detection.verifier_train import _is_calibration, main

    # the audit "finds" a plate in a calibration image: a copy of a labelled one, shifted by half its width
    rows = list(csv.DictReader((tiny_data_root / "ro-dashcam" / "labels.csv").open()))
    row = next(r for r in rows if _is_calibration(f"ro-dashcam/{r['image']}"))
    x, y, w, h = (float(row[k]) for k in ("x", "y", "w", "h"))
    audit = tmp_path / "audit.csv"
    audit.write_text(f"folder,image,region,x,y,w,h,verdict\nro-dashcam,{row['image']},eu,{x + w},{y},{w},{h},plate\n")
    out = tmp_path / "run"
    args = ["--out", str(out), "--data-root", str(tiny_data_root), "--synthetic", "2", "--steps", "4", "--batch", "8"]
    args += ["--size", "24x72", "--widths", "8,8,8,8", "--candidate-thresholds", "0.05"]
    assert main([*args, "--audit", str(audit), "--train-audit", str(audit), "--pu-ignore", "0.0"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["audited_plates"] == 1
    assert set(summary["at_labels"]) == {"f1", "recall50", "precision50"}
    log = (out / "log.jsonl").read_text()
    assert "cross-fit fold 0" in log and "cross-fit fold 1" in log
    # with P = 0 every unlabelled real candidate is flagged, except the negatives folder's (it has no plates)
    assert "left out" in log
    assert "training audit:" in log  # the audit names a calibration image: no training candidate changes
    assert "training audit: 0 candidates" in log


def test_training_audit_turns_candidates_on_unlabelled_plates_into_plates(tmp_path: Path) -> None:
    from platewise.detection.verifier_train import _apply_training_audit

    audit = tmp_path / "audit.csv"
    audit.write_text(
        "folder,image,region,x,y,w,h,verdict\n"
        "ro-dashcam,train/a.jpg,ro,100,100,40,10,plate\n"
        "ro-dashcam,train/a.jpg,ro,300,100,40,10,unsure\n"
    )
    data = {
        "key": np.array(["ro-dashcam/train/a.jpg"] * 5 + ["ro-dashcam/train/b.jpg"]),
        "box": np.array(
            [
                [101, 100, 141, 110],  # on the audited plate: becomes a plate
                [116, 100, 156, 110],  # partly on it (IoU 0.43): left out
                [300, 100, 340, 110],  # on the unsure box: left out
                [500, 100, 540, 110],  # elsewhere: stays a not-plate
                [100, 100, 140, 110],  # already a plate (labelled): unchanged
                [100, 100, 140, 110],  # same box in another image: unchanged
            ],
            np.float32,
        ),
    }
    label = np.array([0, 0, 0, 0, 1, 0])
    kept, added = _apply_training_audit(data, label, np.arange(6), str(audit))
    assert added == 1
    assert label.tolist() == [1, 0, 0, 0, 1, 0]
    assert kept.tolist() == [0, 3, 4, 5]


def test_recalibrating_a_verifier_without_its_weights_rewrites_only_its_metadata(
    tmp_path: Path, tiny_data_root: Path, tiny_verifier: Path
) -> None:
    """The shipped verifier has no verifier.pt beside it: --recalibrate then sweeps the thresholds (and with
    --refit-combination refits the combination) and writes them into the ONNX file's metadata."""
    pytest.importorskip("torch")
    import json
    import shutil

    import onnx

    from platewise.detection.verifier_train import main

    out = tmp_path / "v"
    out.mkdir()
    shutil.copy(tiny_verifier, out / "verifier.onnx")
    before = onnx.load(str(out / "verifier.onnx")).graph.initializer
    args = ["--out", str(out), "--data-root", str(tiny_data_root), "--recalibrate", "--candidate-thresholds", "0.2"]
    assert main(args) == 0
    v = PlateVerifier(out / "verifier.onnx", threads=1)
    assert v.candidate_threshold == 0.2
    assert v.combine == pytest.approx(PlateVerifier(tiny_verifier, threads=1).combine)  # kept
    assert main([*args, "--refit-combination"]) == 0
    res = json.loads((out / "recalibrated.json").read_text())
    assert PlateVerifier(out / "verifier.onnx", threads=1).combine == pytest.approx(tuple(res["combine"]))
    after = onnx.load(str(out / "verifier.onnx")).graph.initializer
    assert [t.raw_data for t in after] == [t.raw_data for t in before]  # the weights are untouched
    with pytest.raises(SystemExit, match="not found"):
        main(["--out", str(tmp_path / "none"), "--recalibrate"])
    assert main([*args, "--min-label-precision", "0.9"]) == 0
    res = json.loads((out / "recalibrated.json").read_text())
    assert res["min_label_precision"] == 0.9 and res["min_precision"] is None and isinstance(res["floor_met"], bool)
    assert PlateVerifier(out / "verifier.onnx", threads=1).score_threshold == pytest.approx(res["score_threshold"])
    if res["floor_met"]:
        precisions = [f["precision50"] for f in res["per_folder_at_labels"].values()]
        assert all(p >= 0.9 or p != p for p in precisions)  # NaN: no detections
    with pytest.raises(SystemExit):
        main([*args, "--min-label-precision", "1.5"])
    with pytest.raises(SystemExit):
        main([*args, "--min-precision", "0"])
    assert json.loads((out / "recalibrated.json").read_text())["corner_net"] == "shipped"  # the sweeps' default
    assert main([*args, "--corner-net", "off"]) == 0
    assert json.loads((out / "recalibrated.json").read_text())["corner_net"] == "off"
    assert main([*args, "--refit-combination", "--verifier-weight", "0.4"]) == 0
    a, b, _ = PlateVerifier(out / "verifier.onnx", threads=1).combine
    assert b / (a + b) == pytest.approx(0.4)
    for bad in (["--refit-combination", "--verifier-weight", "1.2"], ["--verifier-weight", "0.4"]):
        with pytest.raises(SystemExit):
            main([*args, *bad])


def test_update_metadata_merges_keys_into_the_platewise_property(tiny_verifier: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    import shutil

    from platewise.training.export import update_metadata

    p = tmp_path / "v.onnx"
    shutil.copy(tiny_verifier, p)
    meta = update_metadata(p, {"score_threshold": 0.61})
    assert meta["score_threshold"] == 0.61 and meta["kind"] == "verifier"
    assert PlateVerifier(p, threads=1).score_threshold == 0.61
