"""Background photos for synthetic scenes: the real negatives, and regions of real scenes away from plates.

A background entry is an image path, an HxWx3 uint8 BGR array, or a pair ``(path_or_array, boxes)`` whose
``boxes`` (:class:`~platewise.types.BBox`, original pixels) must not appear in the output (their plates are
real but unlabelled for the synthetic scene): the pool then only cuts crops that avoid them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeAlias

import cv2
import numpy as np

from platewise.errors import InvalidInput
from platewise.imageio import load_image
from platewise.types import BBox, ImageBGR

__all__ = ["IMAGE_EXTS", "Background", "BackgroundPool", "default_backgrounds", "real_scene_backgrounds"]

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
Source: TypeAlias = str | Path | ImageBGR
Background: TypeAlias = Source | tuple[Source, Sequence[BBox]]
SCENE_FOLDERS = ("openlpr-scenes", "ro-dashcam", "openalpr-dev")


def default_backgrounds(data_root: str | Path | None = None) -> list[Path]:
    """The real no-plate photos of ``<data>/negatives/images`` (empty when the data is absent).

    Note: all 400 of them are greyscale photos.
    """
    from platewise.data.sources import default_data_root

    d = Path(data_root or default_data_root()) / "negatives" / "images"
    return sorted(p for p in d.glob("*") if p.suffix.lower() in IMAGE_EXTS) if d.is_dir() else []


def real_scene_backgrounds(
    data_root: str | Path | None = None, folders: Sequence[str] = SCENE_FOLDERS
) -> list[tuple[Path, tuple[BBox, ...]]]:
    """Training-split real scenes with their plate boxes to avoid (hold-out images are never used).

    Returns ``(path, boxes)`` pairs for :class:`BackgroundPool`; folders that are absent are skipped.
    """
    from platewise.data.sources import default_data_root, read_scenes_csv
    from platewise.data.splits import is_holdout

    root = Path(data_root or default_data_root())
    out: list[tuple[Path, tuple[BBox, ...]]] = []
    for folder in folders:
        labels = root / folder / "labels.csv"
        if labels.is_file():
            out += [(s.path, s.boxes) for s in read_scenes_csv(labels) if not is_holdout(s.key)]
    return out


class BackgroundPool:
    """Draws width x height background crops from a list of entries (see the module docstring)."""

    def __init__(self, entries: Sequence[Background], cache: int = 256) -> None:
        self.entries = list(entries)
        self._cache: dict[int, ImageBGR] = {}
        self._cache_size = cache

    def __len__(self) -> int:
        return len(self.entries)

    def _load(self, i: int) -> tuple[ImageBGR, Sequence[BBox]]:
        entry = self.entries[i]
        src, boxes = entry if isinstance(entry, tuple) else (entry, ())
        img = self._cache.get(i)
        if img is None:
            img = load_image(src) if isinstance(src, (str, Path)) else np.asarray(src)
            if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
                raise InvalidInput(f"background {i} is not an HxWx3 uint8 image")
            if len(self._cache) < self._cache_size:
                self._cache[i] = img
        return img, boxes

    def sample(self, width: int, height: int, rng: np.random.Generator) -> ImageBGR | None:
        """A background crop, or None when the pool is empty or no plate-free crop was found."""
        for _ in range(5):
            if not self.entries:
                return None
            img, boxes = self._load(int(rng.integers(len(self.entries))))
            out = _cover_crop(img, width, height, rng) if not boxes else _crop_away(img, boxes, width, height, rng)
            if out is not None:
                return np.ascontiguousarray(out[:, ::-1]) if rng.random() < 0.5 else out
        return None


def _cover_crop(img: ImageBGR, width: int, height: int, rng: np.random.Generator) -> ImageBGR:
    """Scale to cover the output (random extra zoom 1-1.6x), then a random crop."""
    h, w = img.shape[:2]
    scale = max(width / w, height / h) * rng.uniform(1.0, 1.6)
    nw, nh = max(width, int(np.ceil(w * scale))), max(height, int(np.ceil(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    big = np.asarray(cv2.resize(img, (nw, nh), interpolation=interp), np.uint8)
    x, y = int(rng.integers(0, nw - width + 1)), int(rng.integers(0, nh - height + 1))
    return big[y : y + height, x : x + width]


def _crop_away(
    img: ImageBGR, boxes: Sequence[BBox], width: int, height: int, rng: np.random.Generator, tries: int = 30
) -> ImageBGR | None:
    """A crop with the output's aspect that stays clear of every box (grown by 25%), scaled to the output."""
    h, w = img.shape[:2]
    aspect = width / height
    grown = [
        (b.x1 - 0.25 * b.width, b.y1 - 0.25 * b.height, b.x2 + 0.25 * b.width, b.y2 + 0.25 * b.height) for b in boxes
    ]
    full = min(h, w / aspect)
    for _ in range(tries):
        ch = rng.uniform(0.3, 1.0) * full
        cw = ch * aspect
        x, y = rng.uniform(0, w - cw), rng.uniform(0, h - ch)
        if all(x + cw <= gx1 or gx2 <= x or y + ch <= gy1 or gy2 <= y for gx1, gy1, gx2, gy2 in grown):
            crop = img[int(y) : int(y + ch), int(x) : int(x + cw)]
            if crop.shape[0] < 8 or crop.shape[1] < 8:
                continue
            interp = cv2.INTER_AREA if crop.shape[1] > width else cv2.INTER_LINEAR
            return np.asarray(cv2.resize(crop, (width, height), interpolation=interp), np.uint8)
    return None
