"""Weight averaging of reader checkpoints: :mod:`platewise.training.soup` (kept here for the commands in the
reader's model card: ``python -m platewise.ocr.soup a.pt b.pt --out soup.pt``)."""

from __future__ import annotations

import sys

from platewise.training.soup import average_checkpoints, main

__all__ = ["average_checkpoints", "main"]

if __name__ == "__main__":
    sys.exit(main())
