"""Named reader architectures and the ``create_recognizer`` factory (``ocr_tiny`` exists for tests)."""

from __future__ import annotations

import dataclasses
from typing import Any

from platewise.errors import ModelNotFound
from platewise.ocr.config import OcrConfig

__all__ = ["MODELS", "create_recognizer", "list_recognizers", "recognizer_config"]

MODELS: dict[str, dict[str, Any]] = {
    # tests and CI only: builds and exports in well under a second
    "ocr_tiny": dict(
        img_height=16, img_width=64, patch_width=4, embed_dim=32, depth=1, heads=2, dec_depth=1, mae_dim=32
    ),
    "ocr_tiny_ctc": dict(
        img_height=16, img_width=80, patch_width=4, embed_dim=32, depth=1, heads=2, head="ctc", mae_dim=32
    ),
    "ocr_s": dict(img_height=48, img_width=144, patch_width=6, embed_dim=128, depth=4, heads=4, dec_depth=2),
    "ocr_s_ctc": dict(img_height=48, img_width=144, patch_width=6, embed_dim=128, depth=4, heads=4, head="ctc"),
    "ocr_m": dict(img_height=48, img_width=160, patch_width=4, embed_dim=160, depth=5, heads=4, dec_depth=2),
}


def list_recognizers() -> list[str]:
    return sorted(MODELS)


def recognizer_config(name: str, **overrides: Any) -> OcrConfig:
    """The :class:`OcrConfig` of a registered architecture, with field overrides (type-checked)."""
    from platewise.config import from_dict

    if name not in MODELS:
        raise ModelNotFound(f"unknown recognizer {name!r}; known: {', '.join(list_recognizers())}")
    fields = {f.name for f in dataclasses.fields(OcrConfig)}
    data = {"name": name, **MODELS[name], **{k: v for k, v in overrides.items() if k in fields}}
    unknown = set(overrides) - fields
    if unknown:
        from platewise.errors import ConfigError

        raise ConfigError(f"unknown OcrConfig field(s): {', '.join(sorted(unknown))}")
    return from_dict(OcrConfig, data)


def create_recognizer(name: str | OcrConfig, **overrides: Any) -> Any:
    """Builds a :class:`platewise.ocr.net.PlateOCR` from a registry name (or a config); needs torch."""
    from platewise.ocr.net import PlateOCR

    cfg = name if isinstance(name, OcrConfig) else recognizer_config(name, **overrides)
    return PlateOCR(cfg)
