"""Benchmark model that does nothing: its server CPU per request is the server's own overhead."""

from __future__ import annotations

from platewise.serving.interface import ModelInterface


class Model(ModelInterface):
    """Returns an empty JSON object for every input."""

    name = "null"
    input_kind = "image"

    def run_batch(self, inputs, args):
        return [{} for _ in inputs]
