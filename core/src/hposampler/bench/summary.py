"""The leaderboard's figures, from :class:`~hposampler.bench.results.BenchResults`.

* **Normalised regret** of a run at trial ``t``: the best value so far, scaled
  so that 0 is the task's optimum and 1 its fixed worse reference
  (:meth:`TaskInfo.regret`). A run that stopped early (a grid used up its
  space) keeps its last value.
* **Rank**: on every (task, seed), the samplers that ran it are ranked by
  final normalised regret, 1 the best, ties sharing the mean of their ranks. A
  sampler's mean rank is over all its (task, seed) pairs; its 95 % interval
  comes from resampling the tasks with replacement (1000 times, a fixed seed).
* **Median regret** at 25 %, 50 % and 100 % of the budget, over all runs.
* **Wins**: per task family, the tasks on which the sampler's median final
  regret is the lowest (every tied sampler wins).
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs

from hposampler.bench.results import BenchResults, RunResult

__all__ = ["Row", "ranks_on", "regret_at", "summarize_results"]

FRACTIONS = (0.25, 0.5, 1.0)


@attrs.frozen
class Row:
    """One sampler's line of the leaderboard."""

    sampler: str
    mean_rank: float
    rank_low: float
    rank_high: float
    median_regret: dict[str, float]  # "25%", "50%", "100%"
    wins: dict[str, int]  # family -> tasks won
    ms_per_trial: float
    tasks: int
    runs: int
    skipped: dict[str, str]  # task -> reason
    failed: int

    def to_json(self) -> dict[str, Any]:
        """A plain dict (what ``--json`` prints under ``leaderboard``)."""
        return attrs.asdict(self)


def regret_at(results: BenchResults, run: RunResult, fraction: float) -> float:
    """``run``'s normalised regret after ``fraction`` of the budget."""
    info = results.tasks[run.task_key]
    if not run.best_so_far:
        return 1.0
    t = max(1, round(fraction * results.budget))
    return info.regret(run.best_so_far[min(t, len(run.best_so_far)) - 1])


def _tie_ranks(scores: dict[str, float]) -> dict[str, float]:
    ordered = sorted(scores, key=scores.__getitem__)
    ranks: dict[str, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and scores[ordered[j + 1]] == scores[ordered[i]]:
            j += 1
        for name in ordered[i : j + 1]:
            ranks[name] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def ranks_on(
    results: BenchResults, fraction: float = 1.0
) -> dict[tuple[str, int], dict[str, float]]:
    """Ranks by ``(task key, seed)``: sampler -> rank (ties share their mean)."""
    groups: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for run in results.runs:
        if run.status == "done":
            groups[(run.task_key, run.seed)][run.sampler] = regret_at(results, run, fraction)
    return {key: _tie_ranks(scores) for key, scores in groups.items() if len(scores) > 1}


def _bootstrap(per_task: dict[str, list[float]], reps: int = 1000) -> tuple[float, float]:
    tasks = sorted(per_task)
    if not tasks:
        return (float("nan"), float("nan"))
    rng = random.Random(0)
    means = []
    for _ in range(reps):
        drawn = [rng.choice(tasks) for _ in tasks]
        values = [r for t in drawn for r in per_task[t]]
        means.append(statistics.fmean(values))
    means.sort()
    return means[int(0.025 * reps)], means[int(0.975 * reps) - 1]


def summarize_results(results: BenchResults) -> list[Row]:
    """The leaderboard: one :class:`Row` per sampler, best mean rank first."""
    ranks = ranks_on(results)
    samplers = list(dict.fromkeys(r.sampler for r in results.runs))
    per_task_rank: dict[str, dict[str, list[float]]] = {s: defaultdict(list) for s in samplers}
    for (task, _seed), ranked in ranks.items():
        for sampler, rank in ranked.items():
            per_task_rank[sampler][task].append(rank)
    finals: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in results.runs:
        if run.status == "done":
            finals[run.task_key][run.sampler].append(regret_at(results, run, 1.0))
    wins: dict[str, dict[str, int]] = {s: defaultdict(int) for s in samplers}
    for task, by_sampler in finals.items():
        medians = {s: statistics.median(v) for s, v in by_sampler.items()}
        if len(medians) > 1:
            best = min(medians.values())
            for sampler, value in medians.items():
                if value == best:
                    wins[sampler][results.tasks[task].family] += 1
    rows = []
    for sampler in samplers:
        mine = [r for r in results.runs if r.sampler == sampler]
        done = [r for r in mine if r.status == "done"]
        all_ranks = [x for values in per_task_rank[sampler].values() for x in values]
        low, high = _bootstrap(per_task_rank[sampler])
        trials = sum(len(r.best_so_far) for r in done)
        rows.append(
            Row(
                sampler=sampler,
                mean_rank=statistics.fmean(all_ranks) if all_ranks else float("nan"),
                rank_low=low,
                rank_high=high,
                median_regret={
                    f"{round(f * 100)}%": statistics.median(regret_at(results, r, f) for r in done)
                    if done
                    else float("nan")
                    for f in FRACTIONS
                },
                wins=dict(wins[sampler]),
                ms_per_trial=(
                    sum(r.sampler_ms * len(r.best_so_far) for r in done) / trials if trials else 0.0
                ),
                tasks=len({r.task_key for r in done}),
                runs=len(done),
                skipped={r.task_key: r.reason for r in mine if r.status == "skipped"},
                failed=sum(1 for r in mine if r.status == "failed"),
            )
        )
    return sorted(rows, key=lambda r: (r.mean_rank != r.mean_rank, r.mean_rank, r.sampler))


def families(results: BenchResults) -> list[str]:
    """The task families, in the order the tasks came."""
    return list(dict.fromkeys(t.family for t in results.tasks.values()))


def family_curves(results: BenchResults, family: str) -> dict[str, list[float]]:
    """Median normalised regret per trial over a family's runs, per sampler."""
    out: dict[str, list[float]] = {}
    for sampler in dict.fromkeys(r.sampler for r in results.runs):
        runs = [
            r
            for r in results.runs
            if r.sampler == sampler
            and r.status == "done"
            and results.tasks[r.task_key].family == family
        ]
        if runs:
            out[sampler] = [
                statistics.median(regret_at(results, r, t / results.budget) for r in runs)
                for t in range(1, results.budget + 1)
            ]
    return out


def rank_curve(results: BenchResults, points: Sequence[float]) -> dict[str, list[float]]:
    """Mean rank per sampler at each fraction of the budget in ``points``."""
    out: dict[str, list[float]] = defaultdict(list)
    for fraction in points:
        collected: dict[str, list[float]] = defaultdict(list)
        for ranked in ranks_on(results, fraction).values():
            for sampler, rank in ranked.items():
                collected[sampler].append(rank)
        for sampler, values in collected.items():
            out[sampler].append(statistics.fmean(values))
    return dict(out)
