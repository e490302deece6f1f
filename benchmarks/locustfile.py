"""Locust load test for the platewise model server: an HTTP user and a gRPC user.

Locust is not a platewise dependency (install it yourself: ``pip install locust``); it was not installed
in the environment where platewise was built, so this file has not been run there. Usage, with a server
running (``platewise serve --models benchmarks/models --no-builtin-models``):

    locust -f benchmarks/locustfile.py --headless -u 32 -r 8 -t 60s --host http://127.0.0.1:8080
    PLATEWISE_GRPC=127.0.0.1:50051 locust -f benchmarks/locustfile.py GrpcUser --headless -u 32 -r 8 -t 60s

Environment: ``PLATEWISE_MODEL`` (default ``standin``), ``PLATEWISE_IMAGE`` (a JPEG/PNG to send; default a
random 224x224 raw tensor), ``PLATEWISE_GRPC`` (host:port for the gRPC user), ``PLATEWISE_TOKEN``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from locust import HttpUser, User, between, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

try:  # locust runs users as gevent greenlets: make grpc cooperate with them
    from grpc.experimental import gevent as grpc_gevent

    grpc_gevent.init_gevent()
except ImportError:  # pragma: no cover
    pass

MODEL = os.environ.get("PLATEWISE_MODEL", "standin")
TOKEN = os.environ.get("PLATEWISE_TOKEN", "")
IMAGE_PATH = os.environ.get("PLATEWISE_IMAGE", "")
RAW = np.random.default_rng(0).integers(0, 255, (224, 224, 3), dtype=np.uint8)


def _body() -> tuple[bytes, dict[str, str]]:
    headers = {"authorization": f"Bearer {TOKEN}"} if TOKEN else {}
    if IMAGE_PATH:
        return Path(IMAGE_PATH).read_bytes(), {**headers, "content-type": "image/jpeg"}
    return RAW.tobytes(), {**headers, "content-type": "application/octet-stream", "x-shape": "224,224,3"}


class HttpPredictUser(HttpUser):
    """POSTs one image per request to /v1/models/{model}/predict; a 503 counts as a failure."""

    wait_time = between(0, 0)

    def on_start(self) -> None:
        self.body, self.headers = _body()

    @task
    def predict(self) -> None:
        self.client.post(f"/v1/models/{MODEL}/predict", data=self.body, headers=self.headers, name="predict")


class GrpcUser(User):
    """Calls ModelServer.Run through platewise's ModelClient (one channel per worker, round-robin)."""

    wait_time = between(0, 0)

    def on_start(self) -> None:
        from platewise.client import ModelClient

        host, _, port = os.environ.get("PLATEWISE_GRPC", "127.0.0.1:50051").rpartition(":")
        self.client = ModelClient(MODEL, host, int(port), token=TOKEN or None, timeout=30)
        self.payload = Path(IMAGE_PATH).read_bytes() if IMAGE_PATH else RAW

    def on_stop(self) -> None:
        self.client.close()

    @task
    def run(self) -> None:
        t0 = time.perf_counter()
        exc = None
        try:
            self.client.run(self.payload)
        except Exception as e:  # reported to locust as a failure
            exc = e
        self.environment.events.request.fire(
            request_type="grpc",
            name="Run",
            response_time=(time.perf_counter() - t0) * 1e3,
            response_length=0,
            exception=exc,
            context={},
        )
