"""Detection zones: the part of a fixed camera's view where plates are looked for.

A zone is a polygon (three or more points) or a rectangle (two opposite corners), in pixels of the image or,
when every coordinate is in [0, 1], as fractions of its width and height (one zone then fits every resolution
of a camera). The detector looks only at the zone's bounding rectangle, grown by a margin so that a plate
near the zone's border is seen whole, at a network input fitted to that rectangle's aspect with no more pixels
than the default input (:func:`fitted_input`): a wide band of a 1280x720 frame is seen at a larger scale than
the whole frame, at the same cost. It reports the plates whose box centre lies inside the zone.

    zone = Zone.parse("0,260 1280,700")            # a rectangle, in pixels
    zone = Zone.parse("0.1,0.5 0.9,0.5 1,1 0,1")   # a polygon, as fractions of the image
    PlateDetector(zone=zone).detect([frame])
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import cv2
import numpy as np
import numpy.typing as npt

from platewise.errors import InvalidInput
from platewise.types import BBox, Corners, Detection

__all__ = ["ZONE_MARGIN", "ZONE_MARGIN_MIN", "Zone", "Zones", "detect_in_zones", "fitted_input", "zones_for"]

# the zone's bounding rectangle is grown by this share of its width and height on each side (at least
# ZONE_MARGIN_MIN pixels), so that a plate whose centre is just inside the zone is seen whole
ZONE_MARGIN = 0.1
ZONE_MARGIN_MIN = 16

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_HELP = 'write a zone as "x,y x,y ..." (2 points: a rectangle, 3 or more: a polygon), in pixels or as fractions 0-1'


@dataclass(frozen=True)
class Zone:
    """A polygon or a rectangle; see the module docstring.

    Attributes:
        points: the points (x, y): two opposite corners of a rectangle, or a polygon's vertices in order.
        relative: True when the coordinates are fractions of the image's width and height.
    """

    points: tuple[tuple[float, float], ...]
    relative: bool = False

    def __post_init__(self) -> None:
        pts = self.points
        if len(pts) < 2:
            raise InvalidInput(f"a zone needs at least 2 points, got {len(pts)}; {_HELP}")
        flat = [v for p in pts for v in p]
        if any(len(p) != 2 for p in pts) or not all(math.isfinite(v) for v in flat):
            raise InvalidInput(f"zone points must be pairs of finite numbers; {_HELP}")
        if min(flat) < 0:
            raise InvalidInput(f"zone coordinates must not be negative, got {min(flat):g}; {_HELP}")
        if self.relative and max(flat) > 1:
            raise InvalidInput(f"a relative zone's coordinates must be in [0, 1], got {max(flat):g}")
        if self._area() <= 0:
            raise InvalidInput(f"zone {self} encloses no area; {_HELP}")

    @classmethod
    def parse(cls, text: str) -> Zone:
        """A zone from ``"x,y x,y ..."`` (or ``"x,y,x,y,..."``): pixels, or fractions when every value is in
        [0, 1]."""
        parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
        if not parts or len(parts) % 2 or not all(_NUMBER.match(p) for p in parts):
            raise InvalidInput(f"cannot read the zone {text!r}: {_HELP}")
        values = [float(p) for p in parts]
        pts = tuple((values[i], values[i + 1]) for i in range(0, len(values), 2))
        return cls(pts, relative=max(values) <= 1.0)

    @classmethod
    def of(cls, zone: Zone | str) -> Zone:
        """``zone`` itself, or parsed from text (:meth:`parse`)."""
        return zone if isinstance(zone, Zone) else cls.parse(zone)

    @classmethod
    def around(cls, centres: npt.ArrayLike, low: float = 1.0, high: float = 99.0, step: float = 10.0) -> Zone:
        """The rectangle where plates are: the ``low``-``high`` percentile range of the plate centres (N,2) in
        pixels, x and y apart, rounded outward to ``step`` pixels (not below 0). For a fixed camera, from the
        plates it has seen (``platewise store zone``) or labelled frames (``benchmarks/detect_zone.py``)."""
        xy = np.asarray(centres, np.float64).reshape(-1, 2)
        if not len(xy) or not np.isfinite(xy).all():
            raise InvalidInput("a zone around plates needs at least one plate centre, all finite")
        if not 0.0 <= low < high <= 100.0 or step <= 0:
            raise InvalidInput(f"percentiles {low:g}-{high:g} and step {step:g}: need 0 <= low < high <= 100, step > 0")
        lo = np.maximum(np.floor(np.percentile(xy, low, axis=0) / step) * step, 0.0)
        hi = np.ceil(np.percentile(xy, high, axis=0) / step) * step
        hi = np.maximum(hi, lo + step)  # one column or row of centres still makes an area
        return cls(((float(lo[0]), float(lo[1])), (float(hi[0]), float(hi[1]))))

    def __str__(self) -> str:
        return " ".join(f"{x:g},{y:g}" for x, y in self.points)

    def _area(self) -> float:
        if len(self.points) == 2:
            (x0, y0), (x1, y1) = self.points
            return abs(x1 - x0) * abs(y1 - y0)
        p = np.asarray(self.points, np.float64)
        return float(abs(np.dot(p[:, 0], np.roll(p[:, 1], -1)) - np.dot(p[:, 1], np.roll(p[:, 0], -1))) / 2)

    def polygon(self, h: int, w: int) -> npt.NDArray[np.float64]:
        """The zone's vertices (K,2) in pixels of an ``h`` x ``w`` image (a rectangle as 4 points)."""
        p = np.asarray(self.points, np.float64)
        if self.relative:
            p = p * np.array([w, h], np.float64)
        if len(p) == 2:
            (x0, x1), (y0, y1) = np.sort(p[:, 0]), np.sort(p[:, 1])
            p = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
        return p

    def crop_rect(self, h: int, w: int) -> tuple[int, int, int, int]:
        """The part of an ``h`` x ``w`` image the detector looks at: the zone's bounding rectangle grown by the
        margin, clipped to the image, as (x0, y0, x1, y1).

        Raises:
            InvalidInput: the zone lies outside the image.
        """
        p = self.polygon(h, w)
        x0, y0 = p.min(axis=0)
        x1, y1 = p.max(axis=0)
        if x0 >= w or y0 >= h:
            raise InvalidInput(f"zone {self} lies outside the {w}x{h} image")
        x1, y1 = min(x1, w), min(y1, h)  # the margin follows the part of the zone inside the image
        mx = max(ZONE_MARGIN * (x1 - x0), ZONE_MARGIN_MIN)
        my = max(ZONE_MARGIN * (y1 - y0), ZONE_MARGIN_MIN)
        rect = (
            max(0, math.floor(x0 - mx)),
            max(0, math.floor(y0 - my)),
            min(w, math.ceil(x1 + mx)),
            min(h, math.ceil(y1 + my)),
        )
        if rect[2] - rect[0] < 2 or rect[3] - rect[1] < 2:
            raise InvalidInput(f"zone {self} covers less than 2x2 pixels of the {w}x{h} image")
        return rect

    def contains(self, h: int, w: int, xy: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """For points (N,2) in pixels of an ``h`` x ``w`` image: True where a point lies inside the zone or on
        its border."""
        pts = np.asarray(xy, np.float64).reshape(-1, 2)
        poly = self.polygon(h, w).astype(np.float32).reshape(-1, 1, 2)
        return np.array([cv2.pointPolygonTest(poly, (float(x), float(y)), False) >= 0 for x, y in pts], bool)

    def holds(self, h: int, w: int, boxes: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """For boxes (N,4) x1, y1, x2, y2 in pixels of an ``h`` x ``w`` image: True where a box belongs to the
        zone, i.e. its centre lies inside it or on its border (the rule the detector reports plates by)."""
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        return self.contains(h, w, (b[:, :2] + b[:, 2:]) / 2)


Zones: TypeAlias = Zone | str | Sequence[Zone | str | None] | None
"""What ``zones=`` takes: one zone (or its text) for every image, a zone or None per image, or None."""


def fitted_input(h: int, w: int, size: tuple[int, int], multiple: int) -> tuple[int, int]:
    """The network input (height, width) for an ``h`` x ``w`` crop: multiples of ``multiple`` with at most as
    many pixels as ``size``, chosen to show the crop at the largest scale (the letterbox's), and among inputs
    that show it whole at its own resolution or more, the smallest. ``size`` itself when nothing beats it."""
    budget = size[0] * size[1]
    best, best_scale = size, min(1.0, size[0] / h, size[1] / w)
    for iw in range(multiple, budget // multiple + 1, multiple):
        ih = (budget // iw) // multiple * multiple
        if ih < multiple:
            break
        scale = min(1.0, ih / h, iw / w)  # past scale 1 no detail is gained
        if scale > best_scale:
            best, best_scale = (ih, iw), scale
    if best_scale >= 1.0:  # shrink to the least input that still holds the crop whole
        ih = max(multiple, math.ceil(h / multiple) * multiple)
        iw = max(multiple, math.ceil(w / multiple) * multiple)
        if ih * iw <= best[0] * best[1]:
            best = (ih, iw)
    return best


def zones_for(n: int, zones: Zones) -> list[Zone | None]:
    """One zone (or None) per image of ``n``: a single zone for all of them, or a sequence of ``n``."""
    if zones is None or isinstance(zones, Zone | str):
        z = None if zones is None else Zone.of(zones)
        return [z] * n
    out = [None if z is None else Zone.of(z) for z in zones]
    if len(out) != n:
        raise InvalidInput(f"got {len(out)} zones for {n} images: give one zone, or one (or None) per image")
    return out


def detect_in_zones(
    detect: Callable[[list[npt.NDArray[np.uint8]]], list[list[Detection]]],
    images: Sequence[npt.NDArray[np.uint8]],
    zones: Sequence[Zone | None],
) -> list[list[Detection]]:
    """Zones for any detector: each image with a zone cut to the zone's rectangle (:meth:`Zone.crop_rect`),
    ``detect`` run on the cuts (one call), its detections moved back to image pixels and kept where their box
    centre lies in the zone. (:class:`~platewise.detection.detector.PlateDetector` takes ``zones=`` itself and
    also fits its input to each zone.)"""
    cuts, offsets = [], []
    for im, zone in zip(images, zones, strict=True):
        x0, y0, x1, y1 = (0, 0, im.shape[1], im.shape[0]) if zone is None else zone.crop_rect(*im.shape[:2])
        cuts.append(np.ascontiguousarray(im[y0:y1, x0:x1]))
        offsets.append((x0, y0))
    out = []
    for im, zone, (dx, dy), found in zip(images, zones, offsets, detect(cuts), strict=True):
        moved = [
            Detection(
                BBox(d.box.x1 + dx, d.box.y1 + dy, d.box.x2 + dx, d.box.y2 + dy),
                Corners.from_array(d.corners.as_array() + np.asarray([dx, dy], np.float32)),
                d.score,
            )
            for d in found
        ]
        if zone is not None and moved:
            inside = zone.holds(im.shape[0], im.shape[1], [d.box.as_list() for d in moved])
            moved = [d for d, k in zip(moved, inside, strict=True) if k]
        out.append(moved)
    return out
