"""The plate reader runtime: ONNX Runtime + numpy + OpenCV only (never torch).

    from platewise.ocr.reader import PlateReader
    reader = PlateReader()                      # the shipped weights/ocr.onnx
    texts = reader.read([crop1, crop2])         # list[PlateText]

Every preprocessing and decoding parameter (input size, mean/std, colour order, alphabet, head type) comes
from the ``platewise`` metadata of the ONNX file.

Tiny crops: any crop of at least 1x1 pixel is read (it is simply resized to the input size; a 1-pixel crop
gives an empty or meaningless low-confidence reading). Empty (0-pixel) crops, non-uint8 dtypes and wrong
shapes raise :class:`~platewise.errors.InvalidImage`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from platewise.errors import InvalidImage, ModelNotFound
from platewise.imageio import as_bgr
from platewise.ocr.decode import decode_ctc, decode_logits, fuse_ctc_views_many, softmax
from platewise.ocr.preprocess import cut_side_views, normalize_batch, resize_crop
from platewise.runtime.onnx import OnnxModel
from platewise.types import PlateText

__all__ = ["DEFAULT_MODEL", "PlateReader"]

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "weights" / "ocr.onnx"


class PlateReader:
    """Reads the text of plate crops with an exported reader network.

    Args:
        path: an ONNX file written by ``platewise export ocr``; None = the shipped ``weights/ocr.onnx``.
        threads: ONNX Runtime intra-op threads (None = ``PLATEWISE_THREADS`` or min(2, cores)).
        top_n: number of candidate readings per plate (0 = none).
        batch_size: crops per network call.
        tta: in :meth:`read`, a crop read with less confidence than ``tta_below`` is read again twice, with
            ``tta_shift`` of its width cut off its left and its right side, and the three views are fused
            (:func:`platewise.ocr.decode.fuse_ctc_views`: the candidate with the highest CTC probability averaged
            over them wins; its confidence is the mean of the views' confidences in it). Borders and the
            crop's edges then weigh less: a bolt or frame edge read as a character, a look-alike read one way
            in one view only. CTC readers only; :meth:`read_prepared` (the pipeline's call, which fuses its
            own views) never does it. Measured in ``OCR_MODEL_CARD.md`` ("Test-time views").
        tta_below: confidence under which a crop is read again (1.01: every crop).
        tta_shift: share of the crop's width cut off for each extra view.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        threads: int | None = None,
        top_n: int = 3,
        batch_size: int = 32,
        tta: bool = True,
        tta_below: float = 0.9,
        tta_shift: float = 0.03,
    ) -> None:
        self.model = OnnxModel(path or DEFAULT_MODEL, threads=threads)
        meta = self.model.metadata
        if meta.get("kind") != "ocr":
            raise ModelNotFound(
                f"{self.model.path} is not a platewise plate reader (metadata kind {meta.get('kind')!r})"
            )
        h, w = meta["input_size"]
        self.input_size: tuple[int, int] = (int(h), int(w))
        self.mean = tuple(float(v) for v in meta["mean"])
        self.std = tuple(float(v) for v in meta["std"])
        self.rgb_model = str(meta.get("color_order", "BGR")).upper() == "RGB"
        self.alphabet = str(meta["alphabet"])
        self.head = str(meta.get("head", "parallel"))
        self.top_n = int(top_n)
        self.batch_size = max(1, int(batch_size))
        if not 0.0 < tta_shift < 0.5:
            raise ValueError(f"tta_shift must be in (0, 0.5), got {tta_shift}")
        self.tta = bool(tta) and self.head == "ctc"
        self.tta_below = float(tta_below)
        self.tta_shift = float(tta_shift)
        self.last_reread = 0  # crops read again by the last read() call (tta)

    def read(self, crops: Sequence[npt.NDArray[np.uint8]], rgb: bool = False) -> list[PlateText]:
        """Reads plate crops of any size: gray (HxW), BGR (HxWx3; RGB with ``rgb=True``) or BGRA/RGBA, uint8.

        Raises:
            InvalidImage: a crop that is not a uint8 image, has a wrong shape, or is empty.
        """
        if isinstance(crops, np.ndarray):
            raise InvalidImage("read() takes a list of crops; for one crop use read([crop])")
        images = []
        for i, crop in enumerate(crops):
            try:
                images.append(as_bgr(crop, rgb=rgb))
            except InvalidImage as e:
                raise InvalidImage(f"crop {i}: {e}") from None
        self.last_reread = 0
        if not images:
            return []
        prepared = np.stack([resize_crop(img, self.input_size) for img in images])
        if not self.tta:
            return self.read_prepared(prepared)
        texts, probs = self.read_prepared_with_probs(prepared)
        again = [i for i, t in enumerate(texts) if t.confidence < self.tta_below and images[i].shape[1] >= 8]
        if not again:
            return texts
        self.last_reread = len(again)
        views = [v for i in again for v in cut_side_views(images[i], self.tta_shift, self.input_size)]
        vt, vp = self.read_prepared_with_probs(np.stack(views), top_n=max(3, self.top_n))  # fusion draws on them
        if self.top_n >= 3:  # the first view's candidates are there already
            first = [texts[i] for i in again]
        else:
            first = decode_ctc(np.log(np.maximum(probs[again], 1e-30)), self.alphabet, 3)
        groups = [
            ([first[k], vt[2 * k], vt[2 * k + 1]], np.stack([probs[i], vp[2 * k], vp[2 * k + 1]]), None)
            for k, i in enumerate(again)
        ]
        for i, (fused, _) in zip(again, fuse_ctc_views_many(groups, self.alphabet, max(1, self.top_n)), strict=True):
            texts[i] = fused if self.top_n > 0 else dataclasses.replace(fused, candidates=())
        return texts

    def read_prepared(self, batch: npt.NDArray[np.uint8]) -> list[PlateText]:
        """Reads (N, H, W, 3) uint8 BGR crops already at :attr:`input_size` (e.g. rectified by the pipeline)."""
        return self.read_prepared_with_probs(batch)[0]

    def read_prepared_with_probs(
        self, batch: npt.NDArray[np.uint8], top_n: int | None = None
    ) -> tuple[list[PlateText], npt.NDArray[np.float32]]:
        """As :meth:`read_prepared`, also returning the network's per-position class probabilities (N, T, C):
        per frame for a CTC head (class 0 = blank), per character position for a parallel head. ``top_n``:
        candidates per crop (None = the reader's)."""
        if not isinstance(batch, np.ndarray) or batch.dtype != np.uint8:
            raise InvalidImage(f"expected a uint8 numpy array, got {getattr(batch, 'dtype', type(batch).__name__)}")
        h, w = self.input_size
        if batch.ndim != 4 or batch.shape[1:] != (h, w, 3):
            raise InvalidImage(f"expected shape (N, {h}, {w}, 3), got {batch.shape}")
        if self.rgb_model:
            batch = batch[..., ::-1]
        out: list[PlateText] = []
        probs: list[npt.NDArray[np.float32]] = []
        for i in range(0, batch.shape[0], self.batch_size):
            x = normalize_batch(batch[i : i + self.batch_size], self.mean, self.std)
            (logits,) = self.model.run(x)
            out += decode_logits(logits, self.alphabet, self.head, self.top_n if top_n is None else top_n)
            probs.append(softmax(logits))
        if not probs:
            return [], np.zeros((0, 0, len(self.alphabet) + 1), np.float32)
        return out, np.concatenate(probs)

    def __repr__(self) -> str:
        return f"PlateReader({self.model.path.name}, input_size={self.input_size}, head={self.head})"
