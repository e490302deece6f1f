"""Test plug-in: answers the pid of the worker that ran it."""

import os

from platewise.serving.interface import ModelInterface


class Model(ModelInterface):
    """Worker pid."""

    def run(self, input, args):
        return os.getpid()
