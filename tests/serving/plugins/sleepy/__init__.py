"""Test plug-in: sleeps a fixed time per batch (args ``sleep``, seconds) and returns the batch size it saw."""

import time

from platewise.serving.interface import ModelInterface


class Model(ModelInterface):
    """Reports its batch size."""

    input_kind = "tensor"
    input_shape = (-1,)
    input_dtype = "float32"

    def run_batch(self, inputs, args):
        time.sleep(max(float(a.get("sleep", "0.05")) for a in args))
        return [{"batch": len(inputs), "value": float(x[0])} for x in inputs]
