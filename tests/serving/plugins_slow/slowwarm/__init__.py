"""Test plug-in whose warm-up takes 3 s: readiness must wait for it."""

import time

from platewise.serving.interface import ModelInterface


class Model(ModelInterface):
    """Slow to warm up."""

    def warmup(self):
        time.sleep(3)

    def run(self, input, args):
        return {}
