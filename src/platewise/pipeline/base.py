"""The two swappable parts of the pipeline, as protocols. Any object with these methods works."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from platewise.types import Detection, PlateText

__all__ = ["Detector", "Recognizer"]


class Detector(Protocol):
    def detect(self, images: list[npt.NDArray[np.uint8]], rgb: bool = False) -> list[list[Detection]]:
        """Per image (HxWx3 uint8 BGR), the plates found, in original-image pixels."""
        ...


class Recognizer(Protocol):
    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of the crops ``read_prepared`` takes."""
        ...

    def read_prepared(self, batch: npt.NDArray[np.uint8]) -> list[PlateText]:
        """Reads an N x H x W x 3 uint8 BGR batch already at ``input_size``."""
        ...
