"""Search results as a pandas DataFrame, CSV, JSON or Parquet (pyarrow)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platewise.errors import InvalidInput, MissingExtra
from platewise.store.reads import StoredRead

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["COLUMNS", "flat_row", "to_csv", "to_dataframe", "to_json", "write"]

COLUMNS = (
    "id", "time", "source", "text", "normalized", "confidence", "region", "detection_score",
    "box_x1", "box_y1", "box_x2", "box_y2", "char_confidences", "corners", "image_path", "has_crop", "distance",
)  # fmt: skip
"""Column order of every tabular export."""


def flat_row(r: StoredRead) -> dict[str, Any]:
    """One read as a flat dict of scalars (lists JSON-encoded), keyed by :data:`COLUMNS`."""
    return {
        "id": r.id,
        "time": r.time,
        "source": r.source,
        "text": r.text,
        "normalized": r.normalized,
        "confidence": r.confidence,
        "region": r.region,
        "detection_score": r.detection_score,
        "box_x1": r.box.x1,
        "box_y1": r.box.y1,
        "box_x2": r.box.x2,
        "box_y2": r.box.y2,
        "char_confidences": json.dumps(list(r.char_confidences)),
        "corners": json.dumps([list(p) for p in r.corners.points]),
        "image_path": r.image_path,
        "has_crop": r.has_crop,
        "distance": r.distance,
    }


def to_dataframe(rows: Sequence[StoredRead]) -> pd.DataFrame:
    """A DataFrame with :data:`COLUMNS`; ``time`` is a UTC ``datetime64`` column."""
    import pandas as pd

    df = pd.DataFrame([flat_row(r) for r in rows], columns=list(COLUMNS))
    df["time"] = pd.to_datetime(df["time"], utc=True)
    return df


def to_csv(rows: Sequence[StoredRead]) -> str:
    """CSV text with a header row; times in ISO 8601 UTC."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        d = flat_row(r)
        d["time"] = r.to_dict()["time"]
        w.writerow(d)
    return buf.getvalue()


def to_json(rows: Sequence[StoredRead]) -> str:
    """A JSON array of :meth:`StoredRead.to_dict` objects."""
    return json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=1)


def write(rows: Sequence[StoredRead], path: str | Path, fmt: str | None = None) -> Path:
    """Writes ``rows`` to ``path`` as csv, json or parquet (by ``fmt`` or the file extension).

    Raises:
        InvalidInput: an unknown format; MissingExtra: parquet without pyarrow.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "csv":
        path.write_text(to_csv(rows), encoding="utf-8")
    elif fmt == "json":
        path.write_text(to_json(rows), encoding="utf-8")
    elif fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise MissingExtra("parquet", "writing Parquet") from None
        to_dataframe(rows).to_parquet(path, index=False)
    else:
        raise InvalidInput(f"unknown export format {fmt!r}; use csv, json or parquet")
    return path
