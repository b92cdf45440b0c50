"""The bench harness: its own cost for TPE, and the quick suite on one and two workers.

Run: python tests/benchmarks/bench_leaderboard.py   (needs hposampler-bench[all])

* Harness cost: the ``quick`` suite's 6 tasks, 100 trials of ``tpe``, seed 0,
  run (a) as a plain loop of ``eager_sample`` / objective / ``update_trial``
  (what the sampler and the objective cost, nothing else) and (b) by the bench
  harness (a study per run in a SQLite file, ``Study.ask`` / ``Study.tell``,
  claims, then the results read back and summarised). In turns, order flipped
  every turn, median of 5 per-turn ratios; the cost is ``1 - a / b``: the share
  of the bench's wall time that the harness adds.
* ``auto``'s own cost: on each quick-suite task, sampler time per trial
  (``eager_sample`` + ``unlock`` + ``update_trial``, 100 trials, seed 0) of
  ``auto`` and of the backend it picks there, in turns, median of 3; the
  figure is the largest ratio over the tasks (goal: at most 2x).
* Quick suite wall time: ``hposampler bench --suite quick`` (3 seeds, 50
  trials) for random, tpe, optuna:cmaes, hyperopt:tpe and nevergrad:ngopt, as a
  user runs it (a subprocess: start-up included), ``--workers 1`` and
  ``--workers 2``, in turns, median of 3 (``--turns N`` for another count).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Row, interleaved, machine, print_table

from hposampler import TrialState, make_sampler
from hposampler.bench.harness import plan, run_suite
from hposampler.bench.summary import summarize_results

QUICK_SAMPLERS = "random,tpe,optuna:cmaes,hyperopt:tpe,nevergrad:ngopt"


def plain_loop() -> None:
    bench = plan(["quick"], ["tpe"], [0], 100)
    for _, task in bench.tasks:
        sampler = make_sampler("tpe", task.search_space, optim_metrics=dict(task.metrics),
                               seed=0, budget=100, concurrency=1)  # fmt: skip
        for _ in range(100):
            trial_id, config, _ = sampler.eager_sample()
            sampler.unlock(drop=False)
            metrics = dict(task.objective(config, 0))
            sampler.update_trial(trial_id, metrics, TrialState.COMPLETE)


def harness() -> None:
    bench = plan(["quick"], ["tpe"], [0], 100)
    with tempfile.TemporaryDirectory() as scratch:
        results = run_suite(bench, Path(scratch) / "b.db")
        summarize_results(results)


def sampler_seconds(name: str, task: Any) -> float:
    sampler = make_sampler(name, task.search_space, optim_metrics=dict(task.metrics), seed=0,
                           budget=100, concurrency=1)  # fmt: skip
    spent = 0.0
    for _ in range(100):
        start = time.perf_counter()
        trial_id, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        spent += time.perf_counter() - start
        metrics = dict(task.objective(config, 0))
        start = time.perf_counter()
        sampler.update_trial(trial_id, metrics, TrialState.COMPLETE)
        spent += time.perf_counter() - start
    return spent


def auto_cost() -> list[tuple[str, str, float, float]]:
    from hposampler.auto import AutoSampler

    out = []
    for _, task in plan(["quick"], ["auto"], [0], 100).tasks:
        auto = make_sampler("auto", task.search_space, optim_metrics=dict(task.metrics),
                            seed=0, budget=100)  # fmt: skip
        assert isinstance(auto, AutoSampler)
        chosen = auto.choice.backend
        pairs = [(sampler_seconds("auto", task), sampler_seconds(chosen, task))
                 for _ in range(3)]  # fmt: skip
        mine, theirs = (statistics.median(p[i] for p in pairs) for i in (0, 1))
        out.append((task.name, chosen, mine * 10, theirs * 10))  # ms per trial
    return out


def quick(workers: int) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "hposampler", "bench", "--suite", "quick", "--samplers",
             QUICK_SAMPLERS, "--seeds", "0-2", "--budget", "50", "--workers", str(workers),
             "--storage", str(Path(scratch) / "q.db")],
            check=True, capture_output=True,
        )  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    plain_loop(), harness()  # warm caches (tables, imports) before timing
    plain, full, ratio = interleaved(plain_loop, harness, repeats=5)
    rows: list[Row] = [
        ("harness cost, tpe, quick suite, 600 trials",
         f"plain loop {plain:.2f} s, harness {full:.2f} s: harness {100 * (1 - ratio):.1f} % "
         "of the wall time", "<= 5 %"),
    ]  # fmt: skip
    costs = auto_cost()
    worst = max(costs, key=lambda c: c[2] / c[3])
    rows.append(
        (
            "auto vs the backend it picks, sampler ms per trial (quick suite)",
            "; ".join(f"{t} {b}: {a:.1f} / {o:.1f}" for t, b, a, o in costs)
            + f"; largest ratio {worst[2] / worst[3]:.2f}x ({worst[0]})",
            "<= 2x",
        )
    )
    ones, twos = [], []
    turns = int(sys.argv[sys.argv.index("--turns") + 1]) if "--turns" in sys.argv else 3
    for turn in range(turns):
        order = (1, 2) if turn % 2 == 0 else (2, 1)
        for workers in order:
            (ones if workers == 1 else twos).append(quick(workers))
    one, two = statistics.median(ones), statistics.median(twos)
    rows += [
        (f"--suite quick, {QUICK_SAMPLERS}, 3 seeds, 50 trials, --workers 1",
         f"{one:.0f} s", "< 300 s"),
        ("same, --workers 2", f"{two:.0f} s ({one / two:.2f}x one worker)", "close to 2x"),
    ]  # fmt: skip
    print(f"machine: {machine()}")
    print_table(rows)


if __name__ == "__main__":
    main()
