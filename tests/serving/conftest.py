"""Fixtures that start real servers on loopback (random free ports) with the test plug-ins."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PLUGINS = Path(__file__).parent / "plugins"
SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A ``platewise serve`` subprocess; ``lines`` collects its stdout+stderr."""

    def __init__(
        self,
        *args: str,
        workers: int = 1,
        env: dict[str, str] | None = None,
        grpc_port: int = 0,
        wait_ready: bool = True,
    ) -> None:
        self.grpc_port, self.http_port = grpc_port or free_port(), free_port()
        cmd = [sys.executable, "-m", "platewise", "serve", "--no-builtin-models", "--models", str(PLUGINS)]
        cmd += ["--grpc-port", str(self.grpc_port), "--http-port", str(self.http_port), "--workers", str(workers)]
        cmd += ["--drain-s", "5", "--log-level", "info", *args]
        full_env = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env)
        atexit.register(self.kill)  # never leak a server, whatever happens to the test session
        self.lines: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()
        if wait_ready:
            self.wait_ready()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # the supervisor's workers notice their parent is gone (see workers.py)

    def wait_ready(self, timeout: float = 45) -> None:
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("server did not become ready:\n" + "".join(self.lines[-30:]))

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if "platewise serve: ready" in line:
                self._ready.set()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """One worker, the test plug-ins (some broken on purpose), small queue and batch for back-pressure tests."""
    s = Server("--max-batch", "4", "--max-queue", "4", "--max-request-mb", "8", "--max-pixels", "10000000")
    yield s
    s.stop()


def wait_until(cond, timeout: float = 10.0, every: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(every)
    return False


@pytest.fixture(scope="module")
def make_server() -> Iterator[type[Server]]:
    """The :class:`Server` class, for tests that start servers with their own options."""
    return Server
