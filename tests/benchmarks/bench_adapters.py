"""Adapter cost: Optuna samplers behind our contract vs native ask/tell, and memory per trial.

Run: python tests/benchmarks/bench_adapters.py

* Speed: the same Optuna sampler class with the same seed and settings, driven
  through ``make_sampler`` and through Optuna's own ask/tell; runs are taken in
  turns (order flipped every turn) and the row reports the median of the per-turn
  ratios over 5 turns.
* Memory: a 5 000-trial random study on a trivial objective, ours
  (``Study.optimize`` on SQLite) and Optuna's (``study.optimize``, in-memory
  storage), each in a fresh interpreter; ``tracemalloc`` peak divided by the
  number of trials.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import optuna
from bench_optuna import FLAT, PARAMS, sphere
from common import Row, interleaved, print_table

from hposampler import TrialState, make_sampler


def ours(name: str, n: int) -> None:
    sampler = make_sampler(name, FLAT, optim_metrics={"loss": "min"}, seed=0)
    for _ in range(n):
        tid, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(tid, {"loss": sphere(config)}, TrialState.COMPLETE)


def native(make: Any, n: int) -> None:
    study = optuna.create_study(sampler=make())
    for _ in range(n):
        trial = study.ask()
        config = {p: trial.suggest_float(p, -5.0, 5.0) for p in PARAMS}
        study.tell(trial, sphere(config))


CASES = [
    ("optuna:random", 2000, lambda: optuna.samplers.RandomSampler(seed=0)),
    ("optuna:cmaes", 300, lambda: optuna.samplers.CmaEsSampler(seed=0)),
    # our TPE turns constant_liar on (concurrent trials); native gets the same setting
    ("optuna:tpe", 300, lambda: optuna.samplers.TPESampler(seed=0, constant_liar=True)),
]

MEMORY_SCRIPT = """
import json, os, sys, tempfile, tracemalloc
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
from hposampler import Study
from hposampler.problems import branin
n, who = int(sys.argv[1]), sys.argv[2]
space = {"x": {"value_range": [-5, 10], "value_type": "float"},
         "y": {"value_range": [0, 15], "value_type": "float"}}
def native_objective(trial):
    return branin({"x": trial.suggest_float("x", -5, 10), "y": trial.suggest_float("y", 0, 15)})
folder = tempfile.mkdtemp()
if who == "ours":  # warm up imports and caches outside the measurement
    Study.create(os.path.join(folder, "w.db"), "w", "optuna:random", space, {"loss": "min"},
                 seed=1).optimize(branin, 5)
    tracemalloc.start()
    Study.create(os.path.join(folder, "s.db"), "s", "optuna:random", space, {"loss": "min"},
                 seed=0).optimize(branin, n)
else:
    optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1)).optimize(
        native_objective, 5)
    tracemalloc.start()
    optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).optimize(
        native_objective, n)
print(json.dumps(tracemalloc.get_traced_memory()[1] / n))
"""


def memory_per_trial(who: str, n: int = 5000) -> float:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(n), who],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def run() -> list[Row]:
    rows: list[Row] = []
    for name, n, make in CASES:
        ours(name, 10)
        native(make, 10)  # warm up imports
        t_ours, t_native, ratio = interleaved(
            lambda name=name, n=n: ours(name, n), lambda make=make, n=n: native(make, n)
        )
        rows.append((
            f"adapter: {name}, {n} trials, 6 floats, ours / native ask-tell "
            "(median of 5 paired turns)",
            f"{t_ours:.3f} s / {t_native:.3f} s, ratio {ratio:.3f}x",
            "<= 1.05x",
        ))  # fmt: skip
    mem_ours, mem_native = memory_per_trial("ours"), memory_per_trial("native")
    rows.append((
        "memory: 5 000-trial optuna:random study, peak Python allocations per trial, "
        "ours (SQLite study) / Optuna in-memory study.optimize",
        f"{mem_ours:.0f} B / {mem_native:.0f} B = {mem_ours / mem_native:.3f}x",
        "<= 1.0x",
    ))  # fmt: skip
    return rows


if __name__ == "__main__":
    print_table(run())
