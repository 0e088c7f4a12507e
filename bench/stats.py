"""Small statistics used by every scenario: percentiles and summaries of samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(samples: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0-100) by linear interpolation; None for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * p / 100.0
    lo, hi = math.floor(rank), math.ceil(rank)
    frac = rank - lo
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * frac)


def summary(samples: Sequence[float], scale: float = 1.0, digits: int = 2) -> dict[str, Any]:
    """Count, mean, p50/p95/p99 and max of ``samples`` multiplied by ``scale`` (e.g. 1000: ms)."""
    if not samples:
        return {"n": 0}
    vals = [s * scale for s in samples]

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, digits)

    return {
        "n": len(vals),
        "mean": r(sum(vals) / len(vals)),
        "p50": r(percentile(vals, 50)),
        "p95": r(percentile(vals, 95)),
        "p99": r(percentile(vals, 99)),
        "max": r(max(vals)),
    }


def rate(count: int, seconds: float, digits: int = 1) -> float | None:
    """``count / seconds`` rounded, or None when no time elapsed."""
    if seconds <= 0:
        return None
    return round(count / seconds, digits)
