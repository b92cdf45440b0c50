"""The ``bbob`` suite: COCO's 24 noiseless BBOB functions (import ``cocoex``).

A task is a function at a dimension, ``f08-d05`` (Rosenbrock in 5-D), over
``x0 .. x{d-1}`` in ``[-5, 5]``. A run's seed picks the COCO *instance*
(``instance = seed + 1``, instances 1-15), as COCO itself repeats runs: each
instance shifts and rotates the function and moves its optimum. The task's
metric is the precision ``f(x) - f_opt`` (minimised, 0 at the optimum), so
every instance shares the reference optimum 0; ``f_opt`` comes from
``bbob_fopt.json`` (written by ``tools/bbob_references.py`` from COCO's own
optimum). The worse reference is the median precision of 256 random points
over instances 1-5.

The default selection is 12 functions spanning the five BBOB groups in 5-D:
f1, f2, f3, f6, f8, f10, f12, f15, f17, f20, f21, f24. Every function at
dimensions 2, 3, 5, 10, 20 and 40 can be named with ``--tasks``.
"""

from __future__ import annotations

import functools
import json
import statistics
from importlib import resources
from typing import Any

from hposampler.bench import Suite, Task

__all__ = ["DEFAULT", "DIMENSIONS", "bbob_suite", "bbob_task"]

DIMENSIONS = (2, 3, 5, 10, 20, 40)
DEFAULT = tuple(f"f{f:02d}-d05" for f in (1, 2, 3, 6, 8, 10, 12, 15, 17, 20, 21, 24))
_INSTANCES = 15


@functools.lru_cache(maxsize=1)
def _fopt() -> dict[str, float]:
    text = resources.files("hposampler_bench").joinpath("bbob_fopt.json").read_text("utf-8")
    table = json.loads(text)
    if not isinstance(table, dict) or not all(isinstance(v, float) for v in table.values()):
        raise ValueError("bbob_fopt.json is damaged; reinstall hposampler-bench")
    return table


@functools.lru_cache(maxsize=256)
def _problem(function: int, dimension: int, instance: int) -> tuple[Any, Any, float]:
    """(suite, problem, f_opt): the suite is kept, as the problem lives inside it."""
    import cocoex

    options = f"function_indices:{function} dimensions:{dimension} instance_indices:{instance}"
    suite = cocoex.Suite("bbob", "", options)
    key = f"f{function:02d}-d{dimension:02d}-i{instance:02d}"
    return suite, suite.get_problem(0), _fopt()[key]


def _instance(seed: int) -> int:
    return seed % _INSTANCES + 1


def _objective(function: int, dimension: int) -> Any:
    def objective(config: dict[str, Any], seed: int) -> dict[str, float]:
        import numpy as np

        _, problem, fopt = _problem(function, dimension, _instance(seed))
        x = np.array([float(config[f"x{i}"]) for i in range(dimension)])
        return {"precision": float(problem(x)) - fopt}

    return objective


def _worst(function: int, dimension: int) -> float:
    import numpy as np

    rng = np.random.default_rng(0)
    values = []
    for instance in range(1, 6):
        _, problem, fopt = _problem(function, dimension, instance)
        for x in rng.uniform(-5, 5, size=(256, dimension)):
            values.append(float(problem(x)) - fopt)
    return float(statistics.median(values))


def _task(function: int, dimension: int) -> Task:
    return Task(
        name=f"f{function:02d}-d{dimension:02d}",
        family="bbob",
        search_space={
            f"x{i}": {"value_range": [-5.0, 5.0], "value_type": "float"} for i in range(dimension)
        },
        metrics={"precision": "min"},
        optimum=0.0,
        worst=_worst(function, dimension),
        objective=_objective(function, dimension),
    )


@functools.cache
def bbob_task(name: str) -> Task:
    """The task ``fFF-dDD``: function FF at dimension DD (its worse reference computed
    on the first call, from 1280 evaluations)."""
    function, dimension = int(name[1:3]), int(name[5:7])
    return _task(function, dimension)


def _every_task() -> list[Task]:
    return [bbob_task(f"f{f:02d}-d{d:02d}") for d in DIMENSIONS for f in range(1, 25)]


@functools.lru_cache(maxsize=1)
def bbob_suite() -> Suite:
    """Every function at every dimension; the default is :data:`DEFAULT`."""
    return Suite("bbob", _every_task, default=DEFAULT)
