"""Shared argument checks of the ``platewise synth`` commands."""

from __future__ import annotations

import os
from pathlib import Path

from platewise.errors import InvalidInput

__all__ = ["check_count", "check_strength", "prepare_out_dir"]


def check_count(n: int) -> int:
    if n <= 0:
        raise InvalidInput(f"--n must be a positive number of images, got {n}")
    return n


def check_strength(x: float) -> float:
    if not 0.0 <= x <= 1.0:
        raise InvalidInput(f"--strength must be between 0 and 1, got {x}")
    return x


def prepare_out_dir(out: str | Path) -> Path:
    """Create ``out/images``; raise InvalidInput with a hint when ``out`` cannot be written."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InvalidInput(f"--out {p} exists and is not a directory; give a directory path")
    try:
        (p / "images").mkdir(parents=True, exist_ok=True)
        probe = p / ".platewise-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise InvalidInput(f"cannot write to --out {p} ({e.strerror or e}); choose a writable directory") from None
    if not os.access(p / "images", os.W_OK):
        raise InvalidInput(f"cannot write to {p / 'images'}; choose a writable directory")
    return p
