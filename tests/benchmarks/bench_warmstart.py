"""Warm start, leave one out over HPOBench's 8 datasets (same space).

Run: python tests/benchmarks/bench_warmstart.py [--samplers tpe,optuna:gp,auto]
[--json docs/warmstart.json] (needs hposampler-bench[hpobench]; ``optuna:gp`` needs
torch and is left out, with a note, without it: about 80 s without it, about an hour
with it on 2 cores); ``tools/leaderboard_doc.py`` writes the JSON's figures into
docs/leaderboard.md.

For each dataset, a study of 100 trials is warm-started from the other seven
datasets' studies (100 trials of ``random`` each, seed 0, run here first), and
compared with the same study cold, for ``tpe``, ``optuna:gp`` and ``auto``, seeds 0-4. The
figures are the median normalised regret (the leaderboard's) after 20 and
after 100 trials, warm and cold, over the 8 x 5 runs. Goals: at 20 trials warm
at most half of cold; at 100 trials warm never worse than cold by more than 5 %
(of cold's regret).

It also prints two ceilings that bound what any warm start from these sources
can reach at 20 trials: **own optimum**, the target's own best config (highest
mean over the table's training seeds) evaluated once per run seed, which only an
oracle could propose; and **sources' optima**, the best of the other seven
datasets' own best configs, each evaluated once on the target: what perfect
knowledge of the sources gives in 7 trials.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine

from hposampler import Study
from hposampler.bench import get_suite

SAMPLERS = ("tpe", "optuna:gp", "auto")
SEEDS = range(5)


def objective_of(task: Any, seed: int) -> Any:
    """The task as a one-argument objective (a second argument would be a trial handle)."""

    def objective(config: dict[str, Any]) -> dict[str, float]:
        return dict(task.objective(config, seed))

    return objective


def best_config(task: Any) -> dict[str, Any]:
    """The task's config with the highest mean over the table's training seeds."""
    from hposampler_bench.hpobench import _benchmark

    bench = _benchmark("hpobench", task.name.split("-", 1)[1])
    table = bench._dataset  # {"01234": {metric: [one value per training seed]}}
    key = max(table, key=lambda k: statistics.fmean(table[k][task.metric]))
    choices = bench._dataset_properties.search_space
    return {name: values[int(digit)] for (name, values), digit in zip(choices.items(), key)}


def ceilings(tasks: list[Any]) -> dict[str, float]:
    """Median regret of the target's own optimum, and of the best of the sources' optima."""
    bests = {task.name: best_config(task) for task in tasks}
    own, transfer = [], []
    for task in tasks:
        for seed in SEEDS:
            value = task.objective(bests[task.name], seed)[task.metric]
            own.append(task.regret(value))
            values = [task.objective(bests[t.name], seed)[task.metric]
                      for t in tasks if t is not task]  # fmt: skip
            transfer.append(task.regret(max(values) if not task.minimize else min(values)))
    return {"own_optimum": statistics.median(own), "sources_optima": statistics.median(transfer)}


def samplers_to_run() -> list[str]:
    """``--samplers a,b`` or :data:`SAMPLERS`; ``optuna:gp`` only where torch imports."""
    names = list(SAMPLERS)
    if "--samplers" in sys.argv:
        names = sys.argv[sys.argv.index("--samplers") + 1].split(",")
    if "optuna:gp" in names:
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            print("optuna:gp left out: it needs torch (pip install torch)")
            names.remove("optuna:gp")
    return names


def main() -> None:
    tasks = [t for t in get_suite("hpobench").tasks() if t.family == "hpobench"]
    samplers = samplers_to_run()
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "w.db"
        for task in tasks:  # the sources: 100 random trials on every dataset
            source = Study.create(db, f"src-{task.name}", "random", task.search_space,
                                  dict(task.metrics), seed=0)  # fmt: skip
            source.optimize(objective_of(task, 0), n_trials=100)
        for sampler in samplers:
            regrets: dict[tuple[str, int], list[float]] = {}
            for task in tasks:
                others = [f"src-{t.name}" for t in tasks if t is not task]
                for seed in SEEDS:
                    for label, warm in (("warm", others), ("cold", [])):
                        name = f"{sampler}-{label}-{task.name}-{seed}"
                        study = Study.create(db, name, sampler, task.search_space,
                                             dict(task.metrics), seed=seed,
                                             warm_start=warm)  # fmt: skip
                        study.optimize(objective_of(task, seed), n_trials=100)
                        values = [r.metrics[-1][task.metric] for r in study.records()]
                        for budget in (20, 100):
                            best = (
                                max(values[:budget]) if not task.minimize else min(values[:budget])
                            )
                            regrets.setdefault((label, budget), []).append(task.regret(best))
            medians = {key: statistics.median(v) for key, v in regrets.items()}
            rows.append((sampler, medians))
            print(f"{sampler}: done at {time.perf_counter() - started:.0f} s", flush=True)
    bounds = ceilings(tasks)
    seconds = time.perf_counter() - started
    if "--json" in sys.argv:
        out = Path(sys.argv[sys.argv.index("--json") + 1])
        data = {"machine": machine(), "seconds": round(seconds), "ceilings": bounds,
                "rows": [{"sampler": sampler, **{f"{label}_{budget}": m[(label, budget)]
                                                  for label, budget in m}}
                         for sampler, m in rows]}  # fmt: skip
        out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"machine: {machine()}; {seconds:.0f} s")
    print("| sampler | 20 trials: warm / cold | ratio | 100 trials: warm / cold | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for sampler, m in rows:
        r20 = m[("warm", 20)] / m[("cold", 20)] if m[("cold", 20)] else float("nan")
        r100 = m[("warm", 100)] / m[("cold", 100)] if m[("cold", 100)] else float("nan")
        print(f"| `{sampler}` | {m[('warm', 20)]:.4f} / {m[('cold', 20)]:.4f} | {r20:.2f}x "
              f"| {m[('warm', 100)]:.4f} / {m[('cold', 100)]:.4f} | {r100:.2f}x |")  # fmt: skip
    print(
        f"ceilings at 20 trials: own optimum {bounds['own_optimum']:.4f}, "
        f"best of the sources' optima {bounds['sources_optima']:.4f}"
    )


if __name__ == "__main__":
    main()
