"""Adapter cost of the nevergrad and hyperopt plugins against the libraries driven directly.

Run: python tests/benchmarks/bench_backends.py

* nevergrad: the same optimizer, seed, budget and ``num_workers=1``, through
  ``make_sampler`` and through nevergrad's own ``ask``/``tell`` on an equal
  ``ng.p.Dict`` of six scalars;
* hyperopt: the same ``suggest`` algorithm and seed through ``make_sampler`` and
  through ``hyperopt.fmin`` (hyperopt's own driver; it has no ask/tell API),
  without its progress bar.

Both sides produce identical sequences (the plugins' tests check it), so the
ratio is the adapter's cost alone. Runs are taken in turns, the order flipped
every turn; each row is the median of the per-turn ratios over 5 turns.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_optuna import FLAT, PARAMS, sphere
from common import Row, interleaved, print_table

from hposampler import TrialState, make_sampler

NEVERGRAD = [("nevergrad:ngopt", "NGOpt", 300), ("nevergrad:de", "TwoPointsDE", 1000),
             ("nevergrad:oneplusone", "OnePlusOne", 1000), ("nevergrad:cma", "CMA", 300),
             ("nevergrad:pso", "PSO", 1000), ("nevergrad:random", "RandomSearch", 1000)]  # fmt: skip
HYPEROPT = [("hyperopt:tpe", "tpe", 200), ("hyperopt:anneal", "anneal", 500),
            ("hyperopt:random", "rand", 1000)]  # fmt: skip


def ours(name: str, n: int) -> None:
    sampler = make_sampler(name, FLAT, optim_metrics={"loss": "min"}, seed=0, budget=n,
                           concurrency=1)  # fmt: skip
    for _ in range(n):
        tid, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(tid, {"loss": sphere(config)}, TrialState.COMPLETE)


def native_nevergrad(algo: str, n: int) -> None:
    import nevergrad as ng

    param = ng.p.Dict(**{p: ng.p.Scalar(lower=-5.0, upper=5.0) for p in PARAMS})
    param.random_state.seed(0)
    optimizer = ng.optimizers.registry[algo](parametrization=param, budget=n, num_workers=1)
    for _ in range(n):
        candidate = optimizer.ask()
        optimizer.tell(candidate, sphere(candidate.value))


def native_hyperopt(module: str, n: int) -> None:
    import importlib

    import numpy as np
    from hyperopt import Trials, fmin, hp

    space = {p: hp.uniform(p, -5.0, 5.0) for p in PARAMS}
    suggest = importlib.import_module(f"hyperopt.{module}").suggest
    fmin(sphere, space, algo=suggest, max_evals=n, trials=Trials(),
         rstate=np.random.default_rng(0), show_progressbar=False)  # fmt: skip


def run() -> list[Row]:
    import importlib.util

    cases: list[tuple[str, int, Any]] = []
    if importlib.util.find_spec("hposampler_nevergrad"):
        cases += [(name, n, lambda a=algo, n=n: native_nevergrad(a, n))
                  for name, algo, n in NEVERGRAD]  # fmt: skip
    if importlib.util.find_spec("hposampler_hyperopt"):
        cases += [(name, n, lambda m=module, n=n: native_hyperopt(m, n))
                  for name, module, n in HYPEROPT]  # fmt: skip
    rows: list[Row] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nevergrad's notes on budgets and bounds
        for name, n, native in cases:
            ours(name, 20)  # warm up imports
            t_ours, t_native, ratio = interleaved(lambda name=name, n=n: ours(name, n), native)
            driver = "fmin" if name.startswith("hyperopt") else "ask-tell"
            rows.append((
                f"adapter: {name}, {n} trials, 6 floats, ours / native {driver} "
                "(median of 5 paired turns)",
                f"{t_ours:.3f} s / {t_native:.3f} s, ratio {ratio:.3f}x",
                "<= 1.05x",
            ))  # fmt: skip
    return rows


if __name__ == "__main__":
    print_table(run())
