"""The bench harness: its own cost for TPE, and the quick suite on one and two workers.

Run: python tests/benchmarks/bench_leaderboard.py   (needs hposampler-bench[all])

* Harness cost: the ``quick`` suite's 6 tasks, 100 trials of ``tpe``, seed 0,
  run (a) as a plain loop of ``eager_sample`` / objective / ``update_trial``
  (what the sampler and the objective cost, nothing else) and (b) by the bench
  harness (a study per run in a SQLite file, ``Study.ask`` / ``Study.tell``,
  claims, then the results read back and summarised). In turns, order flipped
  every turn, median of 5 per-turn ratios; the cost is ``1 - a / b``: the share
  of the bench's wall time that the harness adds.
* Quick suite wall time: ``hposampler bench --suite quick`` (3 seeds, 50
  trials) for random, tpe, optuna:cmaes, hyperopt:tpe and nevergrad:ngopt, as a
  user runs it (a subprocess: start-up included), ``--workers 1`` and
  ``--workers 2``, in turns, median of 3.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    ones, twos = [], []
    for turn in range(3):
        order = (1, 2) if turn % 2 == 0 else (2, 1)
        for workers in order:
            (ones if workers == 1 else twos).append(quick(workers))
    one, two = sorted(ones)[1], sorted(twos)[1]
    rows += [
        (f"--suite quick, {QUICK_SAMPLERS}, 3 seeds, 50 trials, --workers 1",
         f"{one:.0f} s", "< 300 s"),
        ("same, --workers 2", f"{two:.0f} s ({one / two:.2f}x one worker)", "close to 2x"),
    ]  # fmt: skip
    print(f"machine: {machine()}")
    print_table(rows)


if __name__ == "__main__":
    main()
