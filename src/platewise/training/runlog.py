"""One JSONL log per training run, and a PNG of its curves."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["RunLog", "plot_curves", "printing_log"]


class RunLog:
    """Appends one JSON object per call to ``<run_dir>/log.jsonl`` (``time`` added)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "log.jsonl"

    def write(self, **record: Any) -> None:
        record = {"time": round(time.time(), 3), **record}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, default=float) + "\n")

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


def printing_log(run_dir: str | Path) -> Callable[..., None]:
    """``log(msg, **values)``: prints ``msg`` and appends ``{"time", "msg", **values}`` to the run's
    ``log.jsonl`` (:class:`RunLog`)."""
    run = RunLog(run_dir)

    def log(msg: str, **kv: Any) -> None:
        print(msg, flush=True)
        run.write(msg=msg, **kv)

    return log


def plot_curves(log_path: str | Path, out_png: str | Path, keys: tuple[str, ...] | None = None) -> Path:
    """Plots every numeric key (or ``keys``) of a JSONL log against ``step`` into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [json.loads(x) for x in Path(log_path).read_text(encoding="utf-8").splitlines() if x.strip()]
    if keys is None:
        keys = tuple(sorted({k for r in recs for k, v in r.items() if isinstance(v, (int, float))} - {"time", "step"}))
    fig, axes = plt.subplots(len(keys) or 1, 1, figsize=(8, 2.2 * max(1, len(keys))), squeeze=False)
    for ax, key in zip(axes[:, 0], keys, strict=False):
        pts = [(r["step"], r[key]) for r in recs if key in r and "step" in r]
        if pts:
            ax.plot(*zip(*pts, strict=True), lw=1)
        ax.set_ylabel(key, fontsize=8)
        if key.endswith("loss") or key == "lr":
            ax.set_yscale("log")
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    out = Path(out_png)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out
