"""Runner overhead: 1 000 trials of a trivial objective with SQLite storage, ours vs Optuna's.

Run: python tests/benchmarks/bench_study.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import optuna
from common import Row, print_table, timed

from hposampler import Study

optuna.logging.set_verbosity(optuna.logging.WARNING)
N = 1000
SPACE = {"x": {"value_range": [-5.0, 5.0], "value_type": "float"},
         "y": {"value_range": [-5.0, 5.0], "value_type": "float"}}  # fmt: skip


def trivial(config: dict[str, Any]) -> float:
    return float(config["x"] ** 2 + config["y"] ** 2)


def ours() -> None:
    with tempfile.TemporaryDirectory() as folder:
        study = Study.create(Path(folder) / "s.db", "bench", "random", SPACE, {"loss": "min"},
                             seed=0)  # fmt: skip
        study.optimize(trivial, N)


def native() -> None:
    with tempfile.TemporaryDirectory() as folder:
        study = optuna.create_study(
            storage=f"sqlite:///{folder}/o.db", sampler=optuna.samplers.RandomSampler(seed=0)
        )
        study.optimize(
            lambda t: t.suggest_float("x", -5, 5) ** 2 + t.suggest_float("y", -5, 5) ** 2,
            n_trials=N,
        )


def run() -> list[Row]:
    t_ours = timed(ours, repeats=3)  # Optuna's run takes ~40 s: once is enough for a ratio
    t_native = timed(native, repeats=1)
    return [
        (
            "study: 1 000 random trials, trivial objective, SQLite, ours / optuna.optimize",
            f"{t_ours:.2f} s / {t_native:.2f} s = {t_ours / t_native:.3f}x",
            "<= 0.3x",
        )
    ]


if __name__ == "__main__":
    print_table(run())
