"""The ``builtin`` suite: :data:`hposampler.problems.PROBLEMS` as benchmark tasks."""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Mapping
from typing import Any

from hposampler.bench.tasks import Suite, Task
from hposampler.problems import PROBLEMS

__all__ = ["builtin_suite", "median_of_random"]


def median_of_random(
    search_space: Mapping[str, Any],
    evaluate: Callable[[dict[str, Any]], float],
    n: int = 256,
) -> float:
    """The median value of ``n`` random configs (seed 0): a fixed worse reference."""
    from hposampler.samplers.trial import TrialState
    from hposampler.selection import make_sampler

    # the core's own random search by its full name: the references stay put if what
    # the alias `random` names ever changes again (0.4 changed it, and them)
    sampler = make_sampler("hposampler:random", search_space, seed=0)
    values = []
    for _ in range(n):
        trial_id, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        values.append(evaluate(config))
        sampler.update_trial(trial_id, None, TrialState.COMPLETE)
    return float(statistics.median(values))


def _objective(problem: str) -> Callable[[dict[str, Any], int], dict[str, float]]:
    function = PROBLEMS[problem].objective

    def objective(config: dict[str, Any], seed: int) -> dict[str, float]:
        return {"loss": float(function(config))}  # deterministic: the seed changes nothing

    return objective


@functools.lru_cache(maxsize=1)
def builtin_suite() -> Suite:
    """Every built-in problem as a task of family ``builtin``; the default runs
    ``branin`` and ``hartmann6``."""

    def tasks() -> list[Task]:
        out = []
        for name, problem in PROBLEMS.items():
            worst = median_of_random(problem.search_space, problem.objective, n=64)
            out.append(
                Task(
                    name,
                    "builtin",
                    problem.search_space,
                    {"loss": "min"},
                    problem.optimum,
                    worst,
                    _objective(name),
                )
            )
        return out

    return Suite("builtin", functools.cache(tasks), default=("branin", "hartmann6"))
