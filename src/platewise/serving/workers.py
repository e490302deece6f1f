"""Worker processes: N workers share the gRPC port (SO_REUSEPORT) and the HTTP port; a supervisor restarts
the ones that die and drains them all on SIGTERM.

Each worker binds its ports first (so ``/healthz`` answers), loads and warms its models in a thread, then
turns ready (``/readyz`` 200, gRPC health SERVING). Model runtimes get ``threads`` intra-op threads each
(default 1: on a small machine, workers = cores with one thread each beats fewer workers with many threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import queue
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from multiprocessing.connection import wait as wait_sentinels
from pathlib import Path
from typing import Any

from platewise.serving.config import ServeConfig

__all__ = ["Supervisor", "check_startup", "make_reuseport_socket", "run_worker", "serve"]

log = logging.getLogger("platewise.serving")

_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
# glibc malloc: requests carry multi-MB buffers (a raw 1280x1280 frame is 4.9 MB); by default each such
# buffer is mmap()ed and unmapped again, so every request pays page faults and zeroing. Serving them from
# the heap and keeping freed memory (up to 256 MB) costs less server CPU per multi-MB request (the
# "null model, big frame" rows of benchmarks/serving_load.py measure what is left) and more resident memory.
# Set only when the user has not; they take effect in the (spawned) workers.
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024), "MALLOC_TRIM_THRESHOLD_": str(256 * 1024 * 1024)}
_MAX_RESTARTS = 5  # within _RESTART_WINDOW seconds, then the supervisor gives up
_RESTART_WINDOW = 60.0


def _setup_logging(level: str, tag: str) -> None:
    logging.basicConfig(
        level=level.upper(), format=f"%(asctime)s platewise[{tag}] %(levelname)s %(message)s", stream=sys.stderr
    )


def make_reuseport_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket with SO_REUSEPORT, so every worker can bind the same port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def model_dirs(cfg: ServeConfig) -> list[Path]:
    from platewise.serving.plugins import BUILTIN_DIR

    return ([BUILTIN_DIR] if cfg.builtin_models else []) + [Path(d) for d in cfg.models]


# ---- one worker --------------------------------------------------------------------------------------
async def _serve_worker(cfg: ServeConfig, index: int, count: int, notify: Any, stop: asyncio.Event) -> None:
    import uvicorn

    from platewise.serving.grpc_server import build_grpc_server, set_serving
    from platewise.serving.host import ModelHost
    from platewise.serving.http_app import build_http_app
    from platewise.serving.plugins import discover
    from platewise.serving.store_adapter import ReadsLog, ReadsSource, store_status

    class _Uvicorn(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Any:  # the worker handles signals itself
            yield

    loop = asyncio.get_running_loop()
    host = ModelHost(cfg, worker_index=index, worker_count=count)
    if cfg.store_db and store_status(cfg.store_db) == "available":
        host.reads_log = ReadsLog(cfg.store_db)
    grpc_server = health = None
    if cfg.grpc_port:
        grpc_server, health = build_grpc_server(host, cfg)
        await set_serving(health, False)
        await grpc_server.start()
    http_server = http_task = None
    if cfg.http_port:
        sock = make_reuseport_socket(cfg.host, cfg.http_port)
        app = build_http_app(host, token=cfg.token, reads=ReadsSource(cfg.store_db))
        ucfg = uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            ssl_certfile=cfg.tls_cert or None,
            ssl_keyfile=cfg.tls_key or None,
            timeout_graceful_shutdown=int(cfg.drain_s) or 1,
            limit_concurrency=None,
            backlog=2048,
        )
        http_server = _Uvicorn(ucfg)
        http_task = loop.create_task(http_server.serve(sockets=[sock]))
        while not http_server.started and not http_task.done():
            await asyncio.sleep(0.01)
        if http_task.done():
            http_task.result()
    found = await loop.run_in_executor(
        None, lambda: discover(model_dirs(cfg), threads=cfg.threads, only=cfg.only, warm=True)
    )
    host.install(found.models, found.broken)
    if health is not None:
        await set_serving(health, bool(found.models))
    notify(("ready", index, os.getpid(), sorted(found.models), found.broken))
    waits = [loop.create_task(stop.wait())] + ([http_task] if http_task else [])
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    http_died = http_task is not None and http_task.done() and not stop.is_set()
    # drain: not ready, stop taking connections, finish what was admitted, then exit
    host.draining = True
    log.info("draining: %d request(s) in flight", host.outstanding)
    if health is not None:
        await set_serving(health, False)
    stops = []
    if grpc_server is not None:
        stops.append(grpc_server.stop(cfg.drain_s))
    if http_server is not None and http_task is not None:
        http_server.should_exit = True
        stops.append(http_task)
    await asyncio.gather(*stops, return_exceptions=True)
    await host.drain()
    if http_died:
        assert http_task is not None
        exc = http_task.exception() if not http_task.cancelled() else None
        raise RuntimeError(f"the HTTP server stopped unexpectedly: {exc!r}")
    log.info("drained, exiting")


def _die_with_parent() -> None:
    """Linux: have the kernel send this worker SIGTERM when its supervisor dies, even by SIGKILL, so that
    no orphaned worker keeps holding the ports."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def run_worker(cfg: ServeConfig, index: int, count: int, events: Any = None) -> None:
    """Entry point of one worker process: serves until SIGTERM/SIGINT, then drains and returns."""
    _die_with_parent()
    for var in _THREAD_ENV:
        os.environ[var] = str(cfg.threads)
    _setup_logging(cfg.log_level, f"worker {index} pid {os.getpid()}")

    def notify(msg: Any) -> None:
        if events is not None:
            events.put(msg)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await _serve_worker(cfg, index, count, notify, stop)

    try:
        asyncio.run(main())
    except Exception as e:
        notify(("error", index, os.getpid(), f"{type(e).__name__}: {e}"))
        log.error("worker %d failed: %s", index, traceback.format_exc())
        sys.exit(1)


