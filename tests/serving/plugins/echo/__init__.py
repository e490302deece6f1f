"""Test plug-in: image in, JSON out: the shape it saw and the sum of its pixels."""

from platewise.serving.interface import ModelInterface


class Model(ModelInterface):
    """Echoes what it was given."""

    def run(self, input, args):
        return {"shape": list(input.shape), "sum": int(input.sum()), "args": dict(args)}
