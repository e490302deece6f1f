"""Checkpoints that carry what is needed to rebuild the model: ``{model, config, step, metrics, ...}``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["load_checkpoint", "save_checkpoint"]


def save_checkpoint(path: str | Path, **state: Any) -> Path:
    """Atomically writes ``state`` (weights as state dicts, config as a plain dict) with torch.save."""
    import torch

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, p)
    return p


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Loads a checkpoint written by :func:`save_checkpoint` onto the CPU."""
    import torch

    from platewise.errors import ModelNotFound

    p = Path(path)
    if not p.is_file():
        raise ModelNotFound(f"checkpoint {p} not found")
    return dict(torch.load(p, map_location="cpu", weights_only=False))
