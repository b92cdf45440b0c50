"""Constraints: TPE told the study's constraints against TPE that is not, on a toy problem.

Run: python tests/benchmarks/bench_constraints.py

Minimise x^2 + y^2 on [0, 1]^2 subject to c = 1 - (x + y) <= 0: the feasible
optimum is (0.5, 0.5) with loss 0.5, and the unconstrained optimum (0, 0) is
infeasible. Both studies run 50 trials of TPE (10 random start-up trials), 5 seeds;
the constraint value is returned in both (one study declares it, the other keeps
it as an extra). Reported: the seeds where the study's ``best_trial`` is feasible
(with constraints it is the best feasible trial; without, the best by loss), the
seeds where a feasible trial came within ``NEAR`` of the optimum, and the median
regret of the best feasible trial.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Row, print_table

from hposampler import Study

SPACE = {"x": {"value_range": [0.0, 1.0]}, "y": {"value_range": [0.0, 1.0]}}
OPTIMUM, TRIALS, SEEDS, NEAR = 0.5, 50, 5, 0.02


def objective(config: dict[str, Any]) -> dict[str, float]:
    x, y = config["x"], config["y"]
    return {"loss": x * x + y * y, "c": 1.0 - (x + y)}


def one(folder: Path, seed: int, told: bool) -> tuple[bool, bool, float]:
    study = Study.create(folder / f"{seed}-{told}.db", "s", "tpe", SPACE, {"loss": "min"},
                         seed=seed, constraints=["c"] if told else ())  # fmt: skip
    study.optimize(objective, TRIALS)
    records = [r for r in study.records() if r.final_metrics]

    def c(r: Any) -> float:
        return float((r.final_metrics or {}).get("c", r.extra.get("c")))

    feasible = [r.final_metrics["loss"] for r in records if c(r) <= 0]
    regret = min(feasible) - OPTIMUM if feasible else float("inf")
    return c(study.best_trial) <= 0, regret < NEAR, regret


def run() -> list[Row]:
    folder = Path(tempfile.mkdtemp())
    rows: list[Row] = []
    results = {told: [one(folder, seed, told) for seed in range(SEEDS)] for told in (True, False)}
    for told, label in ((True, "told the constraint"), (False, "not told")):
        best_ok = sum(ok for ok, _, _ in results[told])
        near = sum(close for _, close, _ in results[told])
        regret = statistics.median(r for _, _, r in results[told])
        rows.append((
            f"constraints: TPE {label}, x^2 + y^2 s.t. x + y >= 1, {TRIALS} trials, {SEEDS} seeds",
            f"best_trial feasible in {best_ok} of {SEEDS} seeds; a feasible trial within "
            f"{NEAR} of the optimum in {near} of {SEEDS}; median regret of the best feasible "
            f"trial {regret:.4f}",
            "told: feasible best more often, lower regret",
        ))  # fmt: skip
    return rows


if __name__ == "__main__":
    print_table(run())
