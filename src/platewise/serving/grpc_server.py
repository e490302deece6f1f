"""The gRPC adapter: ``platewise.v1.ModelServer`` + the standard ``grpc.health.v1`` service (grpc.aio).

Error mapping: bad input -> INVALID_ARGUMENT, unknown model -> NOT_FOUND, full queue -> RESOURCE_EXHAUSTED
(with ``retry-after`` trailing metadata), deadline passed in the queue -> DEADLINE_EXCEEDED, bad token ->
UNAUTHENTICATED, model crash -> INTERNAL. The worker keeps serving after each of them.

Message size limits are set on purpose: gRPC's 4 MiB default refuses a raw 1080p frame (1920x1080x3 =
5.9 MiB); we accept up to ``max_request_mb`` (default 32 MiB, enough for a raw 4K frame) and send up to
the same.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from platewise.errors import InvalidImage, InvalidInput, ModelNotFound, ServerBusy
from platewise.serving.batching import DeadlineExceeded
from platewise.serving.codec import to_json_text
from platewise.serving.config import ServeConfig
from platewise.serving.host import ModelHost
from platewise.serving.interface import ModelSpec
from platewise.serving.proto import platewise_pb2 as pb
from platewise.serving.proto import platewise_pb2_grpc as pb_grpc

__all__ = ["SERVICE_NAME", "build_grpc_server", "grpc_options", "output_to_proto", "set_serving"]

log = logging.getLogger("platewise.serving")

SERVICE_NAME = "platewise.v1.ModelServer"


def grpc_options(max_bytes: int) -> list[tuple[str, Any]]:
    """Channel/server options shared by server and client: message limits, keepalive, SO_REUSEPORT."""
    return [
        ("grpc.max_receive_message_length", max_bytes),
        ("grpc.max_send_message_length", max_bytes),
        ("grpc.so_reuseport", 1),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ]


def output_to_proto(value: Any) -> pb.Output:
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        return pb.Output(tensor=pb.Tensor(data=arr.tobytes(), shape=list(arr.shape), dtype=arr.dtype.name))
    return pb.Output(json=to_json_text(value))


async def _decode(inp: pb.Input, host: ModelHost, spec: ModelSpec) -> np.ndarray:
    kind = inp.WhichOneof("kind")
    if kind == "encoded":
        return await host.decode(spec, encoded=inp.encoded)
    if kind == "tensor":
        t = inp.tensor
        return await host.decode(spec, tensor=(t.data, list(t.shape), t.dtype))
    raise InvalidInput("input is empty: set `encoded` (image bytes) or `tensor`")


class _Servicer(pb_grpc.ModelServerServicer):
    def __init__(self, host: ModelHost) -> None:
        self.host = host

    async def _call(self, name: str, context: grpc.aio.ServicerContext, work: Callable[[], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        code = "ok"
        try:
            return await work()
        except (InvalidImage, InvalidInput) as e:
            code = "invalid"
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        except ModelNotFound as e:
            code = "not_found"
            await context.abort(grpc.StatusCode.NOT_FOUND, str(e))
        except ServerBusy as e:
            code = "busy"
            context.set_trailing_metadata((("retry-after", f"{e.retry_after:g}"),))
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(e))
        except DeadlineExceeded as e:
            code = "deadline"
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(e))
        except asyncio.CancelledError:  # the client cancelled or its deadline passed: the batcher dropped it
            code = "cancelled"
            raise
        except Exception as e:
            if isinstance(e, grpc.aio.AbortError):
                raise
            code = "error"
            log.exception("model %s failed", name)
            await context.abort(grpc.StatusCode.INTERNAL, f"model {name} failed: {type(e).__name__}: {e}")
        finally:
            self.host.observe(name, "grpc", code, started)

    def _timeout(self, context: grpc.aio.ServicerContext) -> float | None:
        left = context.time_remaining()
        return None if left is None else float(left)

    async def Run(  # noqa: N802 - gRPC method name
        self, request: pb.RunRequest, context: grpc.aio.ServicerContext
    ) -> pb.RunReply:
        async def work() -> pb.RunReply:
            spec = self.host.admit(request.model).spec
            x = await _decode(request.input, self.host, spec)
            (out,) = await self.host.predict(request.model, [x], dict(request.args), timeout=self._timeout(context))
            return pb.RunReply(output=output_to_proto(out), worker_pid=self.host.pid)

        return await self._call(request.model, context, work)  # type: ignore[no-any-return]

    async def RunImage(  # noqa: N802 - gRPC method name
        self, request: pb.RunRequest, context: grpc.aio.ServicerContext
    ) -> pb.RunReply:
        async def work() -> pb.RunReply:
            if self.host.get(request.model).spec.output_kind != "tensor":
                raise InvalidInput(f"model {request.model} does not return an image; use Run")
            spec = self.host.admit(request.model).spec
            x = await _decode(request.input, self.host, spec)
            (out,) = await self.host.predict(request.model, [x], dict(request.args), timeout=self._timeout(context))
            return pb.RunReply(output=output_to_proto(out), worker_pid=self.host.pid)

        return await self._call(request.model, context, work)  # type: ignore[no-any-return]

    async def RunBatch(  # noqa: N802 - gRPC method name
        self, request: pb.RunBatchRequest, context: grpc.aio.ServicerContext
    ) -> pb.RunBatchReply:
        async def work() -> pb.RunBatchReply:
            if len(request.inputs) > self.host.limits.max_inputs:
                raise InvalidInput(f"{len(request.inputs)} inputs is over the limit of {self.host.limits.max_inputs}")
            spec = self.host.admit(request.model, max(1, len(request.inputs))).spec
            xs = []
            for i, inp in enumerate(request.inputs):
                try:
                    xs.append(await _decode(inp, self.host, spec))
                except (InvalidImage, InvalidInput) as e:
                    raise type(e)(f"input {i}: {e}") from None
            outs = await self.host.predict(request.model, xs, dict(request.args), timeout=self._timeout(context))
            return pb.RunBatchReply(outputs=[output_to_proto(o) for o in outs], worker_pid=self.host.pid)

        return await self._call(request.model, context, work)  # type: ignore[no-any-return]

    async def ListModels(  # noqa: N802 - gRPC method name
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsReply:
        return pb.ListModelsReply(
            models=[spec_to_proto(s) for s in self.host.specs()],
            broken=[pb.BrokenModel(name=k, error=v) for k, v in sorted(self.host.broken.items())],
        )

    async def GetModelInfo(  # noqa: N802 - gRPC method name
        self, request: pb.ModelInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelInfo:
        try:
            return spec_to_proto(self.host.get(request.model).spec)
        except ModelNotFound as e:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(e))
            raise  # unreachable

    async def GetWorkerInfo(  # noqa: N802 - gRPC method name
        self, request: pb.WorkerInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.WorkerInfoReply:
        return pb.WorkerInfoReply(**self.host.worker_info())


_METHODS: dict[str, tuple[Any, Any]] = {
    "Run": (pb.RunRequest, pb.RunReply),
    "RunBatch": (pb.RunBatchRequest, pb.RunBatchReply),
    "RunImage": (pb.RunRequest, pb.RunReply),
    "ListModels": (pb.ListModelsRequest, pb.ListModelsReply),
    "GetModelInfo": (pb.ModelInfoRequest, pb.ModelInfo),
    "GetWorkerInfo": (pb.WorkerInfoRequest, pb.WorkerInfoReply),
}


def _handlers(servicer: _Servicer) -> grpc.GenericRpcHandler:
    """Like the generated ``add_ModelServerServicer_to_server``, but parses requests itself so that a
    malformed protobuf answers INVALID_ARGUMENT (grpc's own deserializer would answer UNKNOWN)."""

    def wrap(method: Callable[..., Awaitable[Any]], req_type: Any) -> Callable[..., Awaitable[Any]]:
        async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            try:
                request = req_type.FromString(raw)
            except Exception as e:  # protobuf DecodeError
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"malformed {req_type.DESCRIPTOR.name}: {e}")
            return await method(request, context)

        return handle

    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            wrap(getattr(servicer, name), req), response_serializer=rep.SerializeToString
        )
        for name, (req, rep) in _METHODS.items()
    }
    return grpc.method_handlers_generic_handler(SERVICE_NAME, handlers)


