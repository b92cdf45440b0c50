"""Frontend cost: hposampler's samplers inside Optuna and Ray Tune vs those frameworks' own.

Run: python tests/benchmarks/bench_frontends.py

* Optuna: ``study.optimize`` on the same 4-parameter objective with
  ``HposamplerSampler("optuna:tpe", seed=0)`` and with Optuna's own
  ``TPESampler(seed=0, constant_liar=True)`` (the settings hposampler's TPE
  uses), 200 trials, in turns (order flipped every turn), median of the per-turn
  ratios over 5 turns. For an ``optuna:*`` backend the frontend hands Optuna's
  own sampler the outer study (no second, in-memory study), so the figure is
  the cost of that indirection and of the option checks.
* Ray Tune: a ``Tuner`` of 40 trials with ``HposamplerSearch("tpe")`` and with
  Ray's ``OptunaSearch`` (TPE, same seed), one local Ray, in turns over 3 turns;
  the figure is wall time per trial of the whole ``Tuner.fit``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import optuna
from common import Row, interleaved, print_table

optuna.logging.set_verbosity(optuna.logging.WARNING)

N_OPTUNA = 200
N_TUNE = 40


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", 1e-3, 1e2, log=True)
    k = trial.suggest_int("k", 0, 10)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return (x - 1) ** 2 + abs(y - 1) + (k - 3) ** 2 + (c != "b")


def with_ours() -> None:
    from hposampler_optuna import HposamplerSampler

    study = optuna.create_study(sampler=HposamplerSampler("optuna:tpe", seed=0))
    study.optimize(objective, n_trials=N_OPTUNA)


def with_optunas() -> None:
    sampler = optuna.samplers.TPESampler(seed=0, constant_liar=True)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=N_OPTUNA)


def optuna_rows() -> list[Row]:
    ours, native, ratio = interleaved(with_ours, with_optunas, repeats=5)
    return [(
        f"frontend: Optuna study.optimize, HposamplerSampler('optuna:tpe') vs TPESampler, "
        f"{N_OPTUNA} trials, 4 params",
        f"{ratio:.2f}x ({ours / N_OPTUNA * 1000:.2f} vs {native / N_OPTUNA * 1000:.2f} ms "
        "per trial)",
        "<= 1.05x",
    )]  # fmt: skip


def tune_rows() -> list[Row]:
    try:
        import ray
        from ray import tune
        from ray.tune.search.optuna import OptunaSearch
    except ImportError:
        return [("frontend: Ray Tune", "skipped: ray[tune] not installed", "")]
    from hposampler_ray import HposamplerSearch

    def trainable(config: dict[str, Any]) -> None:
        tune.report({"loss": (config["x"] - 1) ** 2 + (config["k"] - 3) ** 2})

    param_space = {"x": tune.uniform(-5, 5), "k": tune.randint(0, 11)}

    def fit(search: Any) -> None:
        tuner = tune.Tuner(
            trainable,
            param_space=param_space,
            tune_config=tune.TuneConfig(search_alg=search, num_samples=N_TUNE,
                                        metric="loss", mode="min"),
            run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(), verbose=0),
        )  # fmt: skip
        tuner.fit()

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False)  # fmt: skip
    try:
        ours, native, ratio = interleaved(
            lambda: fit(HposamplerSearch("tpe", seed=0)),
            lambda: fit(OptunaSearch(seed=0)),
            repeats=3,
        )
    finally:
        ray.shutdown()
    return [(
        f"frontend: Ray Tune Tuner.fit, HposamplerSearch('tpe') vs OptunaSearch, {N_TUNE} trials",
        f"{ratio:.2f}x ({ours / N_TUNE * 1000:.0f} vs {native / N_TUNE * 1000:.0f} ms per trial)",
        "<= 1.0x",
    )]  # fmt: skip


def run() -> list[Row]:
    return optuna_rows() + tune_rows()


if __name__ == "__main__":
    print_table(run())
