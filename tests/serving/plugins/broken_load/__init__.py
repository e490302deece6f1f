"""Test plug-in whose load() fails (e.g. missing weights)."""

from platewise.serving.interface import ModelInterface


class Model(ModelInterface):
    def load(self, threads):
        raise FileNotFoundError("weights.onnx not found")

    def run(self, input, args):
        return {}
