"""Training data for the reader: real labelled crops (and boxes cut from scenes), synthetic crops, and the
augmentation that turns any of them into a network-sized sample.

Every sample is an image plus the plate box inside it: for a crop folder the box is the whole image, for a
scene the labelled box (the image kept around it is the box grown by 30%, so that augmentation can move the
crop edges as a detector would). :func:`augment` cuts a jittered, slightly rotated box straight to the input
size with one affine warp, then applies photometric noise. With ``strength=0`` it reduces to exactly what the
runtime does (resize the whole crop).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from platewise.data.sources import crop_box_with_padding, read_crops_csv, read_scenes_csv
from platewise.data.splits import is_holdout
from platewise.imageio import load_image
from platewise.ocr.preprocess import resize_crop
from platewise.plates import Tokenizer, normalize

__all__ = [
    "LABELLED_CROP_FOLDERS",
    "SCENE_FOLDERS",
    "Sample",
    "augment",
    "calibration_crops",
    "eval_crops",
    "load_pseudo_dir",
    "load_real",
    "load_synth_dir",
    "load_synth_npz",
    "render_synth_npz",
    "load_unlabelled",
]

LABELLED_CROP_FOLDERS = ("openalpr-crops", "br-crops", "cn-crops")
SCENE_FOLDERS = ("openalpr-dev",)


@dataclass(frozen=True)
class Sample:
    """An image (HxWx3 uint8 BGR), the plate box (x1, y1, x2, y2) in it, the text, region and source key."""

    image: npt.NDArray[np.uint8]
    box: tuple[float, float, float, float]
    text: str
    region: str
    key: str


def _scene_samples(root: Path, folder: str, holdout: bool, context: float = 0.3) -> list[Sample]:
    out = []
    for s in read_scenes_csv(root / folder / "labels.csv"):
        if is_holdout(s.key) != holdout or not any(s.plates):
            continue
        img = load_image(s.path)
        h, w = img.shape[:2]
        for box, plate, region in zip(s.boxes, s.plates, s.regions, strict=False):
            text = normalize(plate)
            if not text:
                continue
            x1, y1, x2, y2 = crop_box_with_padding(w, h, box, context)
            out.append(
                Sample(
                    img[y1:y2, x1:x2].copy(),
                    (box.x1 - x1, box.y1 - y1, box.x2 - x1, box.y2 - y1),
                    text,
                    region,
                    f"{s.key}#{box.x1:.0f},{box.y1:.0f}",
                )
            )
    return out


def load_real(root: Path, *, holdout: bool, tokenizer: Tokenizer | None = None) -> dict[str, list[Sample]]:
    """Labelled real samples per folder: the training side (``holdout=False``) or the hold-out side."""
    tok = tokenizer or Tokenizer()
    out: dict[str, list[Sample]] = {}
    for folder in LABELLED_CROP_FOLDERS:
        samples = []
        for c in read_crops_csv(root / folder / "labels.csv"):
            text = normalize(c.plate)
            if not text or is_holdout(c.key) != holdout or not tok.can_encode(text):
                continue
            img = load_image(c.path)
            samples.append(Sample(img, (0.0, 0.0, float(img.shape[1]), float(img.shape[0])), text, c.region, c.key))
        out[folder] = samples
    for folder in SCENE_FOLDERS:
        out[folder] = [s for s in _scene_samples(root, folder, holdout) if tok.can_encode(s.text)]
    return out


def eval_crops(root: Path, folder: str) -> list[tuple[npt.NDArray[np.uint8], str, str]]:
    """Hold-out (image, text, region) of one folder, cut exactly as ``platewise eval ocr`` does (10% padding)."""
    if folder in SCENE_FOLDERS:
        out = []
        for s in read_scenes_csv(root / folder / "labels.csv"):
            if not is_holdout(s.key):
                continue
            img = load_image(s.path)
            for box, plate, region in zip(s.boxes, s.plates, s.regions, strict=False):
                if normalize(plate):
                    x1, y1, x2, y2 = crop_box_with_padding(img.shape[1], img.shape[0], box, 0.1)
                    out.append((img[y1:y2, x1:x2], normalize(plate), region))
        return out
    return [
        (load_image(c.path), normalize(c.plate), c.region)
        for c in read_crops_csv(root / folder / "labels.csv")
        if normalize(c.plate) and is_holdout(c.key)
    ]


def load_unlabelled(root: Path, folder: str = "eu-crops-unlabelled", limit: int = 0) -> list[Sample]:
    """Images without text (MAE pre-training); hold-out files excluded too."""
    out = []
    for c in read_crops_csv(root / folder / "labels.csv"):
        if is_holdout(c.key):
            continue
        img = load_image(c.path)
        out.append(Sample(img, (0.0, 0.0, float(img.shape[1]), float(img.shape[0])), "", c.region, c.key))
        if limit and len(out) >= limit:
            break
    return out


def load_synth_dir(
    path: Path, size: tuple[int, int], limit: int = 0, tokenizer: Tokenizer | None = None
) -> list[Sample]:
    """A crops-format folder of synthetic crops, each stored resized to ``size`` (height, width) * 1.25."""
    tok = tokenizer or Tokenizer()
    h, w = int(size[0] * 1.25), int(size[1] * 1.25)
    out = []
    with (path / "labels.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = normalize(row["plate"])
            if not tok.can_encode(text):
                continue
            img = cv2.imread(str(path / row["image"]), cv2.IMREAD_COLOR)
            if img is None:
                continue
            img = resize_crop(img, (h, w))
            out.append(Sample(img, (0.0, 0.0, float(w), float(h)), text, row.get("region", ""), row["image"]))
            if limit and len(out) >= limit:
                break
    return out


def load_pseudo_dir(path: Path, tokenizer: Tokenizer | None = None) -> list[Sample]:
    """Pseudo-labelled crops written by :mod:`platewise.ocr.pseudo`: image with context, the plate box in it."""
    tok = tokenizer or Tokenizer()
    out = []
    with (path / "labels.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = normalize(row["plate"])
            if not text or not tok.can_encode(text):
                continue
            img = cv2.imread(str(path / row["image"]), cv2.IMREAD_COLOR)
            if img is None:
                continue
            box = (float(row["x1"]), float(row["y1"]), float(row["x2"]), float(row["y2"]))
            out.append(Sample(img, box, text, row.get("region", ""), f"pseudo/{row['image']}"))
    return out


def augment(
    sample: Sample,
    size: tuple[int, int],
    strength: float,
    rng: np.random.Generator,
    tilt_prob: float = 0.0,
    tilt_deg: float = 15.0,
) -> npt.NDArray[np.uint8]:
    """One training view of ``sample``: (height, width, 3) uint8 BGR.

    Geometry (one affine warp): each box edge moves by up to +-12% x strength of the box size (a loose or
    tight detector), rotation up to 6 deg x strength, shear, then resize to ``size``. Photometry: contrast,
    brightness, gamma, blur, noise, JPEG, grayscale, colour shuffle, inversion of nothing (plates keep their
    polarity).

    With probability ``tilt_prob`` the plate is first turned about its centre by up to ``tilt_deg`` degrees
    (uniform) and sheared (sd 0.15), and the view is cut at the axis-aligned box around the turned plate:
    what a detector's box around a tilted plate holds.
    """
    h, w = size
    x1, y1, x2, y2 = sample.box
    bw, bh = x2 - x1, y2 - y1
    s = float(strength)
    if s <= 0:
        img = sample.image[int(round(y1)) : int(round(y2)), int(round(x1)) : int(round(x2))]
        return resize_crop(np.ascontiguousarray(img), size)
    T = np.eye(3)  # the tilt, applied to the source image before the cut
    if tilt_prob > 0 and rng.random() < tilt_prob:
        a = np.deg2rad(rng.uniform(-tilt_deg, tilt_deg))
        k = rng.normal(0, 0.15)
        cx0, cy0 = (x1 + x2) / 2, (y1 + y2) / 2
        L = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[1.0, 0.0], [k, 1.0]])
        T[:2, :2] = L
        T[:2, 2] = [cx0, cy0] - L @ [cx0, cy0]
        quad = np.array([[x1, y1, 1], [x2, y1, 1], [x2, y2, 1], [x1, y2, 1]]) @ T[:2].T
        x1, y1 = quad.min(0)
        x2, y2 = quad.max(0)
        bw, bh = x2 - x1, y2 - y1
    j = 0.12 * s
    x1 += bw * rng.uniform(-j, j * 0.7)
    x2 += bw * rng.uniform(-j * 0.7, j)
    y1 += bh * rng.uniform(-j * 1.3, j)
    y2 += bh * rng.uniform(-j, j * 1.3)
    src = np.float32([[x1, y1], [x2, y1], [x1, y2]])
    dst = np.float32([[0, 0], [w, 0], [0, h]])
    M = cv2.getAffineTransform(src, dst)
    ang = np.deg2rad(rng.normal(0, 2.5 * s))
    shear = rng.normal(0, 0.08 * s)
    cx, cy = w / 2, h / 2
    R = np.array([[np.cos(ang), -np.sin(ang) + shear, 0], [np.sin(ang), np.cos(ang), 0]], dtype=np.float64)
    R[:, 2] = [cx - R[0, 0] * cx - R[0, 1] * cy, cy - R[1, 0] * cx - R[1, 1] * cy]
    M = R @ np.vstack([M, [0, 0, 1]]) @ T
    border = cv2.BORDER_REPLICATE if rng.random() < 0.7 else cv2.BORDER_CONSTANT
    interp = cv2.INTER_AREA if bw > 2 * w else cv2.INTER_LINEAR
    if bw > 2 * w:  # shrink first so the warp does not alias
        f = 1.5 * w / bw
        small = cv2.resize(sample.image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        M = M @ np.diag([1 / f, 1 / f, 1.0])
        img = cv2.warpAffine(
            small,
            M,
            (w, h),
            flags=cv2.INTER_LINEAR,
            borderMode=border,
            borderValue=tuple(int(v) for v in rng.integers(0, 255, 3)),
        )
    else:
        img = cv2.warpAffine(
            sample.image,
            M,
            (w, h),
            flags=interp,
            borderMode=border,
            borderValue=tuple(int(v) for v in rng.integers(0, 255, 3)),
        )
    return _photometric(img, s, rng)


def _photometric(img: npt.NDArray[np.uint8], s: float, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    h, w = img.shape[:2]
    if rng.random() < 0.4 * s:  # low resolution: down then up
        f = rng.uniform(0.35, 0.8)
        img = cv2.resize(
            cv2.resize(img, (max(4, int(w * f)), max(4, int(h * f))), interpolation=cv2.INTER_AREA),
            (w, h),
            interpolation=cv2.INTER_LINEAR,
        )
    if rng.random() < 0.3 * s:
        k = int(rng.choice([3, 5]))
        img = cv2.GaussianBlur(img, (k, 1 if rng.random() < 0.5 else k), 0)
    x = img.astype(np.float32)
    if rng.random() < 0.8 * s:
        c = rng.uniform(1 - 0.5 * s, 1 + 0.4 * s)
        b = rng.uniform(-50, 50) * s
        x = (x - 128) * c + 128 + b
    if rng.random() < 0.3 * s:  # a shadow or light gradient across the plate
        g = np.linspace(rng.uniform(-60, 60) * s, rng.uniform(-60, 60) * s, w, dtype=np.float32)
        x = x + g[None, :, None]
    if rng.random() < 0.4 * s:
        x = x + rng.normal(0, rng.uniform(2, 14) * s, x.shape).astype(np.float32)
    img = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.3 * s:
        gamma = rng.uniform(0.6, 1.6)
        lut = np.clip(((np.arange(256) / 255.0) ** gamma) * 255, 0, 255).astype(np.uint8)
        img = cv2.LUT(img, lut)
    if rng.random() < 0.15 * s:
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    elif rng.random() < 0.15 * s:
        img = np.ascontiguousarray(img[:, :, rng.permutation(3)])
    if rng.random() < 0.3 * s:
        q = int(rng.integers(20, 80))
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return img


def render_synth_npz(
    out: Path,
    n: int,
    *,
    seed: int,
    size: tuple[int, int],
    max_strength: float = 0.6,
    styles: tuple[str, ...] | None = None,
) -> Path:
    """Pre-renders ``n`` synthetic crops (``platewise.data.synthetic``) resized to ``size`` * 1.25 into an
    ``.npz`` (``images`` (n, h, w, 3) uint8 BGR, ``texts``, ``regions``), so training does not render live."""
    from platewise.data.synthetic import STYLE_NAMES, PlateRenderer

    rng = np.random.default_rng(seed)
    renderer = PlateRenderer(seed=seed)
    names = styles or STYLE_NAMES
    h, w = int(size[0] * 1.25), int(size[1] * 1.25)
    images = np.zeros((n, h, w, 3), np.uint8)
    texts, regions = [], []
    for i in range(n):
        img, text, region = renderer.render_crop(
            style=str(rng.choice(names)), strength=float(rng.uniform(0, max_strength))
        )
        images[i] = resize_crop(img, (h, w))
        texts.append(text)
        regions.append(region)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, images=images, texts=np.array(texts), regions=np.array(regions))
    return out


def load_synth_npz(path: Path, tokenizer: Tokenizer | None = None) -> list[Sample]:
    """Samples from a file written by :func:`render_synth_npz` (texts the tokenizer cannot encode dropped)."""
    tok = tokenizer or Tokenizer()
    with np.load(path) as data:  # read each array once: indexing an NpzFile re-reads the whole member
        images, texts, regions = data["images"], data["texts"], data["regions"]
    out = []
    for i, (text, region) in enumerate(zip(texts, regions, strict=False)):
        t = normalize(str(text))
        if t and tok.can_encode(t):
            img = images[i]
            out.append(Sample(img, (0.0, 0.0, float(img.shape[1]), float(img.shape[0])), t, str(region), f"synth/{i}"))
    return out


def calibration_crops(root: Path, size: tuple[int, int], n: int = 256, seed: int = 0) -> npt.NDArray[np.uint8]:
    """``n`` real training-side crops (crop folders, hold-out excluded) resized to ``size``: (n, h, w, 3) uint8."""
    imgs = [
        c.path
        for folder in LABELLED_CROP_FOLDERS
        for c in read_crops_csv(root / folder / "labels.csv")
        if not is_holdout(c.key)
    ]
    pick = np.random.default_rng(seed).choice(len(imgs), min(n, len(imgs)), replace=False)
    return np.stack([resize_crop(load_image(imgs[int(i)]), size) for i in pick])
