"""``ModelClient`` / ``AsyncModelClient``: call a platewise server over gRPC in one line.

    >>> from platewise.client import ModelClient
    >>> with ModelClient("alpr", "localhost", 50051) as c:           # doctest: +SKIP
    ...     plates = c.run(cv2.imread("car.jpg"))                    # raw tensor, no JPEG round trip
    ...     many = c.run_batch([open("a.jpg", "rb").read(), img2])    # encoded bytes work too

The client connects with retries until ``connect_timeout`` (the server may start after the app), asks each
connection which worker answered (pid, worker count) and keeps opening connections until it has one per
worker, since the kernel balances connections across SO_REUSEPORT workers, not calls. Calls are then spread
by ``policy``: ``round_robin`` (default), ``random`` or ``least_outstanding``. A call refused as busy
(RESOURCE_EXHAUSTED) or unavailable is retried on another worker with backoff until ``timeout``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from platewise.errors import InvalidImage, InvalidInput, ModelNotFound, PlatewiseError, ServerBusy
from platewise.serving.proto import platewise_pb2 as pb
from platewise.serving.proto import platewise_pb2_grpc as pb_grpc

__all__ = ["POLICIES", "AsyncModelClient", "ModelClient", "RemoteError"]

POLICIES = ("round_robin", "random", "least_outstanding")
_RETRYABLE = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)
_DTYPES = ("uint8", "int8", "uint16", "int16", "int32", "int64", "float16", "float32", "float64", "bool")

ImageLike = Any
"""An ndarray (sent as a raw tensor), encoded image ``bytes`` (JPEG/PNG...), or a ``Path`` to an image file."""


class RemoteError(PlatewiseError):
    """The server answered with an error status (``code`` is the ``grpc.StatusCode``)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code


def _map_error(e: grpc.RpcError) -> Exception:
    code, msg = e.code(), e.details() or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidInput(msg)
    if code == grpc.StatusCode.NOT_FOUND:
        return ModelNotFound(msg)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ServerBusy(msg)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return TimeoutError(msg or "deadline exceeded")
    return RemoteError(code, msg)


def to_input(image: ImageLike) -> pb.Input:
    """Client-side validation and packing: bad images are refused before they travel."""
    if isinstance(image, Path):
        image = image.read_bytes()
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        if not data:
            raise InvalidImage("empty image bytes")
        return pb.Input(encoded=data)
    if isinstance(image, np.ndarray):
        if image.dtype.name not in _DTYPES:
            raise InvalidImage(f"dtype {image.dtype} cannot be sent; use one of {', '.join(_DTYPES)}")
        if image.size == 0 or image.ndim == 0:
            raise InvalidImage(f"empty array of shape {image.shape}")
        arr = np.ascontiguousarray(image)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        return pb.Input(tensor=pb.Tensor(data=arr.tobytes(), shape=list(arr.shape), dtype=arr.dtype.name))
    raise InvalidImage(f"expected an ndarray, image bytes or a Path, got {type(image).__name__}")


def from_output(out: pb.Output) -> Any:
    """A reply output -> the JSON value, or an ndarray for tensor outputs."""
    if out.WhichOneof("kind") == "tensor":
        t = out.tensor
        return np.frombuffer(t.data, dtype=np.dtype(t.dtype)).reshape(tuple(t.shape))
    return json.loads(out.json)


@dataclass
class _Endpoint:
    channel: Any
    stub: pb_grpc.ModelServerStub
    pid: int
    outstanding: int = 0


