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
"""

from __future__ import annotations

from collections.abc import Callable

from hposampler.bench.inmemory import BenchRun, plot_bench, run_bench, summarize
from hposampler.bench.tasks import Suite, Task, get_suite, resolve_tasks, suite_names
from hposampler.plugins.hookspecs import hookimpl
from hposampler.plugins.specs import SuiteSpec

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


def _builtin() -> Suite:
    from hposampler.bench.builtin import builtin_suite

    return builtin_suite()


@hookimpl
def register_suites(register: Callable[[SuiteSpec], None]) -> None:
    """Register the core's ``builtin`` suite."""
    register(
        SuiteSpec(
            "builtin",
            _builtin,
            description="the built-in test problems (Branin, Hartmann6, Rosenbrock, ...)",
        )
    )
