"""The corner network: a second, closer look at each detected plate's four corners (ONNX Runtime + numpy + OpenCV).

The detector predicts corners from its 640x384 view of the whole image, at strides 8-32: about 5-6% of the
plate width off on synthetic hold-out scenes even after voting and edge snapping
(:mod:`platewise.detection.refine`). The corner network is a small CNN that sees each detected plate's box,
grown by a margin, resampled to a fixed size from the original image, and regresses the four corners (TL,
TR, BR, BL) in that crop. It is trained on synthetic plates with exact corners
(``python -m platewise.detection.corner_train``). :class:`~platewise.detection.detector.PlateDetector` runs
it on the detections it keeps, before the optional edge snapping.

    net = CornerNet()                                  # shipped weights
    corners = net.predict(image_bgr, boxes)            # (K, 4, 2) in image pixels
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from platewise.runtime.onnx import load_model

__all__ = ["DEFAULT_CORNER_NET", "CornerNet", "corner_crops", "corner_regions"]

DEFAULT_CORNER_NET = Path(__file__).resolve().parent.parent / "weights" / "corners.onnx"


def corner_regions(boxes: npt.NDArray[np.float32], pad_x: float, pad_y: float) -> npt.NDArray[np.int64]:
    """The integer regions (K,4) x1,y1,x2,y2 the crops of ``boxes`` (K,4) cover: each box grown by ``pad_x``
    of its width left and right and ``pad_y`` of its height above and below, outward to whole pixels, at
    least 2 pixels wide and high. Regions may reach outside the image."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    bw = np.maximum(b[:, 2] - b[:, 0], 1.0)
    bh = np.maximum(b[:, 3] - b[:, 1], 1.0)
    x1 = np.floor(b[:, 0] - pad_x * bw)
    y1 = np.floor(b[:, 1] - pad_y * bh)
    x2 = np.maximum(np.ceil(b[:, 2] + pad_x * bw), x1 + 2)
    y2 = np.maximum(np.ceil(b[:, 3] + pad_y * bh), y1 + 2)
    return np.stack([x1, y1, x2, y2], 1).astype(np.int64)


def corner_crops(
    image: npt.NDArray[np.uint8], regions: npt.NDArray[np.int64], size: tuple[int, int]
) -> npt.NDArray[np.uint8]:
    """Each region (K,4) of ``image`` resampled to ``size`` (h, w): (K, h, w, 3) uint8 BGR, black outside the
    image. A point (x, y) of the image is at ((x - x1) * w / (x2 - x1), (y - y1) * h / (y2 - y1)) in its crop."""
    h, w = size
    img = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    ih, iw = img.shape[:2]
    out = np.zeros((len(regions), h, w, 3), np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(regions, np.int64).reshape(-1, 4)):
        rw, rh = int(x2 - x1), int(y2 - y1)
        cx1, cy1, cx2, cy2 = max(int(x1), 0), max(int(y1), 0), min(int(x2), iw), min(int(y2), ih)
        if cx2 <= cx1 or cy2 <= cy1:
            continue  # wholly outside the image: stays black
        part = img[cy1:cy2, cx1:cx2]
        if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):  # partly outside: black border, same geometry
            part = cv2.copyMakeBorder(
                part, cy1 - int(y1), int(y2) - cy2, cx1 - int(x1), int(x2) - cx2, cv2.BORDER_CONSTANT, value=0
            )
        interp = cv2.INTER_AREA if rw > w or rh > h else cv2.INTER_LINEAR
        out[i] = cv2.resize(part, (w, h), interpolation=interp)
    return out


class CornerNet:
    """Corners of detected plates from a closer look.

    Args:
        path: an ONNX file written by ``python -m platewise.detection.corner_train`` (None = shipped).
        threads: ONNX Runtime intra-op threads (None = ``PLATEWISE_THREADS`` or min(2, cores)).
        batch_size: crops per ONNX Runtime call.
    """

    def __init__(self, path: str | Path | None = None, threads: int | None = None, batch_size: int = 64) -> None:
        path = DEFAULT_CORNER_NET if path is None else path
        self.model = load_model(path, kind="corners", name="corner network", threads=threads)
        meta = self.model.metadata
        self.size = (int(meta["input_size"][0]), int(meta["input_size"][1]))
        self.pad_x, self.pad_y = float(meta["pad"][0]), float(meta["pad"][1])
        self.iterations = max(1, int(meta.get("iterations", 1)))
        self.batch_size = max(1, int(batch_size))
        self.metadata = meta

    def predict(
        self, image: npt.NDArray[np.uint8], boxes: npt.NDArray[np.float32], iterations: int | None = None
    ) -> npt.NDArray[np.float32]:
        """Corners (K,4,2) TL, TR, BR, BL in image pixels of the plates in ``boxes`` (K,4) x1,y1,x2,y2 of
        ``image`` (BGR or grey uint8). With ``iterations`` > 1 (None = the file's metadata) each further pass
        looks again, around the bounding box of the previous pass's corners. Corners are clipped to the image."""
        return self.predict_many([image], [boxes], iterations)[0]

    def predict_many(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        boxes: Sequence[npt.NDArray[np.float32]],
        iterations: int | None = None,
    ) -> list[npt.NDArray[np.float32]]:
        """:meth:`predict` for several images at once: the crops of all of them go through the network together
        (fewer, fuller ONNX Runtime calls). One (K,4,2) array per image, in order."""
        if len(images) != len(boxes):
            raise ValueError(f"{len(images)} images but {len(boxes)} box arrays")
        per = [np.asarray(b, np.float32).reshape(-1, 4) for b in boxes]
        counts = [len(b) for b in per]
        split = np.cumsum(counts)[:-1]
        corners = [np.zeros((n, 4, 2), np.float32) for n in counts]
        if not sum(counts):
            return corners
        for it in range(self.iterations if iterations is None else max(1, int(iterations))):
            if it:
                per = [np.concatenate([c.min(1), c.max(1)], 1) for c in corners]
            regions = [corner_regions(b, self.pad_x, self.pad_y) for b in per]
            crops = np.concatenate([corner_crops(im, r, self.size) for im, r in zip(images, regions, strict=True)])
            uvs = np.split(self.model.run_crops(crops, self.batch_size).reshape(-1, 4, 2), split)
            for i, (im, r, uv) in enumerate(zip(images, regions, uvs, strict=True)):
                rf = r.astype(np.float32)
                lim = np.asarray([im.shape[1], im.shape[0]], np.float32)
                c = rf[:, None, :2] + uv * (rf[:, None, 2:] - rf[:, None, :2])
                corners[i] = np.clip(c, 0, lim).astype(np.float32)
        return corners