# ---- the supervisor ----------------------------------------------------------------------------------
def _death_cause(code: int | None) -> str:
    if code is None:
        return "unknown"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class Supervisor:
    """Starts ``cfg.worker_count()`` workers, restarts any that die, drains all on SIGTERM/SIGINT."""

    def __init__(self, cfg: ServeConfig, *, out: Any = None) -> None:
        self.cfg = cfg
        self.count = cfg.worker_count()
        self.ctx = mp.get_context("spawn")
        self.events: Any = self.ctx.Queue()
        self.procs: dict[int, Any] = {}
        self.last_error: dict[int, str] = {}
        self.restarts: list[float] = []
        self.stopping = False
        self.out = out or sys.stdout
        self.ready: set[int] = set()

    def _start(self, index: int) -> None:
        p = self.ctx.Process(
            target=run_worker, args=(self.cfg, index, self.count, self.events), name=f"platewise-worker-{index}"
        )
        p.start()
        self.procs[index] = p

    def _drain_events(self) -> None:
        while True:
            try:
                msg = self.events.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            kind, index, pid = msg[0], msg[1], msg[2]
            if kind == "ready":
                models, broken = msg[3], msg[4]
                for name, why in broken.items():
                    log.warning("worker %d: plug-in %s skipped: %s", index, name, why)
                first = index not in self.ready and len(self.ready) == self.count - 1
                self.ready.add(index)
                log.info("worker %d (pid %d) ready with models %s", index, pid, models)
                if first:
                    self._announce(models)
            elif kind == "error":
                self.last_error[index] = msg[3]

    def _announce(self, models: list[str]) -> None:
        c = self.cfg
        scheme = "https" if c.tls else "http"
        parts = [f"{self.count} worker(s)", f"models {','.join(models) or '(none)'}"]
        if c.grpc_port:
            parts.append(f"grpc {c.host}:{c.grpc_port}")
        if c.http_port:
            parts.append(f"http {scheme}://{c.host}:{c.http_port}")
        print("platewise serve: ready: " + "; ".join(parts), file=self.out, flush=True)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def run(self) -> int:
        """Serves until a signal; returns the exit code (1 when workers keep crashing)."""
        for var in _THREAD_ENV:  # before the workers import numpy / onnxruntime (they inherit the env)
            os.environ[var] = str(self.cfg.threads)
        for var, value in _MALLOC_ENV.items():
            os.environ.setdefault(var, value)
        own_metrics_dir = None
        if self.count > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            own_metrics_dir = tempfile.mkdtemp(prefix="platewise-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics_dir
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        code = 0
        try:
            for i in range(self.count):
                self._start(i)
            while not self.stopping:
                wait_sentinels([p.sentinel for p in self.procs.values()], timeout=0.2)
                self._drain_events()
                for index, p in list(self.procs.items()):
                    if p.is_alive() or self.stopping:
                        continue
                    cause = _death_cause(p.exitcode)
                    detail = self.last_error.pop(index, "")
                    log.error("worker %d (pid %s) died: %s%s", index, p.pid, cause, f" ({detail})" if detail else "")
                    self.ready.discard(index)
                    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and p.pid is not None:
                        from prometheus_client import multiprocess

                        multiprocess.mark_process_dead(p.pid)  # type: ignore[no-untyped-call]
                    now = time.monotonic()
                    self.restarts = [t for t in self.restarts if now - t < _RESTART_WINDOW] + [now]
                    if len(self.restarts) > _MAX_RESTARTS:
                        log.error("workers died %d times in %.0f s; giving up", len(self.restarts), _RESTART_WINDOW)
                        self.stopping, code = True, 1
                        break
                    log.info("restarting worker %d", index)
                    self._start(index)
        finally:
            self._stop_all()
            for s, h in old.items():
                signal.signal(s, h)
            if own_metrics_dir is not None:
                shutil.rmtree(own_metrics_dir, ignore_errors=True)
                del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        return code

    def _stop_all(self) -> None:
        for p in self.procs.values():
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.cfg.drain_s + 5.0
        for p in self.procs.values():
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                log.error("worker pid %s did not drain in time; killing it", p.pid)
                p.kill()
                p.join(2.0)
        log.info("all workers stopped")


def check_startup(cfg: ServeConfig) -> None:
    """Fails fast, before any worker starts, on what would make every worker crash in a loop.

    Raises:
        ConfigError: a missing models directory or TLS file.
    """
    from platewise.errors import ConfigError
    from platewise.serving.plugins import find_plugin_dirs

    find_plugin_dirs(model_dirs(cfg))
    for what, path in (("tls_cert", cfg.tls_cert), ("tls_key", cfg.tls_key)):
        if path and not Path(path).is_file():
            raise ConfigError(f"{what} file {path} not found")


def serve(cfg: ServeConfig) -> int:
    """Runs the server in the foreground until SIGTERM/SIGINT; returns the exit code.

    Raises:
        ConfigError: see :func:`check_startup`.
    """
    check_startup(cfg)
    _setup_logging(cfg.log_level, f"supervisor pid {os.getpid()}")
    return Supervisor(cfg).run()
