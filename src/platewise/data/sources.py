"""Readers for the labelled data formats of ``../shared/data``.

- Crops: ``labels.csv`` = ``image,region,plate``.
- Scenes: ``labels.csv`` = ``image,region,x,y,w,h,plate``, one row per plate; an image with no plate has one
  row with an empty box.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from platewise.errors import InvalidInput
from platewise.types import BBox

__all__ = [
    "CropSample",
    "SceneSample",
    "crop_box_with_padding",
    "default_data_root",
    "read_crops_csv",
    "read_labels",
    "read_scenes_csv",
]


def default_data_root() -> Path:
    """``PLATEWISE_DATA`` if set, else ``../shared/data`` from the current directory or the repo."""
    env = os.environ.get("PLATEWISE_DATA")
    if env:
        return Path(env)
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        cand = base.parent / "shared" / "data"
        if cand.is_dir():
            return cand
    return Path.cwd().parent / "shared" / "data"


@dataclass(frozen=True)
class CropSample:
    path: Path
    key: str  # "<folder>/<image>" relative key, used for splits
    region: str
    plate: str


@dataclass(frozen=True)
class SceneSample:
    path: Path
    key: str
    boxes: tuple[BBox, ...] = ()
    plates: tuple[str, ...] = ()
    regions: tuple[str, ...] = field(default=())


def _open_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    if not path.is_file():
        raise InvalidInput(f"labels file {path} not found")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def read_crops_csv(path: str | Path, root: str | Path | None = None) -> list[CropSample]:
    p = Path(path)
    base = Path(root) if root else p.parent
    cols, rows = _open_csv(p)
    if not {"image", "plate"} <= set(cols):
        raise InvalidInput(f"{p}: a crops CSV needs the columns image,region,plate (found {','.join(cols)})")
    return [
        CropSample(base / r["image"], f"{base.name}/{r['image']}", (r.get("region") or "").strip(), r["plate"].strip())
        for r in rows
    ]


def read_scenes_csv(path: str | Path, root: str | Path | None = None) -> list[SceneSample]:
    p = Path(path)
    base = Path(root) if root else p.parent
    cols, rows = _open_csv(p)
    if not {"image", "x", "y", "w", "h"} <= set(cols):
        raise InvalidInput(f"{p}: a scenes CSV needs the columns image,region,x,y,w,h,plate (found {','.join(cols)})")
    by_image: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_image.setdefault(r["image"], []).append(r)
    out = []
    for image, rs in by_image.items():
        boxes, plates, regions = [], [], []
        for r in rs:
            if not (r.get("w") or "").strip():
                continue
            x, y, w, h = (float(r[k]) for k in ("x", "y", "w", "h"))
            boxes.append(BBox(x, y, x + w, y + h))
            plates.append((r.get("plate") or "").strip())
            regions.append((r.get("region") or "").strip())
        out.append(SceneSample(base / image, f"{base.name}/{image}", tuple(boxes), tuple(plates), tuple(regions)))
    return out


def read_labels(path: str | Path, root: str | Path | None = None) -> tuple[str, list[CropSample] | list[SceneSample]]:
    """Reads either format; returns ``("crops", samples)`` or ``("scenes", samples)``."""
    p = Path(path)
    cols, _ = _open_csv(p)
    if {"x", "y", "w", "h"} <= set(cols):
        return "scenes", read_scenes_csv(p, root)
    return "crops", read_crops_csv(p, root)


def crop_box_with_padding(width: int, height: int, box: BBox, pad: float = 0.1) -> tuple[int, int, int, int]:
    """Integer (x1, y1, x2, y2) of ``box`` grown by ``pad`` of its size on each side, clipped to the image."""
    px, py = box.width * pad, box.height * pad
    x1 = max(0, int(round(box.x1 - px)))
    y1 = max(0, int(round(box.y1 - py)))
    x2 = min(width, int(round(box.x2 + px)))
    y2 = min(height, int(round(box.y2 + py)))
    return x1, y1, x2, y2


def iter_holdout(samples: list[CropSample] | list[SceneSample], holdout: bool) -> Iterator[CropSample | SceneSample]:
    from platewise.data.splits import is_holdout

    for s in samples:
        if is_holdout(s.key) == holdout:
            yield s
