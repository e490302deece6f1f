"""``ServeConfig``: every option of ``platewise serve``, settable by flag or ``PLATEWISE_<NAME>`` env var.

Precedence: command-line flag > environment variable > default. Each field's env var is its name in upper
case with the ``PLATEWISE_`` prefix, e.g. ``max_batch`` -> ``PLATEWISE_MAX_BATCH``.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field

from platewise.config import from_dict
from platewise.errors import ConfigError

__all__ = ["ENV_PREFIX", "ServeConfig", "config_from_env"]

ENV_PREFIX = "PLATEWISE_"

MiB = 1024 * 1024


@dataclass(frozen=True)
class ServeConfig:
    """Options of one server (all its workers).

    Attributes:
        models: plug-in folders to scan; each sub-folder with an ``__init__.py`` is one model.
        builtin_models: also load the built-in plug-ins (``alpr``, ``flow``).
        only: serve only these model names (empty = all found).
        host: address to bind (``0.0.0.0`` in a container, ``127.0.0.1`` for local use).
        grpc_port: gRPC port shared by all workers (SO_REUSEPORT); 0 = no gRPC.
        http_port: HTTP port shared by all workers; 0 = no HTTP.
        workers: worker processes; 0 = one per CPU core.
        threads: intra-op threads per worker for the model runtime (1 avoids oversubscription).
        max_batch: largest batch the batcher hands a model.
        max_delay_ms: longest the oldest queued item waits for batch-mates (fixed mode, or adaptive with
            more requests arriving).
        adaptive: run at once when the model is idle instead of waiting out ``max_delay_ms``.
        max_queue: queued items per model per worker before requests are refused (503 / RESOURCE_EXHAUSTED).
        max_request_mb: largest request body / gRPC message accepted, in MiB (a raw 1080p frame is 5.9 MiB).
        max_pixels: largest image accepted (decompression-bomb guard).
        max_inputs: most inputs in one batch request.
        tls_cert: PEM certificate chain; with ``tls_key`` turns on TLS for gRPC and HTTP.
        tls_key: PEM private key.
        token: bearer token required on every call except health checks; empty = no auth.
        drain_s: on SIGTERM, seconds to finish in-flight requests before exiting.
        store_db: reads store URL (``sqlite:///reads.db``) for ``GET /v1/reads``; empty = off.
        log_level: ``debug``, ``info``, ``warning``.
    """

    models: tuple[str, ...] = ()
    builtin_models: bool = True
    only: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    grpc_port: int = 50051
    http_port: int = 8080
    workers: int = 0
    threads: int = 1
    max_batch: int = 8
    max_delay_ms: float = 5.0
    adaptive: bool = True
    max_queue: int = 64
    max_request_mb: float = 32.0
    max_pixels: int = 40_000_000
    max_inputs: int = 64
    tls_cert: str = ""
    tls_key: str = ""
    token: str = field(default="", repr=False)
    drain_s: float = 10.0
    store_db: str = ""
    log_level: str = "info"

    def __post_init__(self) -> None:
        checks = [
            (self.workers >= 0, "workers must be >= 0 (0 = one per core)"),
            (self.threads >= 1, "threads must be >= 1"),
            (1 <= self.max_batch <= 1024, "max_batch must be in 1..1024"),
            (0 <= self.max_delay_ms <= 10_000, "max_delay_ms must be in 0..10000"),
            (self.max_queue >= 1, "max_queue must be >= 1"),
            (0 < self.max_request_mb <= 1024, "max_request_mb must be in (0, 1024]"),
            (self.max_pixels >= 1, "max_pixels must be >= 1"),
            (self.max_inputs >= 1, "max_inputs must be >= 1"),
            (bool(self.tls_cert) == bool(self.tls_key), "give both tls_cert and tls_key, or neither"),
            (self.grpc_port > 0 or self.http_port > 0, "enable at least one of grpc_port / http_port"),
            (0 <= self.grpc_port < 65536 and 0 <= self.http_port < 65536, "ports must be in 0..65535"),
            (self.log_level in ("debug", "info", "warning", "error"), "log_level: debug, info, warning or error"),
        ]
        for ok, hint in checks:
            if not ok:
                raise ConfigError(f"serve: {hint}")

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert)

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * MiB)

    def worker_count(self) -> int:
        return self.workers or (os.cpu_count() or 1)

    def replace(self, **changes: typing.Any) -> ServeConfig:
        return dataclasses.replace(self, **changes)


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def config_from_env(
    flags: Mapping[str, typing.Any] | None = None, environ: Mapping[str, str] | None = None
) -> ServeConfig:
    """Builds a ``ServeConfig`` from env vars, then flags given explicitly (None = not given).

    List fields (``models``, ``only``) read comma-separated env values (``PLATEWISE_MODELS=a,b``).

    Raises:
        ConfigError: a value of the wrong type or out of range, naming the env var or flag.
    """
    environ = os.environ if environ is None else environ
    data: dict[str, typing.Any] = {}
    for f in dataclasses.fields(ServeConfig):
        name = env_name(f.name)
        if name in environ and environ[name] != "":
            data[f.name] = environ[name]
    for key, value in (flags or {}).items():
        if value is not None:
            data[key] = value
    try:
        return from_dict(ServeConfig, data)
    except ConfigError as e:
        raise ConfigError(f"{e} (from a --flag or a {ENV_PREFIX}* environment variable)") from None
