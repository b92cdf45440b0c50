"""Benchmark tasks and suites: what ``hposampler bench`` runs samplers on.

A :class:`Task` is one problem: a search space, the metrics it returns (the first
is the one ranked), a reference optimum and a fixed worst reference for the
normalised regret, and an objective that takes the config and the run's seed
(so that every sampler sees the same noise for the same seed). A :class:`Suite`
is a named set of tasks with a default selection; plugins register suites with
the ``register_suites`` hook (:class:`~hposampler.plugins.specs.SuiteSpec`).

The core's own suite, ``builtin``, holds :data:`hposampler.problems.PROBLEMS`.
"""

from __future__ import annotations

import difflib
import importlib.util
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from hposampler.errors import BenchError, MissingDependencyError
from hposampler.plugins.specs import SuiteSpec

__all__ = ["Suite", "Task", "get_suite", "normalised_regret", "resolve_tasks", "suite_names"]

#: An objective of a task: ``(config, seed) -> {metric: value}``.
TaskObjective = Callable[[dict[str, Any], int], Mapping[str, float]]


def normalised_regret(value: float, optimum: float, worst: float, minimize: bool) -> float:
    """``(optimum - value) / (optimum - worst)`` in the metric's direction, at least 0:
    0 at the optimum, 1 at the worse reference (1 for a value that is not a number)."""
    span = (worst - optimum) if minimize else (optimum - worst)
    gap = (value - optimum) if minimize else (optimum - value)
    if math.isnan(gap):
        return 1.0
    return max(gap, 0.0) / span if span > 0 else float(gap > 0)


@attrs.frozen
class Task:
    """One benchmark problem.

    Parameters
    ----------
    name : str
        Unique within its suite (``"hpobench/car"``, ``"f08-d05"``).
    family : str
        The group it is ranked in for "wins per family" (``"hpobench"``).
    search_space : dict
        An hposampler search space.
    metrics : dict
        ``{name: "min" | "max"}``; the first is the ranked metric.
    optimum : float
        The best value of the ranked metric that can be observed (the table's
        best, a function's minimum).
    worst : float
        A fixed worse reference (e.g. the median of random configs): the
        normalised regret is ``(optimum - best) / (optimum - worst)`` in the
        metric's direction, 0 at the optimum and 1 at this reference.
    objective : callable
        ``objective(config, seed) -> {metric: value}``, deterministic for a
        config and seed.
    """

    name: str
    family: str
    search_space: dict[str, Any]
    metrics: dict[str, str]
    optimum: float
    worst: float
    objective: TaskObjective = attrs.field(eq=False, repr=False)

    @property
    def metric(self) -> str:
        """The ranked metric."""
        return next(iter(self.metrics))

    @property
    def minimize(self) -> bool:
        """Whether the ranked metric is minimised."""
        return self.metrics[self.metric] == "min"

    def regret(self, value: float) -> float:
        """The normalised regret of ``value`` of the ranked metric (:func:`normalised_regret`)."""
        return normalised_regret(value, self.optimum, self.worst, self.minimize)


def _names(value: Sequence[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class Suite:
    """A named set of tasks (what a ``register_suites`` factory returns).

    Parameters
    ----------
    name : str
        The suite's name.
    tasks : callable
        ``tasks()`` returns every task (called once, when the suite is used).
    default : sequence of str, optional
        The task names ``--suite NAME`` runs when no ``--tasks`` are given; all
        tasks when empty.
    """

    name: str
    tasks: Callable[[], Sequence[Task]] = attrs.field(eq=False, repr=False)
    default: tuple[str, ...] = attrs.field(default=(), converter=_names)


def _registry_suites() -> dict[str, SuiteSpec]:
    from hposampler.plugins.registry import get_registry

    return {name: spec for name, (spec, _) in get_registry().suites().items()}


def suite_names() -> list[str]:
    """The names of every registered suite."""
    return sorted(_registry_suites())


def get_suite(name: str) -> Suite:
    """The suite called ``name``, built by its plugin.

    Raises
    ------
    BenchError
        For an unknown suite (with close matches and the installed names).
    MissingDependencyError
        When a module the suite needs is not installed (names what to install).
    """
    specs = _registry_suites()
    if name not in specs:
        close = difflib.get_close_matches(name, specs, n=2)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise BenchError(
            f"unknown suite {name!r}; {hint}installed suites: {', '.join(sorted(specs))} "
            "(hposampler-bench adds hpobench and bbob)"
        )
    spec = specs[name]
    missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
    if missing:
        install = spec.install or " ".join(missing)
        raise MissingDependencyError(
            f"suite {name!r} needs the {', '.join(map(repr, missing))} module, which is not "
            f"installed; install it with `pip install {install}`"
        )
    suite = spec.factory()
    if not isinstance(suite, Suite):
        raise BenchError(
            f"suite {name!r}'s factory returned {type(suite).__name__}, not a "
            "hposampler.bench.Suite; fix the plugin that registers it"
        )
    return suite


def resolve_tasks(suites: Sequence[str], tasks: Sequence[str] = ()) -> list[tuple[str, Task]]:
    """``(suite, task)`` pairs: each suite's default tasks, or the ``tasks`` named.

    A task is named ``suite/task`` or just ``task`` (searched in every given suite).

    Raises
    ------
    BenchError
        For an unknown task (with close matches).
    """
    built = {name: get_suite(name) for name in suites}
    every = {name: {t.name: t for t in suite.tasks()} for name, suite in built.items()}
    out: list[tuple[str, Task]] = []
    if not tasks:
        for name, suite in built.items():
            chosen = suite.default or tuple(every[name])
            out.extend((name, every[name][t]) for t in chosen)
        return out
    for wanted in tasks:
        suite_part, _, task_part = wanted.rpartition("/") if "/" in wanted else ("", "", wanted)
        found = [
            (name, named[task_part])
            for name, named in every.items()
            if task_part in named and suite_part in ("", name)
        ]
        found += [
            (name, named[wanted]) for name, named in every.items() if wanted in named and not found
        ]
        if not found:
            known = [t for named in every.values() for t in named]
            close = difflib.get_close_matches(task_part, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise BenchError(
                f"unknown task {wanted!r} in suite(s) {', '.join(suites)}{hint} "
                "(`hposampler bench --list` shows every task)"
            )
        out.append(found[0])
    return out
