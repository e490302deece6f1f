"""Plateau detection on a loss curve, as in dlib: count the steps without (robust) decrease.

``count_steps_without_decrease(values)`` looks back from the newest value for the longest suffix over which
a least-squares line fitted to the values has a slope that is not significantly negative
(P(slope < 0) < 0.51). The robust variant first drops the largest 10% of values, so that a few spikes do not
hide a plateau. A training loop lowers its learning rate when both counts exceed a patience.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["PlateauDetector", "count_steps_without_decrease", "count_steps_without_decrease_robust"]


def _prob_decreasing(ys: Sequence[float]) -> float:
    """P(slope < 0) of a least-squares line through ``ys`` (x = 0..n-1), with a normal approximation."""
    n = len(ys)
    if n < 4:
        return 0.5
    xm = (n - 1) / 2.0
    ym = sum(ys) / n
    sxx = sum((i - xm) ** 2 for i in range(n))
    slope = sum((i - xm) * (y - ym) for i, y in enumerate(ys)) / sxx
    resid = sum((y - (ym + slope * (i - xm))) ** 2 for i, y in enumerate(ys))
    var = resid / (n - 2)
    se = math.sqrt(var / sxx) if var > 0 else 0.0
    if se == 0.0:
        return 1.0 if slope < 0 else 0.0
    return 0.5 * (1.0 + math.erf((-slope / se) / math.sqrt(2.0)))


def count_steps_without_decrease(values: Sequence[float], threshold: float = 0.51) -> int:
    """Number of newest values over which the curve has shown no significant decrease."""
    count = 0
    vals = list(values)
    for start in range(len(vals) - 4, -1, -1):
        if _prob_decreasing(vals[start:]) < threshold:
            count = len(vals) - start
    return count


def count_steps_without_decrease_robust(values: Sequence[float], threshold: float = 0.51, quantile: float = 0.9) -> int:
    """As :func:`count_steps_without_decrease`, after discarding values above the ``quantile``."""
    vals = list(values)
    if not vals:
        return 0
    cut = sorted(vals)[min(len(vals) - 1, int(quantile * len(vals)))]
    return count_steps_without_decrease([v for v in vals if v <= cut], threshold)


@dataclass
class PlateauDetector:
    """Feeds losses; ``step()`` returns True when the learning rate should drop.

    Args:
        patience: steps without decrease (both plain and robust counts) before a drop.
        window: how many recent losses are kept (bounds the cost of a check).
        check_every: run the O(window^2) check only every so many steps.
    """

    patience: int = 2000
    window: int = 4000
    check_every: int = 100
    history: deque[float] = field(default_factory=deque)
    _steps: int = 0

    def step(self, loss: float) -> bool:
        self.history.append(float(loss))
        while len(self.history) > self.window:
            self.history.popleft()
        self._steps += 1
        if self._steps % self.check_every or len(self.history) < self.patience:
            return False
        # subsample to keep the check cheap: every k-th value of the window
        k = max(1, len(self.history) // 400)
        vals = list(self.history)[::k]
        patience = self.patience // k
        plain = count_steps_without_decrease(vals)
        robust = count_steps_without_decrease_robust(vals)
        if plain > patience and robust > patience:
            self.history.clear()
            return True
        return False
