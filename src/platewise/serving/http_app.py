"""The HTTP adapter: a Starlette ASGI app served by uvicorn.

Routes (OpenAPI at ``/openapi.json``, a docs page at ``/docs``):

* ``POST /v1/models/{name}/predict``: body is a raw image (``image/jpeg``, ``image/png``, ...), raw tensor
  bytes (``application/octet-stream`` with ``X-Shape: 1080,1920,3`` and ``X-Dtype: uint8``), multipart
  form data (each file part is one input, text fields are args), or JSON ``{"inputs": [{"b64": ...} |
  {"b64": ..., "shape": [...], "dtype": ...}], "args": {...}}`` (base64: the slow, compatible path).
  Query parameters are args. Replies ``{"model", "worker_pid", "outputs": [...]}``; a tensor output is
  ``{"shape", "dtype", "b64"}``, or raw bytes with ``X-Shape``/``X-Dtype`` when the request says
  ``Accept: application/octet-stream``.
* ``GET /v1/models``, ``GET /v1/models/{name}``, ``GET /v1/worker``, ``GET /v1/reads`` (reads store).
* ``GET /healthz`` (process up), ``GET /readyz`` (models loaded and warmed, not draining), ``GET /metrics``.

Errors: 400 bad input, 401 bad token, 404 unknown model, 413 body too large, 415 unknown content type,
503 + ``Retry-After`` full queue or draining, 504 deadline (``X-Timeout-Ms`` header) passed, 500 model
crash. Every error body is ``{"error": "...", "code": "..."}``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import time
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from platewise.errors import InvalidImage, InvalidInput, ModelNotFound, ServerBusy, StoreError
from platewise.serving.batching import DeadlineExceeded
from platewise.serving.codec import parse_shape
from platewise.serving.host import ModelHost
from platewise.serving.interface import ModelSpec
from platewise.serving.metrics import CONTENT_TYPE_LATEST, render
from platewise.serving.openapi import DOCS_HTML, openapi_spec
from platewise.serving.store_adapter import ReadsSource

__all__ = ["build_http_app"]

log = logging.getLogger("platewise.serving")

OPEN_PATHS = ("/healthz", "/readyz")


class _TooLargeError(Exception):
    pass


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


class _TokenAuth:
    """ASGI middleware: ``Authorization: Bearer <token>`` on every path except health (constant time)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        got = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        if not hmac.compare_digest(got, self.expected):
            resp = _error(401, "unauthenticated", "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
            await resp(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _TooLargeError(f"request body of {length} bytes is over the {limit} byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLargeError(f"request body is over the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{what} is not valid base64") from None


class _Handlers:
    def __init__(self, host: ModelHost, reads: ReadsSource) -> None:
        self.host = host
        self.source = reads

    # ---- decoding ---------------------------------------------------------------------------------
    async def _inputs(self, request: Request, name: str, body: bytes) -> tuple[list[np.ndarray], dict[str, str]]:
        spec = self.host.admit(name).spec
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        args = dict(request.query_params)
        if ctype.startswith("image/") or (ctype == "application/octet-stream" and "x-shape" not in request.headers):
            return [await self.host.decode(spec, encoded=body)], args
        if ctype in ("application/octet-stream", "application/x-tensor"):
            shape = parse_shape(request.headers["x-shape"])
            dtype = request.headers.get("x-dtype", "uint8")
            return [await self.host.decode(spec, tensor=(body, shape, dtype))], args
        if ctype == "multipart/form-data":
            return await self._multipart(request, body, args, spec)
        if ctype == "application/json":
            return await self._json(body, args, spec)
        raise _UnsupportedError(ctype)

    async def _multipart(
        self, request: Request, body: bytes, args: dict[str, str], spec: ModelSpec
    ) -> tuple[list[np.ndarray], dict[str, str]]:
        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        form_req = Request(request.scope, replay)
        limits = self.host.limits
        try:
            form = await form_req.form(max_files=limits.max_inputs, max_fields=100, max_part_size=1024 * 1024)
        except Exception as e:  # starlette raises MultiPartException / HTTPException on malformed bodies
            raise InvalidInput(f"malformed multipart body: {getattr(e, 'detail', None) or e}") from None
        inputs = []
        try:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    inputs.append(await self.host.decode(spec, encoded=await value.read()))
                else:
                    args[key] = value
        finally:
            await form.close()
        if not inputs:
            raise InvalidInput("multipart body has no file part; send the image as a file field")
        return inputs, args

    async def _json(
        self, body: bytes, args: dict[str, str], spec: ModelSpec
    ) -> tuple[list[np.ndarray], dict[str, str]]:
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("body is not valid JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list):
            raise InvalidInput('JSON body must be {"inputs": [{"b64": "..."}, ...], "args": {...}}')
        if len(doc["inputs"]) > self.host.limits.max_inputs:
            raise InvalidInput(f"{len(doc['inputs'])} inputs is over the limit of {self.host.limits.max_inputs}")
        extra = doc.get("args") or {}
        if not isinstance(extra, dict):
            raise InvalidInput('"args" must be an object of strings')
        args.update({str(k): str(v) for k, v in extra.items()})
        out = []
        for i, item in enumerate(doc["inputs"]):
            if not isinstance(item, dict):
                raise InvalidInput(f"input {i} must be an object")
            data = _b64(item.get("b64"), f"input {i} b64")
            if "shape" in item:
                shape = item["shape"]
                if not isinstance(shape, list) or not all(isinstance(d, int) for d in shape):
                    raise InvalidInput(f"input {i} shape must be a list of integers")
                out.append(await self.host.decode(spec, tensor=(data, shape, str(item.get("dtype")))))
            else:
                out.append(await self.host.decode(spec, encoded=data))
        return out, args

    # ---- routes -----------------------------------------------------------------------------------
    async def predict(self, request: Request) -> Response:
        name = request.path_params["name"]
        started = time.perf_counter()
        code = "ok"
        try:
            body = await _read_body(request, self.host.limits.max_bytes)
            inputs, args = await self._inputs(request, name, body)
            timeout = request.headers.get("x-timeout-ms")
            t = float(timeout) / 1000.0 if timeout and timeout.replace(".", "", 1).isdigit() else None
            outs = await self.host.predict(name, inputs, args, timeout=t)
            return self._reply(request, name, outs)
        except (InvalidImage, InvalidInput) as e:
            code = "invalid"
            return _error(400, code, str(e))
        except ModelNotFound as e:
            code = "not_found"
            return _error(404, code, str(e))
        except _TooLargeError as e:
            code = "too_large"
            return _error(413, code, str(e))
        except _UnsupportedError as e:
            code = "unsupported"
            return _error(415, code, str(e))
        except ServerBusy as e:
            code = "busy"
            return _error(503, code, str(e), {"Retry-After": str(max(1, round(e.retry_after)))})
        except DeadlineExceeded as e:
            code = "deadline"
            return _error(504, code, str(e))
        except ClientDisconnect:
            code = "cancelled"
            return Response(status_code=499)  # nobody reads it; keeps the log free of tracebacks
        except Exception as e:
            code = "error"
            log.exception("model %s failed", name)
            return _error(500, code, f"model {name} failed: {type(e).__name__}: {e}")
        finally:
            self.host.observe(name, "http", code, started)

    def _reply(self, request: Request, name: str, outs: list[Any]) -> Response:
        if (
            len(outs) == 1
            and isinstance(outs[0], np.ndarray)
            and "application/octet-stream" in request.headers.get("accept", "")
        ):
            arr = np.ascontiguousarray(outs[0])
            headers = {"X-Shape": ",".join(map(str, arr.shape)), "X-Dtype": arr.dtype.name}
            return Response(arr.tobytes(), media_type="application/octet-stream", headers=headers)
        from platewise.serving.codec import to_json_text

        payload = [
            {
                "shape": list(o.shape),
                "dtype": o.dtype.name,
                "b64": base64.b64encode(np.ascontiguousarray(o).tobytes()).decode(),
            }
            if isinstance(o, np.ndarray)
            else o
            for o in outs
        ]
        text = to_json_text({"model": name, "worker_pid": self.host.pid, "outputs": payload})
        return Response(text, media_type="application/json")

    async def models(self, request: Request) -> Response:
        return JSONResponse({"models": [s.to_dict() for s in self.host.specs()], "broken": self.host.broken})

    async def model(self, request: Request) -> Response:
        try:
            return JSONResponse(self.host.get(request.path_params["name"]).spec.to_dict())
        except ModelNotFound as e:
            return _error(404, "not_found", str(e))

    async def worker(self, request: Request) -> Response:
        return JSONResponse(self.host.worker_info())

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "pid": self.host.pid})

    async def readyz(self, request: Request) -> Response:
        if self.host.ready:
            return JSONResponse({"status": "ready", "models": sorted(self.host.models)})
        why = "draining" if self.host.draining else "models not loaded and warmed"
        return JSONResponse({"status": "not ready", "reason": why}, status_code=503)

    async def metrics(self, request: Request) -> Response:
        return Response(render(), media_type=CONTENT_TYPE_LATEST)

    async def reads(self, request: Request) -> Response:
        try:
            rows = await run_in_threadpool(self.source.query, dict(request.query_params))
        except InvalidInput as e:
            return _error(400, "invalid", str(e))
        except StoreError as e:
            return _error(503, "store_unavailable", str(e))
        return JSONResponse({"reads": rows})

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_spec())

    async def docs(self, request: Request) -> Response:
        return HTMLResponse(DOCS_HTML)


class _UnsupportedError(Exception):
    def __init__(self, ctype: str) -> None:
        super().__init__(
            f"content type {ctype or '(none)'!r} not supported; send image/jpeg, image/png, "
            "application/octet-stream (+ X-Shape, X-Dtype), multipart/form-data or application/json"
        )


def build_http_app(host: ModelHost, *, token: str = "", reads: ReadsSource | None = None) -> ASGIApp:
    """The ASGI app for one worker's :class:`ModelHost`."""
    h = _Handlers(host, reads or ReadsSource(""))
    routes = [
        Route("/v1/models/{name}/predict", h.predict, methods=["POST"]),
        Route("/v1/models", h.models, methods=["GET"]),
        Route("/v1/models/{name}", h.model, methods=["GET"]),
        Route("/v1/worker", h.worker, methods=["GET"]),
        Route("/v1/reads", h.reads, methods=["GET"]),
        Route("/healthz", h.healthz, methods=["GET"]),
        Route("/readyz", h.readyz, methods=["GET"]),
        Route("/metrics", h.metrics, methods=["GET"]),
        Route("/openapi.json", h.openapi, methods=["GET"]),
        Route("/docs", h.docs, methods=["GET"]),
    ]
    app: ASGIApp = Starlette(routes=routes)
    if token:
        app = _TokenAuth(app, token)
    return app
