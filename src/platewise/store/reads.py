"""What goes into the store (:class:`ReadRecord`) and what comes out (:class:`StoredRead`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from platewise.errors import InvalidInput
from platewise.plates import fold_confusions, normalize
from platewise.store.schema import MAX_SOURCE_LEN, MAX_TEXT_LEN
from platewise.types import BBox, Corners, Detection, PlateRead

__all__ = [
    "INSERT_COLUMNS",
    "MAX_CROP_BYTES",
    "ReadRecord",
    "StoredRead",
    "record_to_row",
    "record_to_tuple",
    "row_to_stored",
]

MAX_CROP_BYTES = 1 << 20
"""Largest plate crop accepted, in bytes (a plate crop JPEG is a few kB)."""


def _check_str(name: str, value: object, max_len: int) -> None:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a str, not {type(value).__name__}")
    if len(value) > max_len:
        raise InvalidInput(f"{name} of {len(value)} characters; the limit is {max_len}")
    if "\x00" in value:
        raise InvalidInput(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name} is not valid UTF-8 (lone surrogate {value!r})") from None


@dataclass(frozen=True)
class ReadRecord:
    """One plate read to store.

    Attributes:
        time: when the image was taken, an aware datetime (stored in UTC).
        source: camera or file the read came from (at most 200 characters).
        read: the plate read; text, confidences, region, box, corners and detection score come from it.
        image_path: the image file, if any.
        crop_jpeg: the plate crop as JPEG bytes, if it should be kept (at most 1 MiB).

    Raises:
        InvalidInput: a naive ``time``, a wrong type, an over-long or NUL-containing string.
    """

    time: dt.datetime
    source: str
    read: PlateRead
    image_path: str | None = None
    crop_jpeg: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.time, dt.datetime) or self.time.tzinfo is None:
            raise InvalidInput("ReadRecord.time must be an aware datetime, e.g. datetime.now(timezone.utc)")
        _check_str("source", self.source, MAX_SOURCE_LEN)
        if not isinstance(self.read, PlateRead):
            raise InvalidInput(f"ReadRecord.read must be a PlateRead, not {type(self.read).__name__}")
        _check_str("plate text", self.read.text, MAX_TEXT_LEN)
        if self.read.region is not None:
            _check_str("region", self.read.region, 16)
        if self.image_path is not None:
            _check_str("image_path", self.image_path, 4096)
        if self.crop_jpeg is not None and (
            not isinstance(self.crop_jpeg, bytes) or len(self.crop_jpeg) > MAX_CROP_BYTES
        ):
            raise InvalidInput(f"crop_jpeg must be bytes of at most {MAX_CROP_BYTES} bytes")


@dataclass(frozen=True)
class StoredRead:
    """One read as stored, with its database id; ``distance`` is set by fuzzy searches."""

    id: int
    time: dt.datetime
    source: str
    text: str
    normalized: str
    confidence: float
    char_confidences: tuple[float, ...]
    candidates: tuple[tuple[str, float], ...]
    region: str | None
    box: BBox
    corners: Corners
    detection_score: float
    image_path: str | None
    has_crop: bool
    distance: float | None = None

    def to_plate_read(self) -> PlateRead:
        """The stored read as a :class:`PlateRead` again."""
        return PlateRead(
            text=self.text,
            confidence=self.confidence,
            char_confidences=self.char_confidences,
            candidates=self.candidates,
            region=self.region,
            detection=Detection(box=self.box, corners=self.corners, score=self.detection_score),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO time with ``Z``)."""
        d = self.to_plate_read().to_dict()
        return {
            "id": self.id,
            "time": self.time.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
            "source": self.source,
            **d,
            "normalized": self.normalized,
            "image_path": self.image_path,
            "has_crop": self.has_crop,
            "distance": self.distance,
        }


INSERT_COLUMNS = (
    "time", "source", "text", "normalized", "folded", "length", "confidence", "char_confidences", "candidates",
    "region", "box_x1", "box_y1", "box_x2", "box_y2", "corners", "detection_score", "image_path", "has_crop",
)  # fmt: skip
"""Column order of :func:`record_to_tuple`."""

_CORNERS_FMT = "[[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f]]"


def record_to_tuple(rec: ReadRecord) -> tuple[Any, ...]:
    """The ``plate_reads`` values of a record, in :data:`INSERT_COLUMNS` order (hot path: kept cheap)."""
    r = rec.read
    norm = normalize(r.text)
    box = r.detection.box
    (a, b), (c, d), (e, f), (g, h) = r.detection.corners.points
    return (
        rec.time,
        rec.source,
        r.text,
        norm,
        fold_confusions(norm),
        len(norm),
        float(r.confidence),
        "[" + ",".join([f"{x:.4g}" for x in r.char_confidences]) + "]",
        json.dumps([[t, round(float(x), 4)] for t, x in r.candidates]) if r.candidates else None,
        r.region,
        float(box.x1),
        float(box.y1),
        float(box.x2),
        float(box.y2),
        _CORNERS_FMT % (a, b, c, d, e, f, g, h),
        float(r.detection.score),
        rec.image_path,
        rec.crop_jpeg is not None,
    )


def record_to_row(rec: ReadRecord) -> dict[str, Any]:
    """The ``plate_reads`` row of a record (without id), as a dict."""
    return dict(zip(INSERT_COLUMNS, record_to_tuple(rec), strict=True))


def row_to_stored(row: Mapping[Any, Any], distance: float | None = None) -> StoredRead:
    """A :class:`StoredRead` from a full ``plate_reads`` row mapping."""
    cands = row["candidates"]
    return StoredRead(
        id=int(row["id"]),
        time=row["time"],
        source=row["source"],
        text=row["text"],
        normalized=row["normalized"],
        confidence=float(row["confidence"]),
        char_confidences=tuple(float(c) for c in json.loads(row["char_confidences"])),
        candidates=tuple((str(t), float(c)) for t, c in json.loads(cands)) if cands else (),
        region=row["region"],
        box=BBox(row["box_x1"], row["box_y1"], row["box_x2"], row["box_y2"]),
        corners=Corners.from_array(json.loads(row["corners"])),
        detection_score=float(row["detection_score"]),
        image_path=row["image_path"],
        has_crop=bool(row["has_crop"]),
        distance=distance,
    )
