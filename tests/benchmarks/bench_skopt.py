"""skopt adapter benchmarks: overhead vs native Optimizer, ask time vs number of trials.

Run: python tests/benchmarks/bench_skopt.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Row, alternating, print_table

from hposampler import TrialState, make_sampler

warnings.simplefilter("ignore", UserWarning)
SPACE = {
    "x": {"value_range": [-5.0, 10.0], "value_type": "float"},
    "y": {"value_range": [0.0, 15.0], "value_type": "float"},
    "z": {"value_range": [1e-3, 1.0], "value_type": "float", "log": True},
}


def objective(config: dict[str, Any]) -> float:
    from hposampler.problems import branin

    return branin(config) + abs(config["z"] - 0.1)


def ours(n: int = 25) -> None:
    sampler = make_sampler("skopt:gp", SPACE, optim_metrics={"loss": "min"}, seed=0,
                           n_initial_points=10)  # fmt: skip
    for _ in range(n):
        tid, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(tid, {"loss": objective(config)}, TrialState.COMPLETE)


def native(n: int = 25) -> None:
    from hposampler_skopt import shims

    shims.apply()
    from skopt import Optimizer
    from skopt.space import Real

    opt = Optimizer([Real(-5.0, 10.0), Real(0.0, 15.0), Real(1e-3, 1.0, prior="log-uniform")],
                    base_estimator="GP", random_state=0, n_initial_points=10)  # fmt: skip
    for _ in range(n):
        x, y, z = opt.ask()
        opt.tell([x, y, z], objective({"x": x, "y": y, "z": z}))


def ask_times(name: str, checkpoints: tuple[int, ...] = (10, 25, 50, 100)) -> list[str]:
    """Sampler time per trial (tell + ask: skopt fits and picks the next point in tell)."""
    sampler = make_sampler(name, SPACE, optim_metrics={"loss": "min"}, seed=0,
                           n_initial_points=5)  # fmt: skip
    out, done = [], 0
    for target in checkpoints:
        while done < target:
            start = time.perf_counter()
            tid, config, _ = sampler.eager_sample()
            sampler.unlock(drop=False)
            sampler.update_trial(tid, {"loss": objective(config)}, TrialState.COMPLETE)
            elapsed = time.perf_counter() - start
            done += 1
        out.append(f"{target}: {elapsed * 1000:.0f} ms")
    return out


def run() -> list[Row]:
    ours(5)
    native(5)  # warm up imports
    t_ours, t_native = alternating(ours, native, repeats=5)
    rows: list[Row] = [
        (
            "skopt: 25 GP trials, 3 params, ours / native Optimizer (best of 5, in turns)",
            f"{t_ours:.2f} s / {t_native:.2f} s = {t_ours / t_native:.3f}x",
            "<= 1.05x",
        )
    ]
    for name in ("skopt:gp", "skopt:rf", "skopt:et"):
        rows.append((f"skopt: sampler time per trial at trial N, {name}", ", ".join(ask_times(name)),
                     "for the docs"))  # fmt: skip
    return rows


if __name__ == "__main__":
    print_table(run())
