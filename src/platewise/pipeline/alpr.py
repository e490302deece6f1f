"""The end-to-end plate reader: detect -> straighten each plate with its corners -> read all plates of a batch
of images in one OCR batch -> :class:`~platewise.types.PlateRead` results.

Inference path: numpy + OpenCV + onnxruntime only (never torch).
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from platewise.detection.refine import blend_boxes, refine_corners_many
from platewise.detection.zone import Zone, Zones, detect_in_zones, zones_for
from platewise.imageio import as_bgr
from platewise.ocr.decode import fuse_ctc_views_many
from platewise.ocr.preprocess import cut_side_views
from platewise.pipeline.base import Detector, Recognizer
from platewise.pipeline.rectify import crop_box, rectify
from platewise.plates.formats import formats_for, guess_region
from platewise.types import BBox, Corners, Detection, PlateRead, PlateText

__all__ = ["ALPR", "BatchResult", "choose_candidate"]


@dataclass(frozen=True)
class BatchResult:
    """Plates per image, and the time spent per stage in milliseconds for the whole batch."""

    plates: list[list[PlateRead]]
    timings: dict[str, float] = field(default_factory=dict)


DEFAULT_MIN_CONFIDENCE = 0.15
DEFAULT_DETECTOR_THRESHOLD = 0.2  # on the verifier's combined score, where its metadata has no pipeline_threshold
DETECTOR_THRESHOLD_WITHOUT_VERIFIER = 0.3  # on the detector network's score


def choose_candidate(text: PlateText, region: str | None) -> tuple[str, float, str | None]:
    """The reading to report: with a ``region``, the best candidate that fits one of its formats (if any).

    Returns:
        (text, confidence, region guess).
    """
    if region:
        fmts = formats_for(region)
        for cand, conf in text.candidates or ((text.text, text.confidence),):
            if any(f.matches(cand) for f in fmts):
                return cand, conf, guess_region(cand, prefer=region)
    return text.text, text.confidence, guess_region(text.text, prefer=region)


class ALPR:
    """Finds and reads the license plates of images.

    Args:
        detector: any :class:`~platewise.pipeline.base.Detector`; default: the shipped ONNX detector.
        reader: any :class:`~platewise.pipeline.base.Recognizer`; default: the shipped ONNX reader.
        region: bias the choice among the reader's candidates toward this region's formats (``us``, ``eu``,
            ``eu-de``, ``br``, ``cn`` ...).
        top_n: candidates kept per plate.
        min_confidence: plates whose reading confidence is below this are dropped. The default, 0.15, was
            chosen on openalpr-dev's training side with view fusion (whose confidence averages the views'):
            no plate read right there had less (0.2 dropped one before re-reading was added; with it and the
            pipeline's detector threshold, 0.15 and 0.2 read 177 plates with 0.07 false reads per image, 0.1
            the same with 0.12, 0.25 two fewer; fifth session's reader)
            (``platewise eval e2e --split train --min-confidence C``). 0 keeps all.
        min_chars: plates read with fewer characters are dropped (signs, lights and stickers found by the
            detector mostly read as 1 to 3 characters; OpenALPR's default minimum is also 4). 1 keeps them all.
        threads: ONNX Runtime intra-op threads for the default models.
        rectify_pad: margin added around each straightened plate, as a fraction of its size (the reader was
            trained on crops with a thin margin). In ``benchmarks/crop_views.py``, 0.03 read more plates than
            0.05 (the earlier default) on all three of its sets (openalpr-dev hold-out and training side,
            synthetic scenes) with both the shipped and the previous reader; 0 tied with it or read one more
            on openalpr-dev, and 8-10% fewer of the synthetic plates.
        box_view: when a plate was straightened with its corners, also read its padded box crop (the view the
            reader was mostly trained on) in the same OCR batch and keep the more confident of the two readings.
            Costs one more crop per plate; ``extra["view"]`` says which one won.
        box_pad: margin of that box crop, as a fraction of the box size (0: the detector's boxes already carry
            a margin; ``benchmarks/crop_views.py`` measures the choice).
        corner_refine: also straighten each plate with its corners snapped to the plate's edges
            (:func:`platewise.detection.refine.refine_corners`) and read that view too, in the same OCR batch;
            the most confident of the views wins (``extra["view"]``: ``refined``, ``rectified`` or ``box``),
            and the returned detection carries the refined corners. Costs about 1 ms and one crop per plate.
        fuse_views: with a CTC reader that returns its probabilities (``read_prepared_with_probs``, as
            :class:`~platewise.ocr.reader.PlateReader`), a plate read in several views gets the reading whose
            CTC probability, averaged over the views, is highest among all views' candidates
            (:func:`platewise.ocr.decode.fuse_ctc_views`), instead of the most confident view's reading. The
            reading's confidence is the mean of the views' confidences in it, so views that disagree lower it.
            On 300 synthetic hold-out scenes it read 433 of 749 plates against 416 (23 more, 6 fewer) with half
            the false reads; on openalpr-dev's training side 176 of 181 against 175, on its hold-out 37 of 41
            against 38, with 0.10 false reads per image on the hold-out against 0.34 (``benchmarks/view_fusion.py``,
            re-reading off in both). Off: the most confident view wins.
        reread_below: with view fusion, a straightened plate whose fused reading has less confidence than this
            is read in four more views (its straightened crop with 3% cut off the left and off the right side,
            and straightened again with no margin and with 8%), and all its views are fused again, the four new
            ones weighing as much together as the first ones (0 = never). On 300 synthetic hold-out scenes the
            pipeline then read 454 of 749 plates against 433 without it; on openalpr-dev's training side 177 of
            181 against 176 with 0.08 false reads per image against 0.12, and on its hold-out 39 of 41 against
            37 with 0.02 against 0.10 (``benchmarks/view_fusion.py``). With the new views weighing one each
            (measured at detector threshold 0.35): 434, 173 and 37 plates against 435, 173 and 38. Costs a
            second, small OCR batch for the unsure plates.
        detector_threshold: score threshold of the default detector. None: with the plate verifier on (the
            default), the verifier's metadata's ``pipeline_threshold`` on the combined score (0.35 for the
            sixteenth session's shipped verifier; 0.2 where a verifier has none), 0.3 on the network's score when
            it is off. Without the verifier
            0.3 was chosen over the network's own 0.35: the reader then drops most of the extra detections (too
            few characters, too unsure), while plates the detector scores 0.3-0.35 are read. With the shipped
            reader: openalpr-dev's training side 177 of 181 plates against 173 at 0.35 (false reads per image
            0.08 against 0.05), its hold-out 39 of 41 at both (0.02 against 0), the synthetic hold-out scenes
            454 of 749 against 441 (``platewise eval e2e --detector-threshold T``, ``benchmarks/synthetic_e2e.py
            --detector-threshold T``). Ignored with ``detector=``.
        detector_candidate_threshold: with the verifier, the network's score down to which the default
            detector's candidates are rescored (``PlateDetector(candidate_threshold=...)``). None: the verifier's
            own (0.25 for the shipped one, fitted for detection on its calibration images). Ignored with
            ``detector=``.
        detector_verifier: the default detector's plate verifier (``PlateDetector(verifier=...)``): None (the
            default) for the shipped one with the shipped detector, True for the shipped one, False for none,
            or an ONNX file. Chosen on openalpr-dev's training side (``platewise eval e2e --split train
            --verifier on --detector-threshold T``): 178 / 176 / 176 of 181 plates at T = 0.2 / 0.3 / 0.48 with
            0.05 / 0.04 / 0.03 false reads per image, against 177 with 0.08 without the verifier at 0.3; on the
            synthetic hold-out scenes 455 of 749 plates at 0.2 with 0.02 false reads per image against 454 with
            0.05 (``benchmarks/synthetic_e2e.py --verifier on|off``). Then measured on openalpr-dev's
            hold-out: 39 of 41 plates either way, 0 false reads per image against 0.02.
        detector_corner_net: the default detector's corner network (``PlateDetector(corner_net=...)``): None
            (the default) for the shipped one with the shipped detector, True, False or an ONNX file. The plate
            is straightened with its corners (and, with ``corner_refine``, with those snapped to its edges).
        detector_tile_size: the default detector's tiles for large images (``PlateDetector(tile_size=...)``):
            None (the default) tiles images whose longer side is over 1920 pixels, 0 never, N tiles of N pixels
            for any image larger than one. Ignored with ``detector=``.
        box_blend: the box reported for a plate straightened with its corners is moved this share of the way
            toward the bounding box of those (refined) corners (:func:`platewise.detection.refine.blend_boxes`;
            0 = the detector's box). The crops read are not affected. A detector passed in should not blend its
            boxes itself (``PlateDetector(box_blend=0, corner_refine=False)``, as the default one is built).
        zone: read only the plates in this part of every image (a :class:`~platewise.detection.zone.Zone` or
            its text: ``"x,y x,y ..."``, 2 points a rectangle, 3 or more a polygon, in pixels or as fractions
            0-1); ``read(zone=...)`` and ``run(zones=...)`` override it per call. The default detector looks
            only at the zone's rectangle, at an input fitted to it (``PlateDetector(zone=...)``); a detector
            whose ``detect`` takes no ``zones`` is given the zone's rectangle cut out of the image.
        detector_min_plate_width: the default detector reports no plate narrower than this many pixels
            (``PlateDetector(min_plate_width=...)``; 0 = off). Ignored with ``detector=``.
        detector_flip: the default detector's test-time flip (``PlateDetector(flip=...)``): it also looks at
            each image mirrored; about twice the network's time. Ignored with ``detector=``.

    Example:
        >>> alpr = ALPR()                                        # doctest: +SKIP
        >>> [p.text for p in alpr.read(cv2.imread("car.jpg"))]   # doctest: +SKIP
        ['AB123CD']
    """

    def __init__(
        self,
        detector: Detector | None = None,
        reader: Recognizer | None = None,
        *,
        region: str | None = None,
        top_n: int = 3,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        min_chars: int = 4,
        threads: int | None = None,
        detector_path: str | Path | None = None,
        reader_path: str | Path | None = None,
        rectify_pad: float = 0.03,
        box_view: bool = True,
        box_pad: float = 0.0,
        corner_refine: bool = True,
        box_blend: float = 0.5,
        fuse_views: bool = True,
        reread_below: float = 0.9,
        detector_threshold: float | None = None,
        detector_candidate_threshold: float | None = None,
        detector_verifier: str | Path | bool | None = None,
        detector_corner_net: str | Path | bool | None = None,
        detector_tile_size: int | None = None,
        zone: Zone | str | None = None,
        detector_min_plate_width: float = 0.0,
        detector_flip: bool | str = False,
    ) -> None:
        if region is not None:
            formats_for(region)  # validates, raising ValueError with the known regions
        if top_n < 1:
            raise ValueError(f"top_n must be >= 1, got {top_n}")
        if not -0.2 <= rectify_pad < 0.5:
            raise ValueError(f"rectify_pad must be in [-0.2, 0.5), got {rectify_pad}")
        if not -0.2 <= box_pad < 0.5:
            raise ValueError(f"box_pad must be in [-0.2, 0.5), got {box_pad}")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        if min_chars < 1:
            raise ValueError(f"min_chars must be >= 1, got {min_chars}")
        if reread_below < 0:
            raise ValueError(f"reread_below must be >= 0, got {reread_below}")
        if not 0.0 <= box_blend <= 1.0:
            raise ValueError(f"box_blend must be in [0, 1], got {box_blend}")
        if detector is None:
            from platewise.detection.detector import PlateDetector, resolve_verifier

            verifier = resolve_verifier(detector_path, detector_verifier)
            threshold_given = detector_threshold is not None
            if detector_threshold is None:
                detector_threshold = (
                    DETECTOR_THRESHOLD_WITHOUT_VERIFIER if verifier is False else DEFAULT_DETECTOR_THRESHOLD
                )
            # the pipeline refines corners (reading the plate both ways) and blends boxes itself (below)
            detector = PlateDetector(
                path=detector_path,
                threads=threads,
                score_threshold=detector_threshold,
                candidate_threshold=detector_candidate_threshold,
                verifier=verifier,
                corner_net=detector_corner_net,
                tile_size=detector_tile_size,
                min_plate_width=detector_min_plate_width,
                flip=detector_flip,
                corner_refine=False,
                box_blend=0.0,
            )
            # a verifier fitted with the pipeline in mind says at what combined score the pipeline detects
            own = detector.verifier.pipeline_threshold if detector.verifier is not None else None
            if not threshold_given and own is not None:
                detector.score_threshold = own
        if reader is None:
            from platewise.ocr.reader import PlateReader

            reader = PlateReader(path=reader_path, threads=threads, top_n=top_n)
        self.detector = detector
        self.reader = reader
        self.zone = None if zone is None else Zone.of(zone)
        # a detector that takes zones itself (PlateDetector) also fits its input to them
        self._detector_zones = "zones" in inspect.signature(detector.detect).parameters
        self.region = region
        self.top_n = top_n
        self.min_confidence = min_confidence
        self.min_chars = min_chars
        self.rectify_pad = rectify_pad
        self.box_view = box_view
        self.box_pad = box_pad
        self.corner_refine = corner_refine
        self.box_blend = box_blend
        self.fuse_views = fuse_views
        self.reread_below = reread_below

    def read(
        self, image: npt.NDArray[np.uint8], *, rgb: bool = False, zone: Zone | str | None = None
    ) -> list[PlateRead]:
        """The plates of one HxWx3 uint8 image (BGR, or RGB with ``rgb=True``), in ``zone`` (None: the
        pipeline's ``zone``)."""
        return self.run([image], rgb=rgb, zones=zone).plates[0]

    def read_batch(
        self,
        images: list[npt.NDArray[np.uint8]],
        *,
        rgb: bool = False,
        zones: Zones = None,
    ) -> list[list[PlateRead]]:
        """The plates of each image of a batch (``zones`` as in :meth:`run`)."""
        return self.run(images, rgb=rgb, zones=zones).plates

    def run(
        self,
        images: list[npt.NDArray[np.uint8]],
        *,
        rgb: bool = False,
        zones: Zones = None,
    ) -> BatchResult:
        """Reads a batch and reports per-stage timings (ms): ``detect``, ``straighten``, ``read``, ``total``.

        ``zones``: one zone for every image, or one (or None) per image; None: the pipeline's ``zone``.
        """
        t0 = time.perf_counter()
        per_image = zones_for(len(images), self.zone if zones is None else zones)
        bgr = [as_bgr(im, rgb=rgb) for im in images]
        if not bgr:
            dets: list[list[Detection]] = []
        elif all(z is None for z in per_image):
            dets = self.detector.detect(bgr)
        elif self._detector_zones:
            dets = self.detector.detect(bgr, zones=per_image)  # type: ignore[call-arg]
        else:
            dets = detect_in_zones(self.detector.detect, bgr, per_image)
        t1 = time.perf_counter()
        h, w = self.reader.input_size
        # per plate: (image index, detection to report, whether corners were used, [(crop index, view name)])
        owners: list[tuple[int, Detection, bool, list[tuple[int, str]]]] = []
        n_dets = sum(len(d) for d in dets)
        crops = np.empty(((1 + int(self.box_view) + int(self.corner_refine)) * n_dets, h, w, 3), dtype=np.uint8)
        n = 0
        snapped: list[npt.NDArray[np.float32]] = []  # per image: its plates' corners snapped to their edges
        if self.corner_refine and n_dets:  # every plate of the batch in one vectorised search
            quads = [np.asarray([d.corners.as_array() for d in ds], np.float32).reshape(-1, 4, 2) for ds in dets]
            snapped = refine_corners_many(bgr, quads)
        for i, (img, ds) in enumerate(zip(bgr, dets, strict=True)):
            for k, d in enumerate(ds):
                views: list[tuple[int, str]] = []
                crops[n], used = rectify(img, d.corners, d.box, (h, w), pad=self.rectify_pad)
                views.append((n, "rectified" if used else "box"))
                n += 1
                if self.corner_refine and used:
                    q = snapped[i][k]
                    if not np.array_equal(q, d.corners.as_array()):
                        refined = Detection(d.box, Corners.from_array(q), d.score)
                        crops[n], ok = rectify(img, refined.corners, d.box, (h, w), pad=self.rectify_pad)
                        if ok:
                            views.append((n, "refined"))
                            n += 1
                            d = refined
                if used and self.box_view:
                    crops[n] = crop_box(img, d.box, (h, w), pad=self.box_pad)
                    views.append((n, "box"))
                    n += 1
                if used and self.box_blend > 0:
                    q = d.corners.as_array()
                    box = blend_boxes(np.asarray([d.box.as_list()], np.float32), q[None], self.box_blend)[0]
                    d = Detection(BBox(*(float(v) for v in box)), d.corners, d.score)
                owners.append((i, d, used, views))
        t2 = time.perf_counter()
        probs = None
        # view fusion needs a CTC reader that also returns its probabilities (PlateReader does)
        with_probs = getattr(self.reader, "read_prepared_with_probs", None)
        alphabet = str(getattr(self.reader, "alphabet", ""))
        if not owners:
            texts: list[PlateText] = []
        elif self.fuse_views and with_probs is not None and getattr(self.reader, "head", None) == "ctc":
            texts, probs = with_probs(crops[:n])
        else:
            texts = self.reader.read_prepared(crops[:n])
        read: list[tuple[PlateText, str]] = []  # per plate: its reading and the view it came from
        fused: dict[int, tuple[PlateText, int]] = {}  # plate -> its fused reading and the view it came from
        if probs is not None:
            fuse = [o for o, (_, _, _, views) in enumerate(owners) if len(views) > 1]
            groups = [([texts[j] for j, _ in owners[o][3]], probs[[j for j, _ in owners[o][3]]], None) for o in fuse]
            fused = dict(zip(fuse, fuse_ctc_views_many(groups, alphabet, self.top_n), strict=True))
        for o, (_, _, _, views) in enumerate(owners):
            if o in fused:
                pt, k = fused[o]
                read.append((pt, views[k][1]))
            else:
                best, view = max(views, key=lambda v: texts[v[0]].confidence)  # the first of equals: rectified
                read.append((texts[best], view))
        t_extra = 0.0
        if probs is not None and with_probs is not None and self.reread_below > 0:
            t_extra = self._read_again(bgr, owners, crops, texts, probs, read, with_probs, alphabet)
        t4 = time.perf_counter()
        plates: list[list[PlateRead]] = [[] for _ in bgr]
        for (i, d, used, _), (pt, view) in zip(owners, read, strict=True):
            text, conf, region = choose_candidate(pt, self.region)
            if len(text) < self.min_chars or conf < self.min_confidence:
                continue
            char_conf = pt.char_confidences if text == pt.text else _char_conf_for(text, pt)
            plates[i].append(
                PlateRead(
                    text=text,
                    confidence=conf,
                    char_confidences=char_conf,
                    candidates=pt.candidates[: self.top_n],
                    region=region,
                    detection=d,
                    extra={"rectified": used, "view": view},
                )
            )
        t5 = time.perf_counter()
        ms = {
            "detect": (t1 - t0) * 1e3,
            "straighten": (t2 - t1 + t_extra) * 1e3,
            "read": (t4 - t2 - t_extra) * 1e3,
            "total": (t5 - t0) * 1e3,
        }
        return BatchResult(plates, ms)

    def _read_again(
        self,
        bgr: list[npt.NDArray[np.uint8]],
        owners: list[tuple[int, Detection, bool, list[tuple[int, str]]]],
        crops: npt.NDArray[np.uint8],
        texts: list[PlateText],
        probs: npt.NDArray[np.float32],
        read: list[tuple[PlateText, str]],
        with_probs: Any,
        alphabet: str,
    ) -> float:
        """Reads the plates whose fused reading is unsure (confidence under ``reread_below``) in four more views
        and fuses all their views again, updating ``read`` in place. Returns the seconds spent straightening."""
        t = time.perf_counter()
        h, w = crops.shape[1:3]
        extra: list[npt.NDArray[np.uint8]] = []
        plan: list[tuple[int, list[tuple[int, str]]]] = []  # (plate, its extra views as (extra index, name))
        for o, ((i, d, used, views), (pt, _)) in enumerate(zip(owners, read, strict=True)):
            if not used or pt.confidence >= self.reread_below:
                continue
            names = {name: j for j, name in views}
            src = crops[names.get("refined", names.get("rectified", views[0][0]))]
            mine = [(len(extra), "cut-left"), (len(extra) + 1, "cut-right")]
            extra += cut_side_views(src, 0.03, (h, w))
            for pad in (0.0, 0.08):
                crop, ok = rectify(bgr[i], d.corners, d.box, (h, w), pad=pad)
                if ok:
                    mine.append((len(extra), f"pad-{pad:g}"))
                    extra.append(crop)
            plan.append((o, mine))
        straighten = time.perf_counter() - t
        if not plan:
            return straighten
        texts2, probs2 = with_probs(np.stack(extra))
        groups = []
        for o, mine in plan:
            views = owners[o][3]
            all_texts = [texts[j] for j, _ in views] + [texts2[j] for j, _ in mine]
            all_probs = np.concatenate([probs[[j for j, _ in views]], probs2[[j for j, _ in mine]]])
            # the new views, drawn from the same straightened plate, weigh as much together as the first ones
            groups.append((all_texts, all_probs, [1.0] * len(views) + [len(views) / len(mine)] * len(mine)))
        for (o, mine), (pt, k) in zip(plan, fuse_ctc_views_many(groups, alphabet, self.top_n), strict=True):
            read[o] = (pt, (owners[o][3] + mine)[k][1])
        return straighten


def _char_conf_for(text: str, pt: PlateText) -> tuple[float, ...]:
    # A non-best candidate has no per-character confidences of its own: spread its confidence evenly.
    conf = next((c for t, c in pt.candidates if t == text), pt.confidence)
    per = conf ** (1.0 / max(1, len(text)))
    return tuple(per for _ in text)
