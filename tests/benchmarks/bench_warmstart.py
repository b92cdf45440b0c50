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

It also prints what knowing the answer would give at 20 trials (see
:func:`ceilings`): the target's own best config tried once; the seven sources'
best configs; the 20 configs of best mean rank over the sources' *whole* tables
(the best fixed start that perfect knowledge of the sources can pick); the
target's own 20 best configs (an oracle). With ``--json`` an existing file's rows
of samplers not run this time are kept.
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


def _table(task: Any) -> tuple[dict[str, float], Any]:
    """``({config key: mean over the table's training seeds}, config of a key)``."""
    from hposampler_bench.hpobench import _benchmark

    bench = _benchmark("hpobench", task.name.split("-", 1)[1])
    table = bench._dataset  # {"01234": {metric: [one value per training seed]}}
    means = {key: statistics.fmean(row[task.metric]) for key, row in table.items()}
    choices = bench._dataset_properties.search_space

    def config(key: str) -> dict[str, Any]:
        return {name: values[int(digit)] for (name, values), digit in zip(choices.items(), key)}

    return means, config


def _best_of(task: Any, configs: list[dict[str, Any]], seed: int) -> float:
    """The regret of the best of ``configs``, each evaluated once with ``seed``."""
    values = [task.objective(config, seed)[task.metric] for config in configs]
    return float(task.regret(min(values) if task.minimize else max(values)))


def ceilings(tasks: list[Any], k: int = 20) -> dict[str, float]:
    """What knowing the answer would give: median regrets (8 targets x 5 seeds) of

    - ``own_optimum``: the target's best config (by its table's mean), tried once;
    - ``sources_optima``: the 7 sources' best configs, each tried once on the target;
    - ``sources_tables_top20``: the ``k`` configs of best mean rank over the 7
      sources' *whole* tables (every config, not a study's 100 trials), each tried
      once: the best fixed ``k``-trial start that perfect knowledge of the sources
      can pick;
    - ``target_top20``: the target's own ``k`` best configs by its table's mean,
      each tried once (an oracle).
    """
    tables = {task.name: _table(task) for task in tasks}
    ranked = {}
    for task in tasks:
        means, config = tables[task.name]
        order = sorted(means, key=means.__getitem__, reverse=not task.minimize)
        ranked[task.name] = ([config(key) for key in order[:k]],
                             {key: r / len(order) for r, key in enumerate(order)})  # fmt: skip
    found: dict[str, list[float]] = {}
    for task in tasks:
        others = [t for t in tasks if t is not task]
        score: dict[str, float] = {}
        for other in others:
            for key, rank in ranked[other.name][1].items():
                score[key] = score.get(key, 0.0) + rank
        config = tables[task.name][1]
        portfolio = [config(key) for key in sorted(score, key=score.__getitem__)[:k]]
        for seed in SEEDS:
            for name, configs in (
                ("own_optimum", ranked[task.name][0][:1]),
                ("sources_optima", [ranked[t.name][0][0] for t in others]),
                ("sources_tables_top20", portfolio),
                ("target_top20", ranked[task.name][0]),
            ):
                found.setdefault(name, []).append(_best_of(task, configs, seed))
    return {name: statistics.median(values) for name, values in found.items()}


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
            began = time.perf_counter()
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
            medians: dict[Any, float] = {key: statistics.median(v) for key, v in regrets.items()}
            medians["seconds"] = round(time.perf_counter() - began)
            rows.append((sampler, medians))
            print(f"{sampler}: done at {time.perf_counter() - started:.0f} s", flush=True)
    bounds = ceilings(tasks)
    seconds = time.perf_counter() - started
    if "--json" in sys.argv:
        out = Path(sys.argv[sys.argv.index("--json") + 1])
        fresh = {sampler: {"sampler": sampler, "seconds": m["seconds"],
                           **{f"{key[0]}_{key[1]}": value for key, value in m.items()
                              if key != "seconds"}}
                 for sampler, m in rows}  # fmt: skip
        # rows of samplers not run this time stay (optuna:gp alone takes about an hour)
        kept = json.loads(out.read_text(encoding="utf-8"))["rows"] if out.exists() else []
        merged = {row["sampler"]: row for row in kept} | fresh
        order = [*SAMPLERS, *sorted(set(merged) - set(SAMPLERS))]
        seconds = sum(row.get("seconds", 0) for row in merged.values())
        data = {"machine": machine(), "seconds": round(seconds), "ceilings": bounds,
                "rows": [merged[name] for name in order if name in merged]}  # fmt: skip
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
        f"at 20 trials, knowing the answer: own optimum {bounds['own_optimum']:.4f}; "
        f"best of the sources' optima {bounds['sources_optima']:.4f}; the 20 best configs "
        f"of the sources' whole tables {bounds['sources_tables_top20']:.4f}; the target's "
        f"own 20 best {bounds['target_top20']:.4f}"
    )


if __name__ == "__main__":
    main()
