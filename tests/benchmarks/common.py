"""Shared helpers for the benchmark scripts (not collected by pytest)."""

from __future__ import annotations

import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

Row = tuple[str, str, str]  # (benchmark, figure, target)


def timed(fn: Callable[[], Any], repeats: int = 1) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alternating(
    a: Callable[[], Any], b: Callable[[], Any], repeats: int = 5
) -> tuple[float, float]:
    """Best wall times of ``a`` and ``b`` measured in turns (a, b, a, b, ...).

    Taking turns spreads machine noise over both; the minimum is the least noisy
    estimate of what each costs.
    """
    times_a, times_b = [], []
    for _ in range(repeats):
        times_a.append(timed(a))
        times_b.append(timed(b))
    return min(times_a), min(times_b)


def interleaved(
    a: Callable[[], Any], b: Callable[[], Any], repeats: int = 5
) -> tuple[float, float, float]:
    """Median times of ``a`` and ``b`` run in turns, and the median of the per-turn ratios.

    Each turn runs ``a`` then ``b`` (the order flips every turn), so slow phases of
    the machine hit both; the median ratio of paired turns is the figure reported.
    """
    times_a, times_b, ratios = [], [], []
    for i in range(repeats):
        if i % 2:
            tb, ta = timed(b), timed(a)
        else:
            ta, tb = timed(a), timed(b)
        times_a.append(ta)
        times_b.append(tb)
        ratios.append(ta / tb)
    return statistics.median(times_a), statistics.median(times_b), statistics.median(ratios)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    import os

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}"
    )


def print_table(rows: list[Row]) -> None:
    print("| benchmark | figure | target |")
    print("| --- | --- | --- |")
    for bench, figure, target in rows:
        print(f"| {bench} | {figure} | {target} |")
