"""``platewise serve``: the model server (gRPC + HTTP, batching, worker processes).

Every flag also reads an environment variable ``PLATEWISE_<FLAG>`` (``--max-batch`` ->
``PLATEWISE_MAX_BATCH``); a flag given on the command line wins over the variable.
"""

from __future__ import annotations

import argparse

COMMAND = ("serve",)
HELP = "serve models over gRPC and HTTP with dynamic batching and worker processes"

_BOOL = {"builtin_models", "adaptive"}


def configure(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument
    a(
        "--models",
        action="append",
        metavar="DIR",
        help="plug-in folder(s) to scan; repeat for several (env: comma list)",
    )
    a("--no-builtin-models", dest="builtin_models", action="store_const", const=False, help="skip alpr and flow")
    a("--only", action="append", metavar="NAME", help="serve only these plug-in folders; repeatable")
    a("--host", help="address to bind (default 127.0.0.1; 0.0.0.0 in containers)")
    a("--grpc-port", type=int, help="gRPC port shared by all workers (default 50051; 0 = off)")
    a("--http-port", type=int, help="HTTP port shared by all workers (default 8080; 0 = off)")
    a("--workers", type=int, help="worker processes (default 0 = one per CPU core)")
    a("--threads", type=int, help="intra-op threads per worker (default 1)")
    a("--max-batch", type=int, help="largest batch handed to a model (default 8)")
    a("--max-delay-ms", type=float, help="longest wait for batch-mates, fixed mode (default 5)")
    a(
        "--no-adaptive",
        dest="adaptive",
        action="store_const",
        const=False,
        help="always wait --max-delay-ms for batch-mates instead of running at once when the model is idle",
    )
    a("--max-queue", type=int, help="queued inputs per model per worker before 503/RESOURCE_EXHAUSTED (default 64)")
    a("--max-request-mb", type=float, help="largest request / gRPC message in MiB (default 32)")
    a("--max-pixels", type=int, help="largest image in pixels (default 40000000)")
    a("--max-inputs", type=int, help="most inputs per batch request (default 64)")
    a("--tls-cert", metavar="PEM", help="certificate chain; with --tls-key turns on TLS (gRPC and HTTP)")
    a("--tls-key", metavar="PEM", help="private key")
    a("--token", help="require 'Authorization: Bearer TOKEN' (prefer the PLATEWISE_TOKEN env var)")
    a("--drain-s", type=float, help="on SIGTERM, seconds to finish in-flight requests (default 10)")
    a("--store-db", metavar="URL", help="reads store for GET /v1/reads, e.g. sqlite:///reads.db")
    a("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    a("--print-config", action="store_true", help="print the resolved configuration and exit")


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from platewise.serving.config import ServeConfig, config_from_env

    names = {f.name for f in dataclasses.fields(ServeConfig)}
    flags = {k: v for k, v in vars(args).items() if k in names}
    for k in ("models", "only"):
        if flags.get(k) is not None:
            flags[k] = tuple(flags[k])
    cfg = config_from_env(flags)
    if args.print_config:
        for f in dataclasses.fields(cfg):
            value = "***" if f.name == "token" and cfg.token else getattr(cfg, f.name)
            print(f"{f.name} = {value!r}")
        return 0
    from platewise.serving.store_adapter import store_status

    if cfg.store_db and store_status(cfg.store_db) != "available":
        import sys

        print(
            "platewise serve: warning: --store-db given but store not available; GET /v1/reads answers 503",
            file=sys.stderr,
        )
    from platewise.serving.workers import serve

    return serve(cfg)