class _ClientBase:
    def __init__(
        self,
        model: str,
        host: str = "localhost",
        port: int = 50051,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 30.0,
        policy: str = "round_robin",
        tls: bool = False,
        root_cert: str | Path | None = None,
        server_name: str | None = None,
        token: str | None = None,
        max_message_mb: float = 32.0,
        discover_workers: bool = True,
    ) -> None:
        if policy not in POLICIES:
            raise InvalidInput(f"policy {policy!r} is not one of {', '.join(POLICIES)}")
        self.model = model
        self.target = f"{host}:{port}"
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.policy = policy
        self.discover_workers = discover_workers
        self.metadata = (("authorization", f"Bearer {token}"),) if token else None
        n = int(max_message_mb * 1024 * 1024) + 64 * 1024
        self.options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", n),
            ("grpc.max_send_message_length", n),
            ("grpc.use_local_subchannel_pool", 1),  # one TCP connection per channel: reaches other workers
            ("grpc.keepalive_time_ms", 30_000),
        ]
        if server_name:
            self.options.append(("grpc.ssl_target_name_override", server_name))
        self.creds = None
        if tls or root_cert:
            roots = Path(root_cert).read_bytes() if root_cert else None
            self.creds = grpc.ssl_channel_credentials(root_certificates=roots)
        self.endpoints: list[_Endpoint] = []
        self.worker_count = 0
        self._rr = itertools.count()
        self._lock = threading.Lock()

    def _pick(self, exclude: _Endpoint | None = None) -> _Endpoint:
        eps = [e for e in self.endpoints if e is not exclude] or self.endpoints
        if self.policy == "random":
            return random.choice(eps)
        if self.policy == "least_outstanding":
            low = min(e.outstanding for e in eps)
            eps = [e for e in eps if e.outstanding == low]  # ties go round-robin
        return eps[next(self._rr) % len(eps)]

    @property
    def pids(self) -> list[int]:
        return [e.pid for e in self.endpoints]

    def _batch_request(self, images: Sequence[ImageLike], args: dict[str, Any]) -> pb.RunBatchRequest:
        return pb.RunBatchRequest(
            model=self.model, inputs=[to_input(i) for i in images], args={k: str(v) for k, v in args.items()}
        )

    def _request(self, image: ImageLike, args: dict[str, Any]) -> pb.RunRequest:
        return pb.RunRequest(model=self.model, input=to_input(image), args={k: str(v) for k, v in args.items()})


