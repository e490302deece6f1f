"""Named detector variants: ``create_detector(name)`` -> an untrained :class:`PlateDetectorNet`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from platewise.detection.config import DetectorConfig
from platewise.errors import ModelNotFound

__all__ = ["VARIANTS", "create_detector", "detector_config"]

VARIANTS: dict[str, DetectorConfig] = {
    # for tests: a few thousand parameters, runs in milliseconds
    "detector_tiny": DetectorConfig(
        name="detector_tiny", width_mult=0.25, neck_channels=16, bifpn_repeats=1, head_convs=1, input_size=(128, 128)
    ),
    # the default: MobileNetV3-small-like at width 1.0, 48-channel BiFPN x2, one-conv shared head
    "detector_s": DetectorConfig(name="detector_s", neck_channels=48, bifpn_repeats=2, head_convs=1),
    # a wider variant for when accuracy matters more than speed
    "detector_m": DetectorConfig(name="detector_m", width_mult=1.5, neck_channels=96, bifpn_repeats=2, head_convs=2),
}


def detector_config(name: str, **overrides: Any) -> DetectorConfig:
    """The config of variant ``name`` with ``overrides`` applied.

    Raises:
        ModelNotFound: no such variant.
    """
    if name not in VARIANTS:
        raise ModelNotFound(f"no detector variant {name!r} (known: {', '.join(VARIANTS)})")
    return replace(VARIANTS[name], **overrides)


def create_detector(name: str = "detector_s", **overrides: Any) -> Any:
    """An untrained ``PlateDetectorNet`` of variant ``name`` (torch)."""
    from platewise.detection.net import PlateDetectorNet

    return PlateDetectorNet(detector_config(name, **overrides))
