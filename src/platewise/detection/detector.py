"""The plate detector at inference time: ONNX Runtime + numpy + OpenCV (no torch).

det = PlateDetector()                       # shipped weights, metadata defaults
per_image = det.detect([img1, img2])        # list (per image) of lists of Detection
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from platewise.detection.corner_net import DEFAULT_CORNER_NET, CornerNet
from platewise.detection.decode import (
    FLIP_FUSIONS,
    RawDetections,
    decode_batch,
    fuse_mirrored,
    nms,
    suppress_contained,
)
from platewise.detection.evaluate import box_intersection_matrix
from platewise.detection.preprocess import Letterbox, fitted_size, letterbox, to_input_tensor
from platewise.detection.refine import blend_boxes, refine_corners_many
from platewise.detection.verifier import DEFAULT_VERIFIER, PlateVerifier
from platewise.detection.zone import Zone, Zones, fitted_input, zones_for
from platewise.errors import InvalidImage, InvalidInput
from platewise.imageio import as_bgr
from platewise.runtime.onnx import load_model
from platewise.types import BBox, Corners, Detection

__all__ = [
    "AUTO_TILE_ABOVE",
    "AUTO_TILE_SIZE",
    "DEFAULT_WEIGHTS",
    "PlateDetector",
    "merge_closeup",
    "resolve_corner_net",
    "resolve_verifier",
    "tile_grid",
]

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "detector.onnx"
# a detection lying more than this share inside (or around) a better-scored one is dropped; chosen on the
# training side (benchmarks/contain_suppress.py), checked on the hold-out: DETECTOR_SESSIONS.md, "Twelfth session"
DEFAULT_CONTAIN_THRESHOLD = 0.6
MIN_SIDE = 2
# tile_size=None: tiles this wide for images whose longer side is larger than AUTO_TILE_ABOVE
AUTO_TILE_SIZE = 1280
AUTO_TILE_ABOVE = 1920
# a tile's detection this close (pixels) to one of its edges inside the image counts as cut by it
_TILE_EDGE = 2.0


def _resolve_companion(path: str | Path | None, value: str | Path | bool | None, shipped: Path) -> str | Path | bool:
    """None means the ``shipped`` companion model (True) with the shipped detector (``path`` None) when its file
    is there, else none (False); other values are kept."""
    if value is None:
        return path is None and shipped.is_file()
    return value


def resolve_verifier(path: str | Path | None, verifier: str | Path | bool | None) -> str | Path | bool:
    """The verifier a detector of ``path`` (None = shipped) gets for ``verifier=``: None means the shipped one
    (True) with the shipped detector when its file is there, else none (False); other values are kept."""
    return _resolve_companion(path, verifier, DEFAULT_VERIFIER)


def resolve_corner_net(path: str | Path | None, corner_net: str | Path | bool | None) -> str | Path | bool:
    """As :func:`resolve_verifier`, for ``corner_net=``: None means the shipped corner network with the shipped
    detector when its file is there."""
    return _resolve_companion(path, corner_net, DEFAULT_CORNER_NET)


class PlateDetector:
    """Finds plates: boxes, 4 corners (TL, TR, BR, BL) and scores, in original-image pixels.

    Args:
        path: an ONNX file exported by ``platewise export detector`` (None = the shipped weights).
        threads: ONNX Runtime intra-op threads (None = ``PLATEWISE_THREADS`` or min(2, cores)).
        score_threshold, nms_threshold: None = the values stored in the model's metadata.
        input_size: letterbox size (h, w), multiples of the largest stride (None = the metadata's).
        batch_size: images per ONNX Runtime call.
        corner_vote_iou: each detection's corners are the score-weighted mean of the corners predicted by the
            locations whose boxes overlap it by at least this IoU (0 = the kept location's corners alone).
            Averaging the neighbours' predictions cut the mean corner error on synthetic hold-out scenes
            from 8.1% to 7.1% (built-in plates) and 9.5% to 8.6% (SceneSynthesizer) of the plate width
            (``benchmarks/accuracy.sh corners``). Boxes and scores are unchanged. With a corner network (the
            shipped detector's default) no voting is done: the corner network replaces every kept detection's
            corners.
        corner_vote_min_score: locations scoring at least this (or the score threshold, if lower) vote.
        closeup_scale: also run the network on the image letterboxed to this fraction of ``input_size``
            (0 = off) and add the plates it finds that are at least ``closeup_min_width`` of the image wide.
            A plate filling much of the frame (a gate camera, a close-up photo) is larger than the plates
            the network was trained on at ``input_size``; at half the size it is in range. Duplicates of the
            main pass are removed by NMS, and main-pass boxes lying mostly inside a kept close-up plate
            (fragments of it) are dropped.
        closeup_min_width: share of the image width (or height, if larger) a close-up plate must span.
        corner_refine: snap each side of every detection to the plate's edge in the image
            (:func:`platewise.detection.refine.refine_corners`); scores are unchanged.
        box_blend: move each box this share of the way toward the bounding box of its (refined) corners
            (:func:`platewise.detection.refine.blend_boxes`; 0 = the network's box). With 0.5 and refinement,
            openalpr-dev's hold-out AP50 rose from 0.889 to 0.943 and the other two hold-outs' did not fall
            (``platewise eval detect --box-blend``).
        verifier: the plate verifier that rescores candidates (:mod:`platewise.detection.verifier`): a path to
            its ONNX file, True for the shipped one, False for none, None (default) for the shipped one when
            this is the shipped detector and the file is there (its score combination was fitted to this
            detector's scores). With a verifier, ``score_threshold`` applies to the combined score and defaults
            to the verifier's metadata. The verifier sees the network's boxes; corner refinement and box blending
            apply to the detections it keeps.
        candidate_threshold: with a verifier, the network's score down to which candidates are rescored
            (None = the verifier's metadata).
        corner_net: the corner network that looks again at each kept detection's corners
            (:mod:`platewise.detection.corner_net`): a path to its ONNX file, True for the shipped one, False for
            none, None (default) for the shipped one with the shipped detector when the file is there. Its
            corners replace the network's; ``corner_refine`` then snaps them to the plate's edges.
        contain_threshold: after the verifier, a detection whose intersection with a better-scored one is more
            than this share of the smaller box is dropped (:func:`platewise.detection.decode.suppress_contained`:
            a loose second box around a plate, or a part of one, that IoU-based NMS keeps); 1 = off. None (the
            default): ``DEFAULT_CONTAIN_THRESHOLD`` (0.6) with a verifier, off without one (on the network's own
            scores a loose box can outscore the tight one: AP50 fell by 0.001-0.010). How it was chosen: the
            detector's sessions log (``DETECTOR_SESSIONS.md``), "Twelfth session".
        tile_size: also run the network on overlapping tiles of large images, this many pixels wide. None (the
            default): tiles of ``AUTO_TILE_SIZE`` (1280) for images whose longer side exceeds ``AUTO_TILE_ABOVE``
            (1920: 1440p, 4K and larger; 1080p and smaller are not tiled); 0: never; N: tiles of N for any
            image larger than one tile. A tile's height follows the input's aspect (768 for 1280 at 384x640), so
            a tile is letterboxed like a 1280x720 frame. For frames much larger than the network's input, where
            small plates shrink to a few pixels in the whole-image pass: on 3840x2160 mosaics of ro-dashcam's
            hold-out frames recall rose from 0.372 to 0.950 (``benchmarks/detect_tiles.py``). Tile detections
            touching a tile edge inside the image are dropped (the overlap shows those plates whole in the next
            tile); the rest join the whole-image candidates through NMS before the verifier. Costs one network
            pass per tile (16 more for a 3840x2160 frame). Measured in the detector's model card, "Tiles".
        tile_overlap: the least share of a tile that neighbouring tiles overlap (default 0.25).
        contain_margin: the suppression's tie-break for the tighter box: a detection gives way to a smaller one
            it holds scored at least its own score minus this (:func:`~platewise.detection.decode.suppress_contained`);
            0 = off. None (the default): the verifier's metadata's ``contain_margin`` (0 where it has none), 0
            without a verifier. How it is chosen: ``DETECTOR_SESSIONS.md``, "Fifteenth session".
        zone: look for plates only in this part of every image (:class:`~platewise.detection.zone.Zone`, or
            its text, e.g. ``"0,260 1280,700"`` or ``"0.1,0.5 0.9,0.5 1,1 0,1"``): the detector sees the zone's
            bounding rectangle (grown by a margin) at a network input fitted to its aspect, with no more pixels
            than ``input_size``, and reports the plates whose box centre lies inside the zone. For fixed
            cameras: nothing outside the zone is reported, and a zone narrower than the frame is seen at a
            larger scale at no extra cost. ``detect(zones=...)`` overrides it per call. Measured in the
            detector's model card, "Detection zones".
        min_plate_width: detections narrower than this many pixels (in the image) are not reported (0 = off):
            plates too small to read, or farther than a camera is meant to look.
        flip: also look at each input mirrored left to right, in the same network call, and fuse the two
            views' outputs location by location (test-time flip; :func:`~platewise.detection.decode.fuse_mirrored`)
            before decoding: ``"mean"`` (or True) averages their scores, ``"max"`` keeps the higher; about twice
            the network's time. Off by default; ``DETECTOR_SESSIONS.md``, "Twentieth session: the test-time flip",
            gives what it measured.

    Attributes:
        default_threshold: the threshold used when ``score_threshold`` is None: the verifier's, or without one
            the network's metadata's.
        verifier: the :class:`~platewise.detection.verifier.PlateVerifier` in use, or None.
        corner_net: the :class:`~platewise.detection.corner_net.CornerNet` in use, or None.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        threads: int | None = None,
        score_threshold: float | None = None,
        input_size: tuple[int, int] | None = None,
        nms_threshold: float | None = None,
        batch_size: int = 8,
        corner_vote_iou: float = 0.7,
        corner_vote_min_score: float = 0.2,
        closeup_scale: float = 0.5,
        closeup_min_width: float = 0.4,
        corner_refine: bool = True,
        box_blend: float = 0.5,
        verifier: str | Path | bool | None = None,
        candidate_threshold: float | None = None,
        corner_net: str | Path | bool | None = None,
        contain_threshold: float | None = None,
        contain_margin: float | None = None,
        tile_size: int | None = None,
        tile_overlap: float = 0.25,
        zone: Zone | str | None = None,
        min_plate_width: float = 0.0,
        flip: bool | str = False,
    ) -> None:
        self.model = load_model(
            DEFAULT_WEIGHTS if path is None else path, kind="detector", name="detector", threads=threads
        )
        meta = self.model.metadata
        self.strides = tuple(int(s) for s in meta["strides"])
        self.reg_max = int(meta["reg_max"])
        self.mean = tuple(float(v) for v in meta["mean"])
        self.std = tuple(float(v) for v in meta["std"])
        self.rgb = meta.get("color", "rgb") == "rgb"
        size = tuple(int(v) for v in (input_size or meta["input_size"]))
        if len(size) != 2 or any(v <= 0 or v % max(self.strides) for v in size):
            raise InvalidInput(f"input_size {size}: expected (h, w), positive multiples of {max(self.strides)}")
        self.input_size: tuple[int, int] = (size[0], size[1])
        self.verifier: PlateVerifier | None = None
        verifier = resolve_verifier(path, verifier)
        if verifier is not False:
            self.verifier = PlateVerifier(None if verifier is True else verifier, threads=threads)
        self.corner_net: CornerNet | None = None
        corner_net = resolve_corner_net(path, corner_net)
        if corner_net is not False:
            self.corner_net = CornerNet(None if corner_net is True else corner_net, threads=threads)
        default_threshold = meta["score_threshold"] if self.verifier is None else self.verifier.score_threshold
        self.score_threshold = float(default_threshold if score_threshold is None else score_threshold)
        self.nms_threshold = float(meta["nms_threshold"] if nms_threshold is None else nms_threshold)
        if not 0.0 <= self.score_threshold <= 1.0:
            raise InvalidInput(f"score_threshold {self.score_threshold} must be in [0, 1]")
        self.batch_size = max(1, int(batch_size))
        if not 0.0 <= corner_vote_iou <= 1.0 or not 0.0 <= corner_vote_min_score <= 1.0:
            raise InvalidInput("corner_vote_iou and corner_vote_min_score must be in [0, 1]")
        self.corner_vote_iou = float(corner_vote_iou)
        self.corner_vote_min_score = float(corner_vote_min_score)
        if not 0.0 <= closeup_scale < 1.0 or not 0.0 < closeup_min_width <= 1.0:
            raise InvalidInput("closeup_scale must be in [0, 1) and closeup_min_width in (0, 1]")
        self.closeup_scale = float(closeup_scale)
        self.closeup_size = self._closeup_for(self.input_size)
        self.closeup_min_width = float(closeup_min_width)
        self.corner_refine = bool(corner_refine)
        if not 0.0 <= box_blend <= 1.0:
            raise InvalidInput(f"box_blend must be in [0, 1], got {box_blend}")
        self.box_blend = float(box_blend)
        self.default_threshold = float(default_threshold)
        self.candidate_threshold = self.score_threshold
        if self.verifier is not None:
            self.candidate_threshold = float(
                self.verifier.candidate_threshold if candidate_threshold is None else candidate_threshold
            )
            if not 0.0 <= self.candidate_threshold <= 1.0:
                raise InvalidInput(f"candidate_threshold {self.candidate_threshold} must be in [0, 1]")
        if contain_threshold is None:  # chosen and checked with the verifier's scores only
            contain_threshold = DEFAULT_CONTAIN_THRESHOLD if self.verifier is not None else 1.0
        if not 0.0 < contain_threshold <= 1.0:
            raise InvalidInput(f"contain_threshold {contain_threshold} must be in (0, 1] (1 = off)")
        self.contain_threshold = float(contain_threshold)
        if contain_margin is None:
            contain_margin = 0.0 if self.verifier is None else float(self.verifier.metadata.get("contain_margin", 0.0))
        if not 0.0 <= contain_margin <= 1.0:
            raise InvalidInput(f"contain_margin {contain_margin} must be in [0, 1] (0 = off)")
        self.contain_margin = float(contain_margin)
        if tile_size is not None and (tile_size < 0 or 0 < tile_size < 64):
            raise InvalidInput(f"tile_size {tile_size} must be 0 (no tiles) or at least 64 pixels")
        if not 0.0 <= tile_overlap < 0.9:
            raise InvalidInput(f"tile_overlap {tile_overlap} must be in [0, 0.9)")
        self.tile_width = AUTO_TILE_SIZE if tile_size is None else int(tile_size)
        # (h, w) of a tile, in original pixels, or None (no tiles); images whose longer side is at most
        # tile_above are not tiled
        self.tile_hw = self._tile_for(self.input_size)
        self.tile_above = AUTO_TILE_ABOVE if tile_size is None else 0
        self.tile_overlap = float(tile_overlap)
        self.zone = None if zone is None else Zone.of(zone)
        if not math.isfinite(min_plate_width) or min_plate_width < 0:
            raise InvalidInput(f"min_plate_width {min_plate_width} must be 0 (off) or a positive number of pixels")
        self.min_plate_width = float(min_plate_width)
        if flip is True:
            flip = "mean"
        if flip is not False and flip not in FLIP_FUSIONS:
            raise InvalidInput(f"flip {flip!r}: expected False, True or one of {', '.join(FLIP_FUSIONS)}")
        self.flip: str | None = flip or None
        self.metadata = meta

    def _closeup_for(self, size: tuple[int, int]) -> tuple[int, int] | None:
        """The close-up pass's input size for a main input of ``size`` (None: no close-up pass)."""
        if self.closeup_scale <= 0:
            return None
        m = max(self.strides)
        return (
            max(m, round(size[0] * self.closeup_scale / m) * m),
            max(m, round(size[1] * self.closeup_scale / m) * m),
        )

    def _tile_for(self, size: tuple[int, int]) -> tuple[int, int] | None:
        """A tile's (h, w) in original pixels for a main input of ``size``: its aspect (None: no tiles)."""
        if not self.tile_width:
            return None
        return (max(1, round(self.tile_width * size[0] / size[1])), self.tile_width)

    def detect_raw(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        rgb: bool = False,
        zones: Zones = None,
    ) -> list[RawDetections]:
        """As :meth:`detect`, returning arrays per image (boxes (K,4), corners (K,4,2), scores (K,))."""
        if isinstance(images, np.ndarray):
            raise InvalidInput("detect() takes a list of images; wrap a single image as [image]")
        per_image = zones_for(len(images), self.zone if zones is None else zones)
        if any(z is not None for z in per_image):
            out = self._detect_zones(images, rgb, per_image)
        else:
            out = self._detect_at(images, rgb, self.input_size)
        if self.min_plate_width > 0:
            out = [f.take(f.boxes[:, 2] - f.boxes[:, 0] >= self.min_plate_width) for f in out]
        return out

    def _detect_zones(
        self, images: Sequence[npt.NDArray[np.uint8]], rgb: bool, zones: list[Zone | None]
    ) -> list[RawDetections]:
        """Each image's plates inside its zone: found in the zone's rectangle (:meth:`Zone.crop_rect`) at an
        input fitted to it (:func:`~platewise.detection.zone.fitted_input`); chunks of ``batch_size`` images,
        within a chunk the crops of one input size batched."""
        out: list[RawDetections] = []
        for start in range(0, len(images), self.batch_size):
            groups: dict[tuple[int, int], list[tuple[int, npt.NDArray[np.uint8], tuple[int, int]]]] = {}
            for i in range(start, min(start + self.batch_size, len(images))):
                img, zone = self._check(images[i], rgb), zones[i]
                if zone is None:
                    groups.setdefault(self.input_size, []).append((i, img, (0, 0)))
                    continue
                x0, y0, x1, y1 = zone.crop_rect(*img.shape[:2])
                size = fitted_input(y1 - y0, x1 - x0, self.input_size, max(self.strides))
                groups.setdefault(size, []).append((i, img[y0:y1, x0:x1], (x0, y0)))
            found: dict[int, RawDetections] = {}
            for size, items in groups.items():
                crops = [c for _, c, _ in items]
                for (i, _, (x0, y0)), f in zip(items, self._detect_at(crops, False, size), strict=True):
                    shift = np.asarray([x0, y0], np.float32)
                    f = RawDetections(f.boxes + np.tile(shift, 2), f.corners + shift, f.scores)
                    zone = zones[i]
                    if zone is not None:
                        f = f.take(zone.holds(images[i].shape[0], images[i].shape[1], f.boxes))
                    found[i] = f
            out += [found[i] for i in sorted(found)]
        return out

    def _detect_at(
        self, images: Sequence[npt.NDArray[np.uint8]], rgb: bool, size: tuple[int, int]
    ) -> list[RawDetections]:
        """The plates of each image, seen at the network input ``size``, in chunks of ``batch_size``."""
        closeup_size, tile_hw = self._closeup_for(size), self._tile_for(size)
        out: list[RawDetections] = []
        for start in range(0, len(images), self.batch_size):
            chunk = [self._check(im, rgb) for im in images[start : start + self.batch_size]]
            boxed = [letterbox(im, size) for im in chunk]
            found = self._run(boxed, size)
            if closeup_size is not None:
                shrunk = [self._shrink(im, b, size, closeup_size) for im, b in zip(chunk, boxed, strict=True)]
                close = self._run(shrunk, closeup_size)
                found = [
                    merge_closeup(f, c, im.shape[:2], self.closeup_min_width, self.nms_threshold)
                    for f, c, im in zip(found, close, chunk, strict=True)
                ]
            if tile_hw is not None:
                found = self._with_tiles(chunk, found, size, tile_hw)
            if self.verifier is not None:  # before refinement: that costs ~1 ms per candidate
                found = self._verify(chunk, found)
            if self.contain_threshold < 1.0:
                found = [self._uncontained(f) for f in found]
            if self.corner_net is not None:  # the plates of the whole chunk in one pass
                corners = self.corner_net.predict_many(chunk, [f.boxes for f in found])
                found = [RawDetections(f.boxes, c, f.scores) for f, c in zip(found, corners, strict=True)]
            if self.corner_refine:
                refined = refine_corners_many(chunk, [f.corners for f in found])
                found = [RawDetections(f.boxes, c, f.scores) for f, c in zip(found, refined, strict=True)]
            if self.box_blend > 0:
                found = [
                    RawDetections(blend_boxes(f.boxes, f.corners, self.box_blend), f.corners, f.scores) for f in found
                ]
            out += found
        return out

    def _verify(self, images: list[npt.NDArray[np.uint8]], found: list[RawDetections]) -> list[RawDetections]:
        """Each image's candidates rescored by the verifier (all in one pass), those at or above
        ``score_threshold``, best first."""
        assert self.verifier is not None
        rescored = self.verifier.rescore_many(images, [f.boxes for f in found], [f.scores for f in found])
        out = []
        for f, s in zip(found, rescored, strict=True):
            k = np.flatnonzero(s >= self.score_threshold)
            k = k[np.argsort(-s[k], kind="stable")]
            out.append(RawDetections(f.boxes[k], f.corners[k], s[k]))
        return out

    def _with_tiles(
        self,
        images: list[npt.NDArray[np.uint8]],
        found: list[RawDetections],
        size: tuple[int, int],
        tile_hw: tuple[int, int],
    ) -> list[RawDetections]:
        """Each image's candidates plus those of its tiles (:func:`tile_grid`) seen at ``size``, through NMS."""
        views = [
            (i, t)
            for i, im in enumerate(images)
            if max(im.shape[:2]) > self.tile_above
            for t in tile_grid(im.shape[0], im.shape[1], tile_hw, self.tile_overlap)
        ]
        extra: list[list[RawDetections]] = [[] for _ in images]
        for start in range(0, len(views), self.batch_size):
            part = views[start : start + self.batch_size]
            boxed = [letterbox(images[i][y0:y1, x0:x1], size) for i, (x0, y0, x1, y1) in part]
            for (i, (x0, y0, x1, y1)), d in zip(part, self._run(boxed, size), strict=True):
                h, w = images[i].shape[:2]
                b = d.boxes
                # a plate cut by an edge of the tile inside the image: the overlap shows it whole elsewhere
                cut = (
                    ((b[:, 0] <= _TILE_EDGE) & (x0 > 0))
                    | ((b[:, 1] <= _TILE_EDGE) & (y0 > 0))
                    | ((b[:, 2] >= x1 - x0 - _TILE_EDGE) & (x1 < w))
                    | ((b[:, 3] >= y1 - y0 - _TILE_EDGE) & (y1 < h))
                )
                k = ~cut
                shift = np.asarray([x0, y0], np.float32)
                extra[i].append(RawDetections(b[k] + np.tile(shift, 2), d.corners[k] + shift, d.scores[k]))
        out = []
        for f, more in zip(found, extra, strict=True):
            if not more:
                out.append(f)
                continue
            boxes = np.concatenate([f.boxes, *(m.boxes for m in more)])
            corners = np.concatenate([f.corners, *(m.corners for m in more)])
            scores = np.concatenate([f.scores, *(m.scores for m in more)])
            keep = nms(boxes, scores, self.nms_threshold)
            out.append(RawDetections(boxes[keep], corners[keep], scores[keep]))
        return out

    def _uncontained(self, found: RawDetections) -> RawDetections:
        """Without the candidates lying mostly inside a better-scored one (:func:`suppress_contained`)."""
        if len(found.scores) < 2:
            return found
        floor = max(self.score_threshold, self.default_threshold)  # boxes not reported make no box give way
        k = suppress_contained(found.boxes, found.scores, self.contain_threshold, self.contain_margin, floor=floor)
        return RawDetections(found.boxes[k], found.corners[k], found.scores[k])

    @staticmethod
    def _shrink(
        image: npt.NDArray[np.uint8],
        main: tuple[npt.NDArray[np.uint8], Letterbox],
        size: tuple[int, int],
        closeup_size: tuple[int, int],
    ) -> tuple[npt.NDArray[np.uint8], Letterbox]:
        """The close-up input (``closeup_size``), resized from the main pass's already shrunk image (at
        ``size``) when there is one (cheaper)."""
        img, lb = main
        if lb.scale >= 1.0:
            return letterbox(image, closeup_size)
        nh, nw = fitted_size(lb.orig_h, lb.orig_w, size)
        top, left = int(lb.pad_y), int(lb.pad_x)
        small, lb2 = letterbox(img[top : top + nh, left : left + nw], closeup_size)
        return small, Letterbox(lb.scale * lb2.scale, lb2.pad_x, lb2.pad_y, lb.orig_h, lb.orig_w)

    def _run(self, boxed: list[tuple[npt.NDArray[np.uint8], Letterbox]], size: tuple[int, int]) -> list[RawDetections]:
        x = to_input_tensor([b[0] for b in boxed], self.mean, self.std, rgb=self.rgb)
        if self.flip:  # the batch and its mirror image in one call, their outputs fused
            out = self.model.run(np.concatenate([x, x[..., ::-1]]))
            n = len(x)
            scores, dist, corners = fuse_mirrored(
                (out[0][:n], out[1][:n], out[2][:n]),
                (out[0][n:], out[1][n:], out[2][n:]),
                size,
                self.strides,
                self.reg_max,
                self.flip,
            )
        else:
            scores, dist, corners = self.model.run(x)
        return decode_batch(
            scores,
            dist,
            corners,
            [b[1] for b in boxed],
            size,
            self.strides,
            reg_max=self.reg_max,
            score_threshold=self.candidate_threshold,
            nms_threshold=self.nms_threshold,
            # the corner network replaces every kept detection's corners: voting for them would be wasted
            vote_iou=self.corner_vote_iou if self.corner_net is None else 0.0,
            vote_min_score=self.corner_vote_min_score,
        )

    def detect(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        rgb: bool = False,
        zones: Zones = None,
    ) -> list[list[Detection]]:
        """Detects plates in each image.

        Args:
            images: uint8 arrays HxW, HxWx1, HxWx3 (BGR, or RGB with ``rgb=True``) or HxWx4, of any size up to
                :data:`platewise.imageio.MAX_PIXELS`.
            zones: look for plates only in this zone (a :class:`~platewise.detection.zone.Zone` or its text)
                in every image, or per image a zone or None (none); None: the detector's ``zone``.

        Returns:
            per image, its detections, best score first.

        Raises:
            InvalidImage: an image that is not a uint8 array of a supported shape, is smaller than 2x2 or too large.
            InvalidInput: a zone that cannot be read, lies outside its image, or zones not one per image.
        """
        result = []
        for raw in self.detect_raw(images, rgb=rgb, zones=zones):
            result.append(
                [
                    Detection(BBox(*(float(v) for v in b)), Corners.from_array(c), float(s))
                    for b, c, s in zip(raw.boxes, raw.corners, raw.scores, strict=False)
                ]
            )
        return result

    @staticmethod
    def _check(image: object, rgb: bool) -> npt.NDArray[np.uint8]:
        img = as_bgr(image, rgb=rgb)
        if min(img.shape[:2]) < MIN_SIDE:
            raise InvalidImage(f"image of {img.shape[1]}x{img.shape[0]} pixels is too small to hold a plate")
        return img


def merge_closeup(
    main: RawDetections,
    closeup: RawDetections,
    image_hw: tuple[int, ...],
    min_width: float,
    nms_threshold: float,
    inside: float = 0.7,
) -> RawDetections:
    """The detections of the main pass plus the large ones of the close-up pass (see :class:`PlateDetector`).

    Close-up boxes spanning less than ``min_width`` of the image's longer side are ignored (the main pass sees
    those better). The union is put through NMS; then a main-pass box with at least ``inside`` of its area
    inside a kept close-up box that scores higher is dropped as a fragment of that plate.
    """
    w = closeup.boxes[:, 2] - closeup.boxes[:, 0]
    big = w >= min_width * max(image_hw[0], image_hw[1])
    if not big.any():
        return main
    boxes = np.concatenate([main.boxes, closeup.boxes[big]])
    corners = np.concatenate([main.corners, closeup.corners[big]])
    scores = np.concatenate([main.scores, closeup.scores[big]])
    from_close = np.concatenate([np.zeros(len(main.scores), bool), np.ones(int(big.sum()), bool)])
    keep = nms(boxes, scores, nms_threshold)
    boxes, corners, scores, from_close = boxes[keep], corners[keep], scores[keep], from_close[keep]
    area = np.maximum(0, boxes[:, 2] - boxes[:, 0]) * np.maximum(0, boxes[:, 3] - boxes[:, 1])
    close = np.flatnonzero(from_close)
    inter = box_intersection_matrix(boxes, boxes[close])  # (kept, kept close-up)
    frag = (
        ~from_close[:, None]
        & (scores[:, None] < scores[close][None, :])
        & (inter >= inside * np.maximum(area, 1e-9)[:, None])
    )
    k = ~frag.any(1)
    return RawDetections(boxes[k], corners[k], scores[k])


def tile_grid(h: int, w: int, tile_hw: tuple[int, int], overlap: float) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles (x1, y1, x2, y2) covering an ``h`` x ``w`` image, each ``tile_hw`` (h, w) or the
    image's size where that is smaller; neighbours overlap by at least ``overlap`` of a tile, the first and last
    tiles of a row or column sit at the image's edges. An image no larger than one tile gets none (the
    whole-image pass sees it as a tile would)."""
    th, tw = tile_hw
    if h <= th and w <= tw:
        return []

    def starts(n: int, t: int) -> tuple[list[int], int]:
        if n <= t:
            return [0], n
        k = math.ceil((n - t) / (t * (1.0 - overlap))) + 1  # tiles in this direction
        return [round(j * (n - t) / (k - 1)) for j in range(k)], t

    xs, cw = starts(w, tw)
    ys, ch = starts(h, th)
    return [(x, y, x + cw, y + ch) for y in ys for x in xs]