class ModelClient(_ClientBase):
    """Blocking client for one model; thread-safe. See the module docstring for the arguments' meaning."""

    def _channel(self) -> Any:
        if self.creds is not None:
            return grpc.secure_channel(self.target, self.creds, options=self.options)
        return grpc.insecure_channel(self.target, options=self.options)

    def connect(self) -> ModelClient:
        """Opens one channel per worker; retries until ``connect_timeout``. Called by the first request."""
        deadline = time.monotonic() + self.connect_timeout
        delay = 0.05
        attempts = 0
        while True:
            ch = self._channel()
            stub = pb_grpc.ModelServerStub(ch)  # type: ignore[no-untyped-call]
            try:
                info = stub.GetWorkerInfo(pb.WorkerInfoRequest(), timeout=2.0, metadata=self.metadata)
            except grpc.RpcError as e:
                ch.close()
                if e.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    if self.endpoints:
                        break
                    raise _map_error(e) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            attempts += 1
            self.worker_count = info.worker_count
            if info.pid in self.pids:
                ch.close()
            else:
                self.endpoints.append(_Endpoint(ch, stub, info.pid))
            if not self.discover_workers or len(self.endpoints) >= info.worker_count:
                break
            if attempts > 8 * info.worker_count + 8 or time.monotonic() > deadline:
                break  # the kernel's hashing never reached some worker: use the ones we have
        return self

    def _call(self, method: str, request: Any) -> Any:
        if not self.endpoints:
            with self._lock:
                if not self.endpoints:
                    self.connect()
        deadline = time.monotonic() + self.timeout
        delay, ep = 0.01, None
        while True:
            with self._lock:
                ep = self._pick(exclude=ep)
                ep.outstanding += 1
            try:
                left = max(0.001, deadline - time.monotonic())
                return getattr(ep.stub, method)(request, timeout=left, metadata=self.metadata)
            except grpc.RpcError as e:
                if e.code() not in _RETRYABLE or time.monotonic() + delay >= deadline:
                    raise _map_error(e) from None
            finally:
                with self._lock:
                    ep.outstanding -= 1
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)

    def run(self, image: ImageLike, **args: Any) -> Any:
        """One input -> the model's output (JSON value, or ndarray for image-out models)."""
        return from_output(self._call("Run", self._request(image, args)).output)

    def run_batch(self, images: Sequence[ImageLike], **args: Any) -> list[Any]:
        """Several inputs in one call -> one output each."""
        return [from_output(o) for o in self._call("RunBatch", self._batch_request(images, args)).outputs]

    def run_image(self, image: ImageLike, **args: Any) -> np.ndarray:
        """Image in, image out (models with ``output_kind = "tensor"``)."""
        return from_output(self._call("RunImage", self._request(image, args)).output)  # type: ignore[no-any-return]

    def models(self) -> dict[str, Any]:
        """``{"models": [ModelInfo dicts], "broken": {name: reason}}``."""
        from google.protobuf.json_format import MessageToDict

        r = self._call("ListModels", pb.ListModelsRequest())
        return {
            "models": [MessageToDict(m, preserving_proto_field_name=True) for m in r.models],
            "broken": {b.name: b.error for b in r.broken},
        }

    def worker_info(self) -> list[dict[str, Any]]:
        """Worker info from every connected worker."""
        from google.protobuf.json_format import MessageToDict

        if not self.endpoints:
            self.connect()
        return [
            MessageToDict(
                e.stub.GetWorkerInfo(pb.WorkerInfoRequest(), timeout=self.timeout, metadata=self.metadata),
                preserving_proto_field_name=True,
                always_print_fields_with_no_presence=True,
            )
            for e in self.endpoints
        ]

    def close(self) -> None:
        for e in self.endpoints:
            e.channel.close()
        self.endpoints = []

    def __enter__(self) -> ModelClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncModelClient(_ClientBase):
    """asyncio client (grpc.aio); same arguments and behaviour as :class:`ModelClient`."""

    def _channel(self) -> Any:
        if self.creds is not None:
            return grpc.aio.secure_channel(self.target, self.creds, options=self.options)
        return grpc.aio.insecure_channel(self.target, options=self.options)

    async def connect(self) -> AsyncModelClient:
        deadline = time.monotonic() + self.connect_timeout
        delay, attempts = 0.05, 0
        while True:
            ch = self._channel()
            stub = pb_grpc.ModelServerStub(ch)  # type: ignore[no-untyped-call]
            try:
                info = await stub.GetWorkerInfo(pb.WorkerInfoRequest(), timeout=2.0, metadata=self.metadata)
            except grpc.RpcError as e:
                await ch.close()
                if e.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    if self.endpoints:
                        break
                    raise _map_error(e) from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            attempts += 1
            self.worker_count = info.worker_count
            if info.pid in self.pids:
                await ch.close()
            else:
                self.endpoints.append(_Endpoint(ch, stub, info.pid))
            if not self.discover_workers or len(self.endpoints) >= info.worker_count:
                break
            if attempts > 8 * info.worker_count + 8 or time.monotonic() > deadline:
                break
        return self

    async def _call(self, method: str, request: Any) -> Any:
        if not self.endpoints:
            await self.connect()
        deadline = time.monotonic() + self.timeout
        delay, ep = 0.01, None
        while True:
            ep = self._pick(exclude=ep)
            ep.outstanding += 1
            try:
                left = max(0.001, deadline - time.monotonic())
                return await getattr(ep.stub, method)(request, timeout=left, metadata=self.metadata)
            except grpc.RpcError as e:
                if e.code() not in _RETRYABLE or time.monotonic() + delay >= deadline:
                    raise _map_error(e) from None
            finally:
                ep.outstanding -= 1
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)

    async def run(self, image: ImageLike, **args: Any) -> Any:
        return from_output((await self._call("Run", self._request(image, args))).output)

    async def run_batch(self, images: Sequence[ImageLike], **args: Any) -> list[Any]:
        return [from_output(o) for o in (await self._call("RunBatch", self._batch_request(images, args))).outputs]

    async def run_image(self, image: ImageLike, **args: Any) -> np.ndarray:
        return from_output((await self._call("RunImage", self._request(image, args))).output)  # type: ignore[no-any-return]

    async def close(self) -> None:
        for e in self.endpoints:
            await e.channel.close()
        self.endpoints = []

    async def __aenter__(self) -> AsyncModelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
