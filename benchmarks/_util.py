"""Helpers shared by the benchmark modules."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_of(fn: Callable[[], object], runs: int, warmup: int = 1) -> tuple[float, list[float]]:
    """Run ``fn`` warmup + runs times; return (median seconds, all timings)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def figure(name: str, value: float, unit: str, **extra: object) -> dict:
    return {"name": name, "value": round(value, 4), "unit": unit, **extra}
