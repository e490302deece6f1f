"""Built-in plug-in ``alpr``: the plate reader. One image in -> its plates (JSON: ``PlateRead.to_dict()``).

``run`` returns a list of :class:`~platewise.types.PlateRead`; the server sends each as its ``to_dict()``
and, with ``--store-db``, logs them to the reads store (``source`` = the request's ``source`` arg).

Per-request args: ``region`` (bias readings toward a region's formats, e.g. ``eu``, ``us``, ``br``) and
``zone`` (read only the plates in this part of the image: ``"x,y x,y ..."``, 2 points a rectangle, 3 or more a
polygon, in pixels or as fractions 0-1; see :mod:`platewise.detection.zone`). A zone that cannot be read, or
lies outside its image, fails that request alone with a message saying what to write.
The pipeline is imported when the plug-in loads, so a build without the reader's weights reports this
plug-in as broken and the other models still serve.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from platewise.serving.interface import Args, ModelInterface


class Model(ModelInterface):
    """License plate reader: detect, straighten and read every plate of an image."""

    name = "alpr"
    input_kind = "image"
    output_kind = "json"

    def load(self, threads: int) -> None:
        from platewise.pipeline import ALPR

        self.alpr = ALPR(region=None, top_n=3, threads=threads)

    def run(self, input: np.ndarray, args: Args) -> Any:  # noqa: A002
        return self.run_batch([input], [args])[0]

    def run_batch(self, inputs: Sequence[np.ndarray], args: Sequence[Args]) -> list[Any]:
        # one pipeline call per distinct region, so a batch mixing regions still reads each correctly
        out: list[Any] = [None] * len(inputs)
        groups: dict[str | None, list[int]] = {}
        for i, a in enumerate(args):
            groups.setdefault(a.get("region") or None, []).append(i)
        for region, idx in groups.items():
            self.alpr.region = region  # the runner thread is the only user of this pipeline
            zones = [args[i].get("zone") or None for i in idx]
            reads = self.alpr.read_batch([inputs[i] for i in idx], zones=zones)
            for i, plates in zip(idx, reads, strict=False):
                out[i] = list(plates)
        return out
