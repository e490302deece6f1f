"""`platewise read` end to end with the shipped ONNX models (their accuracy is measured elsewhere: here the
plumbing, formats and exit codes)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "scene.jpg"
WEIGHTS = ROOT / "src" / "platewise" / "weights"

pytestmark = pytest.mark.skipif(
    not (WEIGHTS / "detector.onnx").is_file() or not (WEIGHTS / "ocr.onnx").is_file(),
    reason="shipped weights not present",
)


def test_read_json_prints_one_object_per_image_with_plates_and_timings(run_cli, tmp_path):
    second = tmp_path / "copy.png"
    cv2.imwrite(str(second), cv2.imread(str(EXAMPLE)))
    proc = run_cli("read", str(EXAMPLE), str(second), "--json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 2
    rec = json.loads(lines[0])
    assert rec["image"] == str(EXAMPLE) and (rec["width"], rec["height"]) == (960, 540)
    assert isinstance(rec["plates"], list)
    assert {"decode_ms", "detect_ms", "straighten_ms", "read_ms", "total_ms"} <= set(rec["timings"])
    for p in rec["plates"]:
        assert {"text", "confidence", "char_confidences", "candidates", "box", "corners", "detection_score"} <= set(p)


def test_read_csv_has_a_header_and_one_row_per_plate(run_cli):
    proc = run_cli("read", str(EXAMPLE), "--csv", "--min-confidence", "0")
    assert proc.returncode == 0
    rows = list(csv.reader(io.StringIO(proc.stdout.decode())))
    assert rows[0] == ["image", "plate", "confidence", "region", "x1", "y1", "x2", "y2", "detection_score"]


def test_read_skips_an_unreadable_file_reports_it_and_exits_1(run_cli, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    proc = run_cli("read", str(bad), str(EXAMPLE))
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert "bad.jpg" in err and "Traceback" not in err
    assert str(EXAMPLE) in proc.stdout.decode()  # the good file was still read


def test_read_from_stdin_and_draw_annotated_copies(run_cli, tmp_path):
    proc = run_cli("read", "-", "--draw", str(tmp_path / "out"), input=EXAMPLE.read_bytes())
    assert proc.returncode == 0, proc.stderr
    drawn = cv2.imread(str(tmp_path / "out" / "stdin.jpg"))
    assert drawn is not None and drawn.shape == (540, 960, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-confidence", "2"], "min-confidence"),
        (["--min-chars", "0"], "min-chars"),
        (["--detector-threshold", "1.5"], "detector-threshold"),
        (["--region", "atlantis"], "unknown region"),
        (["--db", "sqlite:///x.db"], "only apply with --store"),
        (["--tile-size", "10"], "tile_size 10 must be 0 (no tiles) or at least 64 pixels"),
        (["--min-plate-width", "-1"], "min_plate_width -1.0 must be 0 (off) or a positive number of pixels"),
    ],
)
def test_read_bad_options_print_one_line_and_exit_2(run_cli, args, message):
    proc = run_cli("read", str(EXAMPLE), *args)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and message in err and err.count("\n") == 1


def test_read_tiles_a_4k_frame_unless_told_not_to(run_cli, tmp_path):
    scene = cv2.imread(str(ROOT / "examples" / "scene_1280x720.jpg"))  # one plate, about 75 pixels wide
    big = np.full((2160, 3840, 3), 90, np.uint8)
    big[1000:1720, 2000:3280] = scene
    path = tmp_path / "frame4k.png"
    cv2.imwrite(str(path), big)
    tiled = json.loads(run_cli("read", str(path), "--json").stdout.decode())
    whole = json.loads(run_cli("read", str(path), "--json", "--tile-size", "0").stdout.decode())
    small = json.loads(run_cli("read", str(ROOT / "examples" / "scene_1280x720.jpg"), "--json").stdout.decode())
    assert [p["text"] for p in tiled["plates"]] == [p["text"] for p in small["plates"]] != []
    assert whole["plates"] == []  # at a sixth of its size the whole-image pass misses it


def test_read_store_saves_the_reads_in_the_database(run_cli, tmp_path):
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    proc = run_cli("read", str(EXAMPLE), "--store", "--db", db, "--source", "gate-1", "--json")
    assert proc.returncode == 0, proc.stderr
    n_plates = len(json.loads(proc.stdout.decode().splitlines()[0])["plates"])
    assert n_plates >= 1  # the bundled example shows two plates; the shipped detector finds at least one
    from platewise.store import open_store

    store = open_store(db)
    rows = store.search(None, limit=100)
    assert len(rows) == n_plates
    assert all(r.source == "gate-1" for r in rows)


def test_the_read_path_never_imports_torch():
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r});"
        "from platewise.cli import main;"
        f"rc = main(['read', {str(EXAMPLE)!r}, '--json']);"
        "sys.stderr.write(str('torch' in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr.strip().endswith("False")


def test_alpr_with_the_shipped_reader_reads_a_known_plate_box():
    """The real reader behind a box-only detector: the result types flow through unchanged."""
    from platewise.ocr.reader import PlateReader
    from platewise.pipeline import ALPR
    from platewise.pipeline.fakes import FakeDetector

    img = cv2.imread(str(EXAMPLE))
    alpr = ALPR(FakeDetector([(815 / 960, 372 / 540, 955 / 960, 442 / 540)]), PlateReader())
    (read,) = alpr.read(img)
    assert isinstance(read.text, str) and 0.0 <= read.confidence <= 1.0
    assert len(read.char_confidences) == len(read.text)
    assert read.candidates and read.candidates[0][0] == read.text
    assert np.isfinite(read.corners.as_array()).all()


def test_read_zone_reads_only_the_plates_in_it_and_skips_images_it_misses(run_cli, tmp_path):
    scene = ROOT / "examples" / "scene_1280x720.jpg"  # one plate, x 805-880
    right = json.loads(run_cli("read", str(scene), "--json", "--zone", "640,0 1280,720").stdout.decode())
    left = json.loads(run_cli("read", str(scene), "--json", "--zone", "0,0,0.5,1").stdout.decode())
    small = json.loads(run_cli("read", str(scene), "--json", "--min-plate-width", "200").stdout.decode())
    assert len(right["plates"]) == 1 and left["plates"] == [] and small["plates"] == []
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.zeros((100, 100, 3), np.uint8))
    proc = run_cli("read", str(tiny), str(scene), "--json", "--zone", "640,0 1280,720")
    assert proc.returncode == 1  # the small image was skipped, the scene read
    assert "tiny.png: zone 640,0 1280,720 lies outside the 100x100 image" in proc.stderr.decode()
    assert len(proc.stdout.decode().splitlines()) == 1
    bad = run_cli("read", str(scene), "--zone", "left")
    assert bad.returncode == 2 and "cannot read the zone 'left'" in bad.stderr.decode()
