"""Pruning: epochs and best final loss with no pruner, median, ASHA and Hyperband, ours
next to Optuna's own ``study.optimize`` with the same sampler and pruner; and what a
report costs on each executor.

Run: python tests/benchmarks/bench_pruning.py

* Quality: :func:`hposampler.problems.learning_curve` (50 epochs a trial, the loss of
  every epoch reported, ``should_prune`` asked after each), 60 trials of TPE
  (``constant_liar=True``, as our ``tpe``) per run, seeds 0-4. Ours is a whole
  ``Study.optimize`` on SQLite (every report stored as it happens); Optuna's is
  ``optuna.create_study(sampler=..., pruner=...).optimize`` in memory, under the
  study name hposampler's Optuna studies use (Hyperband hashes it into brackets). Epochs are the
  reports made; the best final loss is the best COMPLETE trial's.
* Report cost: a trial that reports 100 times and asks ``should_prune`` after each
  (median pruner), 20 trials at concurrency 2 per executor; the time beyond the same
  study with a one-argument objective, per report (a report plus a question).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests/: the `support` objectives

from common import Row, print_table  # noqa: E402

from hposampler import Study  # noqa: E402
from hposampler.problems import EPOCHS, LEARNING_CURVE_SPACE, learning_curve_at  # noqa: E402

TRIALS = 60
SEEDS = range(5)
PRUNERS: dict[str, tuple[str | None, dict[str, Any]]] = {
    "none": (None, {}),
    "median": ("median", {}),
    "asha": ("asha", {}),
    "hyperband": ("hyperband", {}),
}


def ours(pruner: str | None, seed: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as folder:
        study = Study.create(Path(folder) / "s.db", "s", "tpe", LEARNING_CURVE_SPACE,
                             {"loss": "min"}, seed=seed, pruner=pruner)  # fmt: skip
        study.optimize("hposampler.problems:learning_curve", TRIALS)
        records = study.records()
        study.storage.close()
    epochs = sum(len(r.intermediate) for r in records)
    best = min(r.final_metrics["loss"] for r in records  # type: ignore[index]
               if r.state.name == "COMPLETE")  # fmt: skip
    return epochs, best


def optunas(pruner: str | None, seed: int) -> tuple[int, float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    made = {
        None: optuna.pruners.NopPruner,
        "median": optuna.pruners.MedianPruner,
        "asha": optuna.pruners.SuccessiveHalvingPruner,
        "hyperband": optuna.pruners.HyperbandPruner,
    }[pruner]()
    study = optuna.create_study(  # our study name: Hyperband's brackets hash it
        study_name="hposampler",
        sampler=optuna.samplers.TPESampler(seed=seed, constant_liar=True),
        pruner=made,
    )
    epochs = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal epochs
        config = {
            "lr": trial.suggest_float("lr", 1e-4, 1.0, log=True),
            "width": trial.suggest_int("width", 16, 512, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        }
        loss = 0.0
        for epoch in range(EPOCHS):
            loss = learning_curve_at(config, epoch)
            epochs += 1
            trial.report(loss, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return loss

    study.optimize(objective, n_trials=TRIALS)
    return epochs, study.best_value


def quality() -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    figures: dict[str, Any] = {}
    for name, (pruner, _) in PRUNERS.items():
        mine = [ours(pruner, seed) for seed in SEEDS]
        theirs = [optunas(pruner, seed) for seed in SEEDS]
        figures[name] = (mine, theirs)
    base_epochs = statistics.median(e for e, _ in figures["none"][0])
    base_best = statistics.median(b for _, b in figures["none"][0])
    for name, (mine, theirs) in figures.items():
        epochs = statistics.median(e for e, _ in mine)
        best = statistics.median(b for _, b in mine)
        rows.append((
            f"pruning: {name}, TPE, {TRIALS} trials of learning_curve ({EPOCHS} epochs), "
            "median of 5 seeds, ours / Optuna's study.optimize",
            f"epochs {epochs:.0f} / {statistics.median(e for e, _ in theirs):.0f}; best final "
            f"loss {best:.4f} / {statistics.median(b for _, b in theirs):.4f}; "
            f"{base_epochs / epochs:.2f}x fewer epochs than none, best "
            f"{(best / base_best - 1) * 100:+.1f}%; identical runs "
            f"{sum(m == t for m, t in zip(mine, theirs))}/5",
            ">= 3x fewer epochs, best within 5%" if name != "none" else "the baseline",
        ))  # fmt: skip
    return rows, figures


def report_cost(executor: str) -> float:
    """Seconds per report (plus its should_prune) beyond the trial's own cost."""

    def run(objective: str, pruner: str | None) -> float:
        with tempfile.TemporaryDirectory() as folder:
            study = Study.create(Path(folder) / "s.db", "s", "random",
                                 {"x": {"value_range": [0.0, 1.0], "value_type": "float"}},
                                 {"loss": "min"}, seed=0, pruner=pruner)  # fmt: skip
            start = time.perf_counter()
            study.optimize(objective, 20, concurrency=2, executor=executor)
            return time.perf_counter() - start

    run("support:many_reports", "median")  # warm up
    with_reports = min(run("support:many_reports", "median") for _ in range(2))
    without = min(run("support:quadratic", None) for _ in range(2))
    return (with_reports - without) / (20 * 100)


def run() -> list[Row]:
    rows, _ = quality()
    import ray

    costs = {name: report_cost(name) for name in ("thread", "process")}
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             runtime_env={"env_vars": {"PYTHONPATH": str(HERE.parent)}})  # fmt: skip
    try:
        costs["ray"] = report_cost("ray")
    finally:
        ray.shutdown()
    rows.append((
        "pruning: cost of one report + should_prune, median pruner, SQLite, 20 trials x 100 "
        "reports at concurrency 2",
        ", ".join(f"{name} {cost * 1000:.2f} ms" for name, cost in costs.items()),
        "for the docs",
    ))  # fmt: skip
    return rows


if __name__ == "__main__":
    print_table(run())
