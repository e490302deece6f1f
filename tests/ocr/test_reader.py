from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from platewise.errors import InvalidImage, ModelNotFound
from platewise.ocr.reader import PlateReader
from platewise.types import PlateText


@pytest.fixture(scope="module")
def reader(tiny_onnx: Path) -> PlateReader:
    return PlateReader(tiny_onnx, threads=1, top_n=3)


def _crop(h: int = 40, w: int = 120, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_input_size_comes_from_the_onnx_metadata(reader: PlateReader) -> None:
    assert reader.input_size == (16, 64)


def test_read_returns_one_plate_text_per_crop_with_candidates(reader: PlateReader) -> None:
    out = reader.read([_crop(), _crop(80, 300, 1), _crop(10, 30, 2)])
    assert len(out) == 3
    assert all(isinstance(p, PlateText) for p in out)
    for p in out:
        assert len(p.char_confidences) == len(p.text)
        assert 0.0 <= p.confidence <= 1.0
        assert 1 <= len(p.candidates) <= 3
        assert p.candidates[0][0] == p.text


def test_read_of_an_empty_list_is_an_empty_list(reader: PlateReader) -> None:
    assert reader.read([]) == []


def test_read_batches_more_crops_than_the_batch_size(tiny_onnx: Path) -> None:
    small = PlateReader(tiny_onnx, threads=1, batch_size=4)
    crops = [_crop(seed=i) for i in range(10)]
    one_by_one = [small.read([c])[0].text for c in crops]
    assert [p.text for p in small.read(crops)] == one_by_one


def test_read_accepts_gray_rgba_and_rgb_crops(reader: PlateReader) -> None:
    bgr = _crop()
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    assert reader.read([rgb], rgb=True)[0] == reader.read([bgr])[0]
    gray = bgr[..., 0]
    assert len(reader.read([gray, gray[..., None]])) == 2
    rgba = np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])
    assert reader.read([rgba])[0] == reader.read([bgr])[0]


def test_read_accepts_a_one_pixel_crop(reader: PlateReader) -> None:
    (p,) = reader.read([np.zeros((1, 1, 3), np.uint8)])
    assert isinstance(p, PlateText)


def test_read_accepts_a_huge_crop(reader: PlateReader) -> None:
    assert len(reader.read([np.zeros((2000, 6000, 3), np.uint8)])) == 1


@pytest.mark.parametrize(
    ("crop", "match"),
    [
        (np.zeros((0, 10, 3), np.uint8), "empty"),
        (np.zeros((10, 30, 3), np.float32), "uint8"),
        (np.zeros((2, 10, 30, 3), np.uint8), "shape"),
        (np.zeros((10, 30, 2), np.uint8), "shape"),
        ("not an image", "numpy array"),
    ],
)
def test_read_rejects_bad_crops_with_invalid_image(reader: PlateReader, crop: object, match: str) -> None:
    with pytest.raises(InvalidImage, match=match):
        reader.read([_crop(), crop])  # type: ignore[list-item]


def test_read_rejects_a_bare_array_instead_of_a_list(reader: PlateReader) -> None:
    with pytest.raises(InvalidImage, match="list"):
        reader.read(_crop())  # type: ignore[arg-type]


def test_read_prepared_matches_read_on_crops_already_at_input_size(reader: PlateReader) -> None:
    batch = np.stack([_crop(16, 64, i) for i in range(3)])
    assert reader.read_prepared(batch) == reader.read(list(batch))


def test_read_prepared_rejects_wrong_size_or_dtype(reader: PlateReader) -> None:
    with pytest.raises(InvalidImage, match="shape"):
        reader.read_prepared(np.zeros((1, 20, 64, 3), np.uint8))
    with pytest.raises(InvalidImage, match="uint8"):
        reader.read_prepared(np.zeros((1, 16, 64, 3), np.float32))
    assert reader.read_prepared(np.zeros((0, 16, 64, 3), np.uint8)) == []


def test_ctc_model_reads_through_the_same_api(tiny_ctc_onnx: Path) -> None:
    r = PlateReader(tiny_ctc_onnx, threads=1)
    (p,) = r.read([_crop()])
    assert len(p.char_confidences) == len(p.text)


def test_missing_model_file_raises_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound):
        PlateReader(tmp_path / "nope.onnx")


def test_reading_never_imports_torch(tiny_onnx: Path) -> None:
    code = (
        "import sys, numpy as np\n"
        "from platewise.ocr.reader import PlateReader\n"
        f"r = PlateReader({str(tiny_onnx)!r}, threads=1)\n"
        "r.read([np.zeros((30, 90, 3), np.uint8)])\n"
        "r.read_prepared(np.zeros((2, 16, 64, 3), np.uint8))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": src}, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_unsure_crops_are_read_again_in_shifted_views_and_fused(tiny_ctc_onnx: Path) -> None:
    from platewise.ocr.decode import fuse_ctc_views
    from platewise.ocr.preprocess import resize_crop

    crops = [_crop(40, 120, i) for i in range(3)]
    every = PlateReader(tiny_ctc_onnx, threads=1, top_n=2, tta_below=1.01)  # an untrained net: all unsure
    out = every.read(crops)
    assert every.last_reread == 3 and len(out) == 3
    # the same fusion by hand: the crop, and the crop less 3% of its width on the left, then on the right
    size = every.input_size
    views = [resize_crop(c, size) for c in crops[:1]] + [resize_crop(crops[0][:, 3:], size)]
    views.append(resize_crop(crops[0][:, :-3], size))
    texts, probs = every.read_prepared_with_probs(np.stack(views), top_n=3)
    want, _ = fuse_ctc_views(texts, probs, every.alphabet, 2)
    assert out[0] == want and len(out[0].candidates) <= 2
    # nothing read again: the views off, or every crop sure enough
    plain = PlateReader(tiny_ctc_onnx, threads=1, top_n=2, tta=False)
    assert plain.read(crops) == plain.read_prepared(np.stack([resize_crop(c, size) for c in crops]))
    assert plain.last_reread == 0
    never = PlateReader(tiny_ctc_onnx, threads=1, top_n=2, tta_below=0.0)
    assert never.read(crops) == plain.read(crops) and never.last_reread == 0
    # no candidates asked for: none returned, the fused reading still drawn from the views' top 3
    assert all(p.candidates == () for p in PlateReader(tiny_ctc_onnx, threads=1, top_n=0, tta_below=1.01).read(crops))
    with pytest.raises(ValueError, match="tta_shift"):
        PlateReader(tiny_ctc_onnx, tta_shift=0.6)


def test_parallel_head_readers_never_read_again(reader: PlateReader) -> None:
    assert reader.tta is False
    reader.read([_crop()])
    assert reader.last_reread == 0
