"""Test plug-in: raises on inputs whose first pixel is 255, answers otherwise (per-item failure isolation)."""

from platewise.serving.interface import ModelInterface


class Model(ModelInterface):
    """Fails on purpose."""

    def run(self, input, args):
        if input.flat[0] == 255:
            raise RuntimeError("boom")
        return {"ok": True}
