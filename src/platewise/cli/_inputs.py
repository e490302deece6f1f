"""Parsing CLI inputs: the PATH arguments (files, directories (recursive), globs, and ``-`` for stdin) and
the ``--verifier`` and ``--corner-net`` options."""

from __future__ import annotations

import glob
from pathlib import Path

from platewise.errors import InvalidInput
from platewise.imageio import IMAGE_EXTENSIONS

__all__ = ["STDIN", "expand_paths", "on_off_or_file"]

STDIN = "-"


def on_off_or_file(value: str) -> str | bool:
    """``--verifier on|off|FILE`` or ``--corner-net on|off|FILE`` as ``PlateDetector(verifier=...,
    corner_net=...)`` takes it: True, False or the file."""
    return {"on": True, "off": False}.get(value, value)


def detector_companions(verifier: str | None, corner_net: str | None) -> dict[str, str | bool]:
    """``ALPR(detector_verifier=, detector_corner_net=)`` keyword arguments for ``--verifier`` and
    ``--corner-net`` (each on, off, a file or None: the pipeline's default, left out)."""
    out: dict[str, str | bool] = {}
    if verifier is not None:
        out["detector_verifier"] = on_off_or_file(verifier)
    if corner_net is not None:
        out["detector_corner_net"] = on_off_or_file(corner_net)
    return out


def expand_paths(args: list[str]) -> list[str]:
    """The image files named by ``args``, in order, without duplicates.

    A directory gives its image files (by extension, recursively, sorted); a glob its matches; ``-`` stays
    ``-`` (read one image from stdin). A named file is kept whatever its extension (it is reported later if it
    is not an image).

    Raises:
        InvalidInput: an argument that names nothing.
    """
    out: list[str] = []
    for a in args:
        if a == STDIN:
            out.append(a)
            continue
        p = Path(a)
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*") if f.suffix.lower() in IMAGE_EXTENSIONS and f.is_file())
            out.extend(found)
        elif p.exists():
            out.append(a)
        elif glob.has_magic(a):
            matches = sorted(m for m in glob.glob(a, recursive=True) if Path(m).is_file())
            if not matches:
                raise InvalidInput(f"no file matches {a!r}")
            out.extend(matches)
        else:
            raise InvalidInput(f"{a}: no such file or directory")
    return list(dict.fromkeys(out))
