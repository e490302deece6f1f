"""Training samples for the detector: real scenes (boxes only), negatives, synthetic plates (exact corners),
random scale/crop, mosaic and photometric augmentation. numpy + OpenCV; the torch side is in ``train.py``.

Images come either from ``data_root`` (``../shared/data``) or from a packed cache (:func:`build_cache`), a
pickle of re-encoded training images that can travel to another machine. Hold-out images are never read.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from platewise.data.sources import read_scenes_csv
from platewise.data.splits import is_holdout
from platewise.detection.augment import affine_crop, crop_matrix, hflip, move_boxes, photometric
from platewise.detection.synth import paste_distractors, paste_plates
from platewise.errors import InvalidInput

__all__ = [
    "HOLDOUT_SCENE_SIZES",
    "DetectionSampler",
    "SceneRecord",
    "Sample",
    "apply_audit",
    "build_cache",
    "holdout_synthetic_quads",
    "holdout_synthetic_scenes",
    "load_cache",
    "load_records",
    "read_audit",
]

# (width, height) of the synthetic hold-out scenes, taken in turn
HOLDOUT_SCENE_SIZES = ((1280, 720), (640, 480), (960, 540))

F32 = npt.NDArray[np.float32]


def _no_boxes() -> F32:
    return np.zeros((0, 4), np.float32)


@dataclass(frozen=True)
class SceneRecord:
    """One training image: ``source`` is a file path or encoded image bytes; ``boxes`` (N,4) xyxy pixels;
    ``ignore`` (K,4) xyxy pixels: regions that are neither plate nor background (a label audit's unsure
    boxes), where the classification loss is not counted."""

    key: str
    source: str | bytes
    boxes: F32
    ignore: F32 = field(default_factory=_no_boxes)

    def image(self) -> npt.NDArray[np.uint8]:
        if isinstance(self.source, bytes):
            img = cv2.imdecode(np.frombuffer(self.source, np.uint8), cv2.IMREAD_COLOR)
        else:
            img = cv2.imread(self.source, cv2.IMREAD_COLOR)
        if img is None:
            raise InvalidInput(f"cannot read training image {self.key}")
        return img


@dataclass(frozen=True)
class Sample:
    """An augmented training sample: ``image`` SxSx3 BGR uint8, ``boxes`` (N,4), ``corners`` (N,4,2) (zeros where
    ``has_corners`` is False), ``ignore`` (K,4) regions left out of the classification loss."""

    image: npt.NDArray[np.uint8]
    boxes: F32
    corners: F32
    has_corners: npt.NDArray[np.bool_]
    ignore: F32 = field(default_factory=_no_boxes)


def load_records(data_root: str | Path, folders: tuple[str, ...], holdout: bool = False) -> list[SceneRecord]:
    """Scenes of ``folders`` on the training side (or the hold-out side with ``holdout=True``)."""
    out = []
    for folder in folders:
        labels = Path(data_root) / folder / "labels.csv"
        header = labels.read_text(encoding="utf-8").split("\n", 1)[0].strip().split(",") if labels.is_file() else []
        if header == ["image"]:  # negatives: an image list
            names = labels.read_text(encoding="utf-8").splitlines()[1:]
            keys = [(f"{folder}/{n.strip()}", labels.parent / n.strip()) for n in names if n.strip()]
            out += [SceneRecord(k, str(p), np.zeros((0, 4), np.float32)) for k, p in keys if is_holdout(k) == holdout]
            continue
        for s in read_scenes_csv(labels):
            if is_holdout(s.key) != holdout:
                continue
            boxes = np.array([b.as_list() for b in s.boxes], np.float32).reshape(-1, 4)
            out.append(SceneRecord(s.key, str(s.path), boxes))
    return out


def read_audit(path: str | Path, verdicts: tuple[str, ...] = ("plate",)) -> dict[str, F32]:
    """Plates a by-eye audit found without a label (``benchmarks/label_audit/*.csv``: folder, image, region,
    x, y, w, h, verdict), as ``{image key: (K, 4) boxes x1, y1, x2, y2}`` for the rows of ``verdicts``."""
    import csv

    if not Path(path).is_file():
        raise InvalidInput(f"label audit {path} not found (benchmarks/label_audit/ holds the project's)")
    out: dict[str, list[list[float]]] = {}
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(fh)
        missing = {"folder", "image", "x", "y", "w", "h", "verdict"} - set(rows.fieldnames or ())
        if missing:
            raise InvalidInput(f"label audit {path}: no column(s) {', '.join(sorted(missing))}")
        for r in rows:
            if r["verdict"] in verdicts:
                x, y, w, h = (float(r[k]) for k in ("x", "y", "w", "h"))
                out.setdefault(f"{r['folder']}/{r['image']}", []).append([x, y, x + w, y + h])
    return {k: np.asarray(v, np.float32).reshape(-1, 4) for k, v in out.items()}


def apply_audit(records: list[SceneRecord], paths: tuple[str, ...]) -> tuple[list[SceneRecord], int, int]:
    """``records`` with the label audits ``paths`` applied: each audit's ``plate`` rows become boxes of their
    image, its ``unsure`` rows ignore regions. Returns (records, plates added, ignore regions added). Audit rows
    of images that are not in ``records`` (the hold-out's, say) are not used."""
    plates: dict[str, list[F32]] = {}
    unsure: dict[str, list[F32]] = {}
    for path in paths:
        for key, b in read_audit(path).items():
            plates.setdefault(key, []).append(b)
        for key, b in read_audit(path, ("unsure",)).items():
            unsure.setdefault(key, []).append(b)
    out, n_plates, n_ignore = [], 0, 0
    for r in records:
        p, u = plates.get(r.key), unsure.get(r.key)
        if p is None and u is None:
            out.append(r)
            continue
        extra = np.concatenate(p) if p else _no_boxes()
        ign = np.concatenate(u) if u else _no_boxes()
        n_plates, n_ignore = n_plates + len(extra), n_ignore + len(ign)
        out.append(replace(r, boxes=np.concatenate([r.boxes, extra]), ignore=np.concatenate([r.ignore, ign])))
    return out, n_plates, n_ignore


def holdout_synthetic_scenes(data_root: str | Path, n: int, seed: int = 12345) -> Iterator[Any]:
    """``n`` :class:`platewise.data.synthetic.scenes.Scene` of ``SceneSynthesizer(seed)`` over the hold-out
    negatives, sized by :data:`HOLDOUT_SCENE_SIZES` in turn: the synthetic hold-out scenes of ``platewise eval
    detect --synthetic N --synth-source scenes`` and of the benchmarks."""
    from platewise.data.synthetic.scenes import SceneSynthesizer

    backgrounds = [str(r.source) for r in load_records(data_root, ("negatives",), holdout=True)]
    synth = SceneSynthesizer(backgrounds, seed=seed)
    for i in range(n):
        w, h = HOLDOUT_SCENE_SIZES[i % len(HOLDOUT_SCENE_SIZES)]
        yield synth.sample(w, h)


def holdout_synthetic_quads(
    data_root: str | Path, n: int, source: str = "scenes", seed: int = 12345
) -> Iterator[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]]:
    """``n`` synthetic hold-out scenes as (image, plate corners (K,4,2)): ``source`` "scenes"
    (:func:`holdout_synthetic_scenes`) or "builtin" (1-3 plates of :func:`paste_plates` on each hold-out
    negative in turn). Raises ValueError (at the call) when there are no hold-out negatives."""
    backgrounds = load_records(data_root, ("negatives",), holdout=True)
    if not backgrounds:
        raise ValueError(f"no hold-out negatives under {data_root}/negatives")

    def scenes() -> Iterator[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]]:
        for sc in holdout_synthetic_scenes(data_root, n, seed):
            yield sc.image, np.array([p.corners for p in sc.plates], np.float32).reshape(-1, 4, 2)

    def builtin() -> Iterator[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]]:
        rng = np.random.default_rng(seed)
        for i in range(n):
            yield paste_plates(rng, backgrounds[i % len(backgrounds)].image(), int(rng.integers(1, 4)))

    return scenes() if source == "scenes" else builtin()


def build_cache(
    records: list[SceneRecord],
    out: str | Path,
    max_side: int | dict[str, int] = 1280,
    quality: int | dict[str, int] = 60,
    ext: str = ".webp",
) -> Path:
    """Re-encodes ``records`` into one pickle file: longest side at most ``max_side``, ``ext`` at ``quality``
    (both may be given per folder, the first part of the key)."""
    packed = []
    for r in records:
        folder = r.key.split("/")[0]
        ms = max_side.get(folder, 1280) if isinstance(max_side, dict) else max_side
        q = quality.get(folder, 60) if isinstance(quality, dict) else quality
        img = r.image()
        h, w = img.shape[:2]
        s = min(1.0, ms / max(h, w))
        if s < 1.0:
            img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        flag = cv2.IMWRITE_WEBP_QUALITY if ext == ".webp" else cv2.IMWRITE_JPEG_QUALITY
        ok, enc = cv2.imencode(ext, img, [flag, q])
        if not ok:
            raise InvalidInput(f"cannot encode {r.key}")
        sx, sy = img.shape[1] / w, img.shape[0] / h
        scale = np.array([sx, sy, sx, sy], np.float32)
        packed.append({"key": r.key, "data": enc.tobytes(), "boxes": r.boxes * scale, "ignore": r.ignore * scale})
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("wb") as f:
        pickle.dump(packed, f, protocol=pickle.HIGHEST_PROTOCOL)
    return p


def load_cache(path: str | Path) -> list[SceneRecord]:
    """The records of a cache written by :func:`build_cache` (our own file: pickle is trusted here)."""
    with Path(path).open("rb") as f:
        packed = pickle.load(f)  # noqa: S301
    return [SceneRecord(d["key"], d["data"], d["boxes"], d.get("ignore", _no_boxes())) for d in packed]


class DetectionSampler:
    """Draws augmented square samples.

    Args:
        scenes: real scenes with plates; negatives: scenes without plates (backgrounds, hard negatives).
        size: output side in pixels.
        synth_fraction: share of samples that get synthetic plates pasted in (with exact corners).
        negative_fraction: share of samples drawn from ``negatives`` (without synthetic plates when drawn so).
        mosaic_prob: share of samples made of 4 half-size samples.
        scene_synth_fraction: share of samples drawn from ``platewise.data.synthetic.SceneSynthesizer``
            (realistic rendered plates on training-side backgrounds), when that module is installed.
        scale_range: random zoom, log-uniform between these multiples of the scale at which the whole image
            fits the crop.
        distractor_prob: share of real-scene samples that also get unlabelled text drawn in
            (:func:`~platewise.detection.synth.paste_distractors`: watermarks, long numbers, words).
    """

    def __init__(
        self,
        scenes: list[SceneRecord],
        negatives: list[SceneRecord],
        size: int,
        synth_fraction: float = 0.4,
        negative_fraction: float = 0.08,
        mosaic_prob: float = 0.3,
        scene_synth_fraction: float = 0.0,
        scale_range: tuple[float, float] = (0.6, 2.2),
        distractor_prob: float = 0.0,
    ) -> None:
        if not 0 < scale_range[0] <= scale_range[1]:
            raise InvalidInput(f"scale range {scale_range} must satisfy 0 < min <= max")
        self.scale_range = scale_range
        self.distractor_prob = distractor_prob
        if not scenes and not negatives:
            raise InvalidInput("no training images: check the data folders")
        self.scenes, self.negatives, self.size = scenes, negatives, size
        self.synth_fraction, self.negative_fraction, self.mosaic_prob = synth_fraction, negative_fraction, mosaic_prob
        self.scene_synth_fraction = scene_synth_fraction
        self._scene_synth: object | None = None

    def sample(self, rng: np.random.Generator) -> Sample:
        if rng.random() < self.mosaic_prob:
            return self._mosaic(rng)
        return self._single(rng, self.size)

    def _mosaic(self, rng: np.random.Generator) -> Sample:
        half = self.size // 2
        parts = [self._single(rng, half) for _ in range(4)]
        img = np.empty((self.size, self.size, 3), np.uint8)
        boxes, corners, has, ignore = [], [], [], []
        for i, p in enumerate(parts):
            ox, oy = (i % 2) * half, (i // 2) * half
            img[oy : oy + half, ox : ox + half] = p.image
            off = np.array([ox, oy], np.float32)
            boxes.append(p.boxes + np.tile(off, 2))
            corners.append(p.corners + off)
            has.append(p.has_corners)
            ignore.append(p.ignore + np.tile(off, 2))
        cat = np.concatenate
        return Sample(img, cat(boxes), cat(corners), cat(has), cat(ignore).astype(np.float32).reshape(-1, 4))

    def _from_scene_synth(self, rng: np.random.Generator) -> tuple[npt.NDArray[np.uint8], F32, F32] | None:
        """A scene of the synthetic-scenes module: image, boxes (P,4), corners (P,4,2); None if not installed."""
        if self._scene_synth is None:
            try:
                from platewise.data.synthetic.backgrounds import real_scene_backgrounds
                from platewise.data.synthetic.scenes import SceneSynthesizer
            except ImportError:
                self.scene_synth_fraction = 0.0
                return None
            # training-side backgrounds only: our negatives (hold-out excluded) + training real scenes
            bgs = [r.source for r in self.negatives if isinstance(r.source, str)] + real_scene_backgrounds()
            self._scene_synth = SceneSynthesizer(bgs, seed=int(rng.integers(2**31)))
        w, h = [(640, 640), (960, 540), (576, 432)][int(rng.integers(3))]
        scene = self._scene_synth.sample(w, h)  # type: ignore[attr-defined]
        quads = np.array([p.corners for p in scene.plates], np.float32).reshape(-1, 4, 2)
        return scene.image, np.concatenate([quads.min(1), quads.max(1)], 1), quads

    def _single(self, rng: np.random.Generator, size: int) -> Sample:
        if self.scene_synth_fraction and rng.random() < self.scene_synth_fraction:
            got = self._from_scene_synth(rng)
            if got is not None:
                img, boxes, corners = got
                return self._augment(rng, size, img, boxes, corners, np.ones(len(boxes), bool))
        use_neg = self.negatives and (not self.scenes or rng.random() < self.negative_fraction)
        pool = self.negatives if use_neg else self.scenes
        rec = pool[int(rng.integers(len(pool)))]
        img = rec.image()
        boxes, ignore = rec.boxes.copy(), rec.ignore.copy()
        corners = np.zeros((len(boxes), 4, 2), np.float32)
        has = np.zeros(len(boxes), bool)
        if not use_neg and rng.random() < self.synth_fraction:
            if rng.random() < 0.5 and self.negatives:  # plates on a plate-free background
                img = self.negatives[int(rng.integers(len(self.negatives)))].image()
                boxes, corners, has, ignore = boxes[:0], corners[:0], has[:0], ignore[:0]
            img, quads = paste_plates(rng, img, int(rng.integers(1, 5)), avoid=np.concatenate([boxes, ignore]))
            if len(quads):
                boxes = np.concatenate([boxes, np.concatenate([quads.min(1), quads.max(1)], 1)])
                corners = np.concatenate([corners, quads])
                has = np.concatenate([has, np.ones(len(quads), bool)])
        if self.distractor_prob and rng.random() < self.distractor_prob:
            img = paste_distractors(rng, img, int(rng.integers(1, 4)), avoid=np.concatenate([boxes, ignore]))
        return self._augment(rng, size, img, boxes, corners, has, ignore)

    def _augment(
        self,
        rng: np.random.Generator,
        size: int,
        img: npt.NDArray[np.uint8],
        boxes: F32,
        corners: F32,
        has: npt.NDArray[np.bool_],
        ignore: F32 | None = None,
    ) -> Sample:
        h, w = img.shape[:2]
        fit = size / max(h, w)
        scale = fit * float(np.exp(rng.uniform(np.log(self.scale_range[0]), np.log(self.scale_range[1]))))
        if len(boxes) and rng.random() < 0.7:  # centre near a plate so that crops keep plates
            b = boxes[int(rng.integers(len(boxes)))]
            jitter = size / scale * 0.35
            cx = (b[0] + b[2]) / 2 + rng.uniform(-jitter, jitter)
            cy = (b[1] + b[3]) / 2 + rng.uniform(-jitter, jitter)
        else:
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        if scale <= fit * 1.05:
            cx, cy = w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2 + rng.uniform(-0.1, 0.1) * h
        angle = float(rng.uniform(-5, 5)) if rng.random() < 0.3 else 0.0
        out, boxes, corners, has = affine_crop(img, boxes, corners, has, size, scale, (cx, cy), angle)
        ign = ignore if ignore is not None else _no_boxes()
        if len(ign):  # any part of an ignore region that stays in the crop is still ignored
            m = crop_matrix(size, scale, (cx, cy), angle)
            ign = move_boxes(m, ign, np.zeros((len(ign), 4, 2), np.float32), np.zeros(len(ign), bool), size, 0.0)[0]
        out = photometric(out, rng)
        if rng.random() < 0.3:
            out, boxes, corners = hflip(out, boxes, corners)
            ign = np.stack([size - ign[:, 2], ign[:, 1], size - ign[:, 0], ign[:, 3]], 1).reshape(-1, 4)
        return Sample(out, boxes.astype(np.float32), corners.astype(np.float32), has, ign.astype(np.float32))
