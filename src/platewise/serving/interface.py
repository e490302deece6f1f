"""The model plug-in interface: what a folder under ``--models`` must define.

A plug-in is a folder with an ``__init__.py`` that defines ``Model``, a subclass of :class:`ModelInterface`::

    class Model(ModelInterface):
        input_kind = "image"                 # HxWx3 uint8 BGR, decoded by the server
        def load(self, threads):             # once per worker, before warm-up
            self.net = ...
        def run(self, input, args):          # one input -> JSON-ready object or ndarray
            return {"mean": float(input.mean())}

Optional: ``run_batch(inputs, args)`` (default loops over ``run``), ``warmup()`` (default runs one
dummy input), ``input_shape`` / ``input_dtype`` (for ``input_kind = "tensor"``), ``output_kind =
"tensor"`` for image-in/image-out models, ``max_batch`` to cap the server's batch size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

__all__ = ["Args", "ModelInterface", "ModelSpec"]

Args = Mapping[str, str]
"""Per-request string options (gRPC ``args`` map, HTTP query parameters)."""

InputKind = Literal["image", "tensor"]
OutputKind = Literal["json", "tensor"]


@dataclass(frozen=True)
class ModelSpec:
    """What a served model accepts and returns (the ``ModelInfo`` reply).

    Attributes:
        input_shape: expected shape with -1 for any size; empty tuple = any shape. For ``image`` models
            the server always hands over HxWx3 uint8 BGR.
    """

    name: str
    description: str
    input_kind: InputKind
    input_shape: tuple[int, ...]
    input_dtype: str
    output_kind: OutputKind
    max_batch: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "input_kind": self.input_kind,
            "input_shape": list(self.input_shape),
            "input_dtype": self.input_dtype,
            "output_kind": self.output_kind,
            "max_batch": self.max_batch,
        }


class ModelInterface:
    """Base class of every served model. Subclasses override ``run`` (and ideally ``run_batch``).

    Attributes:
        name: served name; defaults to the plug-in folder name.
        description: one line shown by ``ListModels`` and ``GET /v1/models``.
        input_kind: ``"image"`` (encoded bytes or HxWx3/HxW uint8 tensors, normalised to HxWx3 BGR) or
            ``"tensor"`` (any array matching ``input_shape`` / ``input_dtype``).
        output_kind: ``"json"`` (``run`` returns a JSON-ready object) or ``"tensor"`` (an ndarray).
        max_batch: most inputs this model takes in one ``run_batch`` call (0 = the server's setting).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    input_kind: ClassVar[InputKind] = "image"
    input_shape: ClassVar[tuple[int, ...]] = ()
    input_dtype: ClassVar[str] = "uint8"
    output_kind: ClassVar[OutputKind] = "json"
    max_batch: ClassVar[int] = 0

    def load(self, threads: int) -> None:
        """Loads weights; called once per worker. ``threads`` = intra-op threads to use (e.g. ORT)."""

    def warmup(self) -> None:
        """Runs one dummy input so the first real request is not slow. Readiness waits for this."""
        if self.input_kind == "image":
            dummy = np.zeros((64, 64, 3), np.uint8)
        else:
            shape = tuple(d if d > 0 else 8 for d in self.input_shape) or (8,)
            dummy = np.zeros(shape, np.dtype(self.input_dtype))
        self.run_batch([dummy], [{}])

    def run(self, input: np.ndarray, args: Args) -> Any:  # noqa: A002 - the name the issue gives it
        """One input -> a JSON-ready object (``output_kind="json"``) or an ndarray (``"tensor"``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement run() or run_batch()")

    def run_batch(self, inputs: Sequence[np.ndarray], args: Sequence[Args]) -> list[Any]:
        """Several inputs (one ``args`` each) -> one output each, in order. Default: loops over ``run``."""
        return [self.run(x, a) for x, a in zip(inputs, args, strict=False)]

    def spec(self, name: str, server_max_batch: int) -> ModelSpec:
        mb = min(self.max_batch, server_max_batch) if self.max_batch > 0 else server_max_batch
        return ModelSpec(
            name=name,
            description=self.description or (type(self).__doc__ or "").strip().split("\n")[0],
            input_kind=self.input_kind,
            input_shape=tuple(self.input_shape),
            input_dtype="uint8" if self.input_kind == "image" else self.input_dtype,
            output_kind=self.output_kind,
            max_batch=mb,
        )
