"""Fixed, hash-based hold-out splits: the same file is always on the same side, on every machine."""

from __future__ import annotations

import hashlib
import re

__all__ = ["hash_fraction", "is_holdout", "split_of"]

_FOLDER_SPLIT = re.compile(r"(?:^|/)(val|valid|validation|test)(?:/|$)")
_TRAIN_FOLDER = re.compile(r"(?:^|/)train(?:/|$)")


def hash_fraction(key: str, salt: str) -> float:
    """A fixed number in [0, 1) for ``key``: a SHA-1 hash of ``salt + key``. ``hash_fraction(k, s) < f`` puts
    a share ``f`` of the keys on one side of a split, the same on every machine."""
    h = int.from_bytes(hashlib.sha1((salt + key).encode("utf-8")).digest()[:8], "big")
    return h / 2**64


def is_holdout(key: str, fraction: float = 0.2, salt: str = "platewise-v1") -> bool:
    """True when ``key`` (a relative image path) falls in the hold-out.

    Folders named ``val``/``valid``/``test`` are always held out and ``train`` folders never are (the data
    sets that ship such folders keep their own split); other keys go by a SHA-1 hash of ``salt + key``.
    """
    if _FOLDER_SPLIT.search(key):
        return True
    if _TRAIN_FOLDER.search(key):
        return False
    return hash_fraction(key, salt) < fraction


def split_of(key: str, fraction: float = 0.2) -> str:
    """``"val"`` or ``"train"``."""
    return "val" if is_holdout(key, fraction) else "train"
