"""Median and percentiles of a sample of durations, printed the same way by every benchmark."""

from __future__ import annotations

import statistics


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float]) -> dict[str, float]:
    """Milliseconds."""
    return {
        "n": len(samples),
        "median_ms": statistics.median(samples) * 1000,
        "p95_ms": percentile(samples, 95) * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
    }


def line(name: str, samples: list[float]) -> str:
    s = summary(samples)
    return (
        f"{name:<44} n={s['n']:>5}  median {s['median_ms']:7.3f} ms"
        f"  p95 {s['p95_ms']:7.3f} ms  p99 {s['p99_ms']:7.3f} ms"
    )
