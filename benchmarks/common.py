"""Shared helpers for benchmarks: result rows and latency statistics."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass
class Result:
    """One row of the benchmark table."""

    bench: str
    case: str
    metric: str
    value: float
    unit: str = ""
    target: str = ""

    def fmt(self) -> str:
        if self.unit == "ms":
            return f"{self.value:.2f}"
        if self.unit == "s":
            return f"{self.value:.3f}"
        if abs(self.value) >= 100:
            return f"{self.value:,.0f}"
        return f"{self.value:.3f}"


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def time_calls(fn: Callable[[int], object], n: int, warmup: int = 3) -> list[float]:
    """Call ``fn(i)`` ``n`` times after a warm-up; return each call's seconds."""
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out


def latency_rows(bench: str, case: str, seconds: Sequence[float], target: str = "") -> list[Result]:
    return [
        Result(bench, case, "p50", percentile(seconds, 0.5) * 1000, "ms", target),
        Result(bench, case, "p95", percentile(seconds, 0.95) * 1000, "ms"),
    ]