def spec_to_proto(s: Any) -> pb.ModelInfo:
    return pb.ModelInfo(**s.to_dict())


class _TokenInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Refuses calls without ``authorization: Bearer <token>`` (constant-time compare); health is open."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

        async def deny(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")

        self._deny = grpc.unary_unary_rpc_method_handler(deny)

    async def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        if details.method.startswith("/grpc.health.v1.Health/"):
            return await continuation(details)
        got = b""
        for key, value in details.invocation_metadata or ():
            if key == "authorization":
                got = value.encode() if isinstance(value, str) else value
        if hmac.compare_digest(got, self._expected):
            return await continuation(details)
        return self._deny


def build_grpc_server(host: ModelHost, cfg: ServeConfig) -> tuple[grpc.aio.Server, health.HealthServicer]:
    """Creates (not starts) the aio server bound to ``cfg.host:cfg.grpc_port`` with SO_REUSEPORT.

    Returns:
        (server, health servicer); the caller awaits ``set_serving(servicer, False)`` before starting and
        ``set_serving(servicer, True)`` once the models are warmed.
    """
    interceptors = [_TokenInterceptor(cfg.token)] if cfg.token else []
    server = grpc.aio.server(
        interceptors=interceptors,
        options=grpc_options(cfg.max_request_bytes + 64 * 1024),
        maximum_concurrent_rpcs=max(1000, cfg.max_queue * 16),
    )
    server.add_generic_rpc_handlers((_handlers(_Servicer(host)),))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = f"{cfg.host}:{cfg.grpc_port}"
    if cfg.tls:
        creds = grpc.ssl_server_credentials([(Path(cfg.tls_key).read_bytes(), Path(cfg.tls_cert).read_bytes())])
        port = server.add_secure_port(address, creds)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot bind gRPC to {address}")
    return server, health_servicer


def _set_health(servicer: Any, service: str, serving: bool) -> Any:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    return servicer.set(service, status)


async def set_serving(servicer: Any, serving: bool) -> None:
    """Flips the standard health service for "" and the ModelServer service."""
    for svc in ("", SERVICE_NAME):
        r = _set_health(servicer, svc, serving)
        if r is not None and hasattr(r, "__await__"):
            await r
