"""``hposampler bench``: compare samplers on the standard problems.

Each sampler runs ``budget`` trials on each problem, once per seed; the result
holds every run's best-so-far curve and the time spent inside the sampler
(``eager_sample`` + ``unlock`` + ``update_trial``), not in the objective.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from hposampler.errors import StudyError
from hposampler.problems import PROBLEMS
from hposampler.samplers.trial import TrialState
from hposampler.selection import make_sampler

__all__ = ["BenchRun", "plot_bench", "run_bench", "summarize"]


@attrs.frozen
class BenchRun:
    """One sampler on one problem with one seed."""

    sampler: str
    problem: str
    seed: int
    best_so_far: list[float]
    sampler_seconds: float

    @property
    def best(self) -> float:
        """The best value found."""
        return self.best_so_far[-1] if self.best_so_far else math.inf


def run_bench(
    samplers: Sequence[str],
    problems: Sequence[str],
    budget: int,
    repeats: int,
    on_run: Callable[[BenchRun], None] | None = None,
) -> list[BenchRun]:
    """Run every sampler on every problem ``repeats`` times (seeds 0, 1, ...).

    Raises
    ------
    StudyError
        For an unknown problem (the message lists the known ones).
    UnknownSamplerError
        For an unknown sampler.
    """
    unknown = [p for p in problems if p not in PROBLEMS]
    if unknown:
        raise StudyError(
            f"unknown problem(s) {', '.join(unknown)}; choose from {', '.join(PROBLEMS)}"
        )
    runs = []
    for problem_name in problems:
        problem = PROBLEMS[problem_name]
        for name in samplers:
            for seed in range(repeats):
                sampler = make_sampler(  # as a study of `budget` trials builds it
                    name, problem.search_space, optim_metrics={"loss": "min"}, seed=seed,
                    budget=budget, concurrency=1,
                )  # fmt: skip
                best, curve, spent = math.inf, [], 0.0
                for _ in range(budget):
                    start = time.perf_counter()
                    try:
                        trial_id, config, _ = sampler.eager_sample()
                    except StopIteration:
                        break
                    sampler.unlock(drop=False)
                    spent += time.perf_counter() - start
                    value = problem.objective(config)
                    start = time.perf_counter()
                    sampler.update_trial(trial_id, {"loss": value}, TrialState.COMPLETE)
                    spent += time.perf_counter() - start
                    best = min(best, value)
                    curve.append(best)
                run = BenchRun(name, problem_name, seed, curve, spent)
                runs.append(run)
                if on_run is not None:
                    on_run(run)
    return runs


def summarize(runs: Sequence[BenchRun]) -> list[dict[str, Any]]:
    """Median best, median regret and sampler time per trial, per (problem, sampler)."""
    groups: dict[tuple[str, str], list[BenchRun]] = {}
    for run in runs:
        groups.setdefault((run.problem, run.sampler), []).append(run)
    rows = []
    for (problem, sampler), group in groups.items():
        best = statistics.median(r.best for r in group)
        trials = sum(len(r.best_so_far) for r in group) or 1
        rows.append(
            {
                "problem": problem,
                "sampler": sampler,
                "median_best": best,
                "median_regret": best - PROBLEMS[problem].optimum,
                "ms_per_trial": 1000 * sum(r.sampler_seconds for r in group) / trials,
                "runs": len(group),
            }
        )
    return rows


def plot_bench(runs: Sequence[BenchRun], output: str | Path) -> Path:
    """Median best-so-far regret curves, one panel per problem."""
    from hposampler.viz.plotting import new_figure

    problems = list(dict.fromkeys(r.problem for r in runs))
    fig = new_figure(5 * len(problems), 3.8)
    axes = fig.subplots(1, len(problems), squeeze=False)
    for ax, problem in zip(axes[0], problems):
        optimum = PROBLEMS[problem].optimum
        for sampler in dict.fromkeys(r.sampler for r in runs if r.problem == problem):
            curves = [r.best_so_far for r in runs if r.problem == problem and r.sampler == sampler]
            length = min(len(c) for c in curves)
            median = [statistics.median(c[i] for c in curves) - optimum for i in range(length)]
            ax.plot(range(1, length + 1), [max(m, 1e-12) for m in median], label=sampler)
        ax.set_yscale("log")
        ax.set_title(problem)
        ax.set_xlabel("trial")
        ax.set_ylabel("median regret (best so far - optimum)")
        ax.legend(fontsize=8)
    path = Path(output)
    fig.savefig(path, dpi=110)
    return path
