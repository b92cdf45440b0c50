"""Benchmarks: suites of tasks, study-backed runs, summaries and the leaderboard.

:mod:`~hposampler.bench.tasks`
    :class:`Task` and :class:`Suite`, and looking suites up by name (plugins
    register them with the ``register_suites`` hook).
:mod:`~hposampler.bench.builtin`
    The core's ``builtin`` suite (:data:`hposampler.problems.PROBLEMS`).
:mod:`~hposampler.bench.runs`
    :func:`run_suite`: every (sampler, task, seed) run is a study in a storage,
    so a bench resumes after a crash and several workers share one.
:mod:`~hposampler.bench.results`
    :class:`BenchResults`: the runs read back as JSON (what ``--json`` writes
    and ``--against`` reads), validated on load.
:mod:`~hposampler.bench.summary`
    Normalised regret, mean rank with a bootstrap interval, wins per family.
:mod:`~hposampler.bench.inmemory`
    :func:`run_bench`, the 0.3 in-memory loop over the built-in problems.
:mod:`~hposampler.bench.hooks`
    The core's plugin that registers the ``builtin`` suite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hposampler.bench.inmemory import BenchRun, plot_bench, run_bench, summarize
    from hposampler.bench.tasks import Suite, Task, get_suite, resolve_tasks, suite_names

__all__ = [
    "BenchRun",
    "Suite",
    "Task",
    "get_suite",
    "plot_bench",
    "resolve_tasks",
    "run_bench",
    "suite_names",
    "summarize",
]

# the names above are imported on first use: plugin discovery imports this package
# (for its ``hooks`` module) in every process, which needs none of them
_HOME = {
    "BenchRun": "inmemory", "plot_bench": "inmemory", "run_bench": "inmemory",
    "summarize": "inmemory", "Suite": "tasks", "Task": "tasks", "get_suite": "tasks",
    "resolve_tasks": "tasks", "suite_names": "tasks",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
