"""``ModelHost``: the models of one worker, each behind its own :class:`Batcher`; shared by gRPC and HTTP.

The protocol adapters (``grpc_server``, ``http_app``) only translate; validation, batching, metrics,
readiness and draining live here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from platewise.errors import InvalidInput, ModelNotFound, ServerBusy
from platewise.serving.batching import Batcher
from platewise.serving.codec import Limits, decode_input
from platewise.serving.config import ServeConfig
from platewise.serving.interface import Args, ModelInterface, ModelSpec
from platewise.serving.metrics import Metrics, get_metrics

__all__ = ["LoadedModel", "ModelHost"]

log = logging.getLogger("platewise.serving")


@dataclass
class LoadedModel:
    model: ModelInterface
    spec: ModelSpec
    batcher: Batcher


def _checked_runner(model: ModelInterface, spec: ModelSpec) -> Any:
    def run(inputs: Sequence[Any], args: Sequence[Args]) -> list[Any]:
        outs = list(model.run_batch(inputs, [a or {} for a in args]))
        if len(outs) != len(inputs):
            raise RuntimeError(f"model {spec.name} returned {len(outs)} outputs for {len(inputs)} inputs")
        if spec.output_kind == "tensor":
            for o in outs:
                if not isinstance(o, np.ndarray):
                    raise RuntimeError(f"model {spec.name} must return ndarrays, got {type(o).__name__}")
        return outs

    return run


class ModelHost:
    """Models of one worker process, ready to be called from any protocol adapter.

    Not ready until :meth:`install` hands it the loaded and warmed models (the ports already answer
    health checks while models load).

    Args:
        worker_index: this worker's number (0-based); ``worker_count``: how many workers share the ports.
    """

    def __init__(
        self,
        cfg: ServeConfig,
        *,
        worker_index: int = 0,
        worker_count: int = 1,
        metrics: Metrics | None = None,
    ) -> None:
        self.cfg = cfg
        self.broken: dict[str, str] = {}
        self.worker_index = worker_index
        self.worker_count = worker_count
        self.pid = os.getpid()
        self.limits = Limits(max_bytes=cfg.max_request_bytes, max_pixels=cfg.max_pixels, max_inputs=cfg.max_inputs)
        self.metrics = metrics or get_metrics()
        self.outstanding = 0
        self.draining = False
        self.warmed = False
        self.models: dict[str, LoadedModel] = {}
        self._decode_pool = ThreadPoolExecutor(max(1, cfg.threads), thread_name_prefix="decode")
        self.reads_log: Any = None  # a store_adapter.ReadsLog when --store-db is set

    def install(self, models: dict[str, ModelInterface], broken: dict[str, str] | None = None) -> None:
        """Serves ``models`` (already loaded and warmed, e.g. by ``plugins.discover``); readiness turns on."""
        cfg = self.cfg
        self.broken = dict(broken or {})
        for name, model in models.items():
            spec = model.spec(name, cfg.max_batch)
            pool = ThreadPoolExecutor(1, thread_name_prefix=f"model-{name}")
            batcher = Batcher(
                _checked_runner(model, spec),
                max_batch=spec.max_batch,
                max_delay=cfg.max_delay_ms / 1000.0,
                max_queue=cfg.max_queue,
                adaptive=cfg.adaptive,
                executor=pool,
                on_batch=self._on_batch(name),
            )
            self.models[name] = LoadedModel(model, spec, batcher)
        self.warmed = True

    def _on_batch(self, name: str) -> Any:
        hist, secs = self.metrics.batch_size.labels(name), self.metrics.batch_seconds.labels(name)

        def record(size: int, seconds: float) -> None:
            hist.observe(size)
            secs.observe(seconds)

        return record

    # ---- state -------------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Models loaded and warmed, at least one model, and not draining."""
        return self.warmed and bool(self.models) and not self.draining

    def get(self, name: str) -> LoadedModel:
        lm = self.models.get(name)
        if lm is None:
            known = ", ".join(sorted(self.models)) or "none"
            why = f" (plug-in broken: {self.broken[name]})" if name in self.broken else ""
            raise ModelNotFound(f"no model named {name!r}{why}; served models: {known}")
        return lm

    def admit(self, name: str, n: int = 1) -> LoadedModel:
        """The model, if its queue can take ``n`` more inputs; checked before decoding so that overflow is
        refused without spending CPU on it.

        Raises:
            ModelNotFound, InvalidInput (more inputs than the queue can ever hold), ServerBusy (queue full or
            draining).
        """
        lm = self.get(name)
        if n > lm.batcher.max_queue:  # would be "busy" forever: say what to change instead
            raise InvalidInput(f"{n} inputs in one request is more than the queue holds ({lm.batcher.max_queue})")
        if self.draining:
            raise ServerBusy("server is shutting down, retry on another instance")
        if lm.batcher.queued + n > lm.batcher.max_queue:
            lm.batcher.stats.refused += 1
            raise ServerBusy(f"queue full ({lm.batcher.max_queue} waiting), retry later", retry_after=1.0)
        return lm

    async def decode(
        self,
        spec: ModelSpec,
        *,
        encoded: bytes | None = None,
        tensor: tuple[bytes, Sequence[int], str] | None = None,
    ) -> np.ndarray:
        """``codec.decode_input`` with this worker's limits; image files over 32 KiB are decoded in a thread
        (OpenCV releases the GIL) so the event loop keeps answering meanwhile."""
        if encoded is not None and len(encoded) > 32 * 1024:
            loop = asyncio.get_running_loop()
            call = functools.partial(decode_input, spec=spec, limits=self.limits, encoded=encoded)
            return await loop.run_in_executor(self._decode_pool, call)
        return decode_input(spec=spec, limits=self.limits, encoded=encoded, tensor=tensor)

    def specs(self) -> list[ModelSpec]:
        return [lm.spec for lm in self.models.values()]

    def worker_info(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "worker_index": self.worker_index,
            "worker_count": self.worker_count,
            "models": sorted(self.models),
            "outstanding": self.outstanding,
            "ready": self.ready,
        }

    # ---- calls -------------------------------------------------------------------------------------
    async def predict(
        self, name: str, inputs: Sequence[np.ndarray], args: Args, *, timeout: float | None = None
    ) -> list[Any]:
        """Runs ``inputs`` (already decoded and checked) through the model's batcher -> one output each.

        Raises:
            ModelNotFound, InvalidInput (too many inputs), ServerBusy, DeadlineExceeded, model errors.
        """
        lm = self.get(name)
        if not inputs:
            raise InvalidInput("no inputs given")
        if len(inputs) > self.limits.max_inputs:
            raise InvalidInput(f"{len(inputs)} inputs is over the limit of {self.limits.max_inputs} per request")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        self.outstanding += 1
        self.metrics.queued.labels(name).set(lm.batcher.queued)
        try:
            if len(inputs) == 1:
                outs = [await lm.batcher.submit(inputs[0], args, deadline=deadline)]
                self._log_reads(name, outs, args)
                return outs
            # each input is its own queue item; refuse the whole request if they would not all fit
            if len(inputs) > lm.batcher.max_queue:
                raise InvalidInput(
                    f"{len(inputs)} inputs in one request is more than the queue holds ({lm.batcher.max_queue})"
                )
            if lm.batcher.queued + len(inputs) > lm.batcher.max_queue:
                raise ServerBusy(f"queue cannot take {len(inputs)} more inputs, retry later")
            outs = list(await asyncio.gather(*(lm.batcher.submit(x, args, deadline=deadline) for x in inputs)))
            self._log_reads(name, outs, args)
            return outs
        finally:
            self.outstanding -= 1

    def _log_reads(self, name: str, outs: list[Any], args: Args) -> None:
        if self.reads_log is not None:
            try:
                self.reads_log.log(name, outs, args)
            except Exception:  # the store must never fail a request
                log.exception("cannot queue reads for the store")

    def observe(self, name: str, protocol: str, code: str, started: float) -> None:
        """Records one answered request (``started`` from ``time.perf_counter()``)."""
        label = name if name in self.models else "_unknown"
        self.metrics.requests.labels(label, protocol, code).inc()
        self.metrics.latency.labels(label, protocol, code).observe(time.perf_counter() - started)
        if code == "busy":
            self.metrics.refused.labels(label).inc()

    async def drain(self) -> None:
        """Stops readiness, waits for queued work to finish (new submits are refused)."""
        self.draining = True
        await asyncio.gather(*(lm.batcher.close(drain=True) for lm in self.models.values()))
        self._decode_pool.shutdown(wait=False)
        if self.reads_log is not None:
            stats = await asyncio.get_running_loop().run_in_executor(None, self.reads_log.close, self.cfg.drain_s)
            log.info("reads store writer closed: %s", stats)
        for lm in self.models.values():
            if lm.batcher.executor is not None:
                lm.batcher.executor.shutdown(wait=False)
