"""Prometheus metrics of the server (``GET /metrics``).

With several workers the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` before starting them, so every
worker writes its samples there and any worker answering ``/metrics`` reports the sum over all workers.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "get_metrics", "render"]

_LATENCY_BUCKETS = (0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128)


class Metrics:
    """The server's metric families, created once per worker process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        kw = {"registry": registry} if registry is not None else {}
        self.requests = Counter(
            "platewise_requests",
            "Requests answered",
            ["model", "protocol", "code"],
            **kw,  # type: ignore[arg-type]
        )
        self.latency = Histogram(
            "platewise_request_seconds",
            "Request latency inside the server, by outcome (ok, invalid, busy, ...)",
            ["model", "protocol", "code"],
            buckets=_LATENCY_BUCKETS,
            **kw,  # type: ignore[arg-type]
        )
        self.batch_size = Histogram(
            "platewise_batch_size",
            "Inputs per model call",
            ["model"],
            buckets=_BATCH_BUCKETS,
            **kw,  # type: ignore[arg-type]
        )
        self.batch_seconds = Histogram(
            "platewise_batch_seconds",
            "Model time per batch",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            **kw,  # type: ignore[arg-type]
        )
        self.refused = Counter(
            "platewise_refused",
            "Requests refused because the queue was full",
            ["model"],
            **kw,  # type: ignore[arg-type]
        )
        self.queued = Gauge(
            "platewise_queue_depth",
            "Items waiting in a batch queue",
            ["model"],
            multiprocess_mode="livesum",
            **kw,  # type: ignore[arg-type]
        )


def render() -> bytes:
    """The Prometheus text exposition of this process, or of all workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY)


_metrics: Metrics | None = None


def get_metrics() -> Metrics:
    """The process's one :class:`Metrics` (prometheus families may be registered only once)."""
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics
