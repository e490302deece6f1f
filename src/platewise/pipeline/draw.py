"""Annotated copies of images: box, corners and text of each plate read."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from platewise.detection.zone import Zone
from platewise.types import PlateRead

__all__ = ["draw_reads"]


def draw_reads(
    image: npt.NDArray[np.uint8], reads: list[PlateRead], zone: Zone | str | None = None
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` (HxWx3 uint8 BGR) with each plate's box (green), corners (yellow) and text, and the
    outline of the detection ``zone`` (magenta), if any."""
    out: npt.NDArray[np.uint8] = image.copy()
    scale = max(0.5, min(out.shape[:2]) / 900)
    thick = max(1, int(round(2 * scale)))
    if zone is not None:
        poly = Zone.of(zone).polygon(out.shape[0], out.shape[1])
        cv2.polylines(out, [np.round(poly).astype(np.int32).reshape(-1, 1, 2)], True, (255, 0, 255), thick)
    for r in reads:
        b = r.box
        cv2.rectangle(out, (int(b.x1), int(b.y1)), (int(b.x2), int(b.y2)), (0, 200, 0), thick)
        pts = r.corners.as_array().astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [pts], True, (0, 220, 255), thick)
        label = f"{r.text} {r.confidence:.2f}"
        # Chinese characters are not in OpenCV's Hershey fonts: draw them as '?'
        label = "".join(c if c.isascii() else "?" for c in label)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.8 * scale, thick)
        y = max(int(b.y1) - 4, th + 4)
        cv2.rectangle(out, (int(b.x1), y - th - 4), (int(b.x1) + tw + 4, y + 2), (0, 200, 0), -1)
        cv2.putText(out, label, (int(b.x1) + 2, y - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.8 * scale, (0, 0, 0), thick)
    return out
