"""platewise: find, straighten and read license plates; serve and search the reads.

The public API is re-exported here lazily so that ``import platewise`` stays cheap and never imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ALPR": "platewise.pipeline.alpr",
    "PlateDetector": "platewise.detection.detector",
    "PlateReader": "platewise.ocr.reader",
    "Zone": "platewise.detection.zone",
    "BBox": "platewise.types",
    "Corners": "platewise.types",
    "Detection": "platewise.types",
    "PlateRead": "platewise.types",
    "PlateText": "platewise.types",
    "PlatewiseError": "platewise.errors",
    "InvalidImage": "platewise.errors",
    "InvalidInput": "platewise.errors",
    "ModelNotFound": "platewise.errors",
    "ConfigError": "platewise.errors",
    "ServerBusy": "platewise.errors",
    "StoreError": "platewise.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from platewise.detection.detector import PlateDetector  # noqa: F401
    from platewise.detection.zone import Zone  # noqa: F401
    from platewise.errors import (  # noqa: F401
        ConfigError,
        InvalidImage,
        InvalidInput,
        ModelNotFound,
        PlatewiseError,
        ServerBusy,
        StoreError,
    )
    from platewise.ocr.reader import PlateReader  # noqa: F401
    from platewise.pipeline.alpr import ALPR  # noqa: F401
    from platewise.types import BBox, Corners, Detection, PlateRead, PlateText  # noqa: F401


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'platewise' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(mod), name)
