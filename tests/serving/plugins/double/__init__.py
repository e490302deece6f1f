"""Test plug-in: tensor in, tensor out (x * 2, float32 of shape (-1, 2))."""

from platewise.serving.interface import ModelInterface


class Model(ModelInterface):
    """Doubles a float32 (N, 2) array."""

    name = "twice"
    input_kind = "tensor"
    input_shape = (-1, 2)
    input_dtype = "float32"
    output_kind = "tensor"

    def run(self, input, args):
        return input * 2
