"""Resume continues the stream: a resumed study never re-proposes a config it tried."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hposampler import Study, Trial, TrialState, make_sampler
from hposampler.problems import branin

SPACE = {
    "x": {"value_range": [-5, 10], "value_type": "float"},
    "y": {"value_range": [0, 15], "value_type": "float"},
}
BACKENDS = [
    ("random", {}),
    ("tpe", {}),
    ("optuna:qmc", {}),
    ("optuna:cmaes", {}),
    ("optuna:nsga2", {"population_size": 4}),
    ("skopt:random", {}),
    ("skopt:gp", {"n_initial_points": 3}),
    ("grid", {}),
]


def keys(records: Any) -> list[str]:
    return [json.dumps(r.config, sort_keys=True) for r in records]


def space_for(name: str) -> dict[str, Any]:
    if name != "grid":
        return SPACE
    return {k: {**v, "n_bins": 4} for k, v in SPACE.items()}


@pytest.mark.parametrize(("name", "options"), BACKENDS, ids=[b[0] for b in BACKENDS])
def test_a_study_optimized_twice_proposes_no_config_twice(
    tmp_path: Path, name: str, options: dict[str, Any]
) -> None:
    study = Study.create(
        tmp_path / "s.db", "s", name, space_for(name), {"loss": "min"}, seed=0,
        sampler_options=options,
    )  # fmt: skip
    study.optimize(branin, 5)
    Study.load(tmp_path / "s.db", "s").optimize(branin, 10)  # a new process would do this
    study.optimize(branin, 14)  # and the same object again
    configs = keys(study.records())
    assert len(configs) == 14 and len(set(configs)) == 14, name


@pytest.mark.parametrize("name", ["random", "optuna:qmc", "grid", "grid:ordered"])
def test_where_cheap_a_resumed_run_equals_the_uninterrupted_one(name: str) -> None:
    space = space_for("grid") if name.startswith("grid") else SPACE
    sampler_name = name

    def run(n: int, trials: list[Trial] | None = None) -> list[Trial]:
        sampler = make_sampler(
            sampler_name, space, optim_metrics={"loss": "min"}, seed=7, trials=trials
        )
        out = []
        for _ in range(n):
            tid, config, internal = sampler.eager_sample()
            sampler.unlock(drop=False)
            loss = branin(config)
            sampler.update_trial(tid, {"loss": loss}, TrialState.COMPLETE)
            out.append(Trial(tid, config, TrialState.COMPLETE, [{"loss": loss}], internal))
        return out

    whole = run(10)
    first = run(4)
    stored = [Trial.from_dict(json.loads(json.dumps(t.to_dict()))) for t in first]
    rest = run(6, stored)
    assert [t.config for t in first + rest] == [t.config for t in whole]


def test_skip_duplicates_only_fires_on_real_collisions(tmp_path: Path) -> None:
    study = Study.create(tmp_path / "s.db", "s", "random", SPACE, {"loss": "min"}, seed=0)
    study.optimize(branin, 20, skip_duplicates=True)
    study.optimize(branin, 60, skip_duplicates=True)
    states = [r.state for r in study.records()]
    assert states.count(TrialState.COMPLETE) == 60
    assert TrialState.PRUNED_DUPLICATE not in states


def test_cli_resume_continues_the_stream(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(
        textwrap.dedent(
            """
            [study]
            name = "s"
            objective = "hposampler.problems:branin"
            trials = 5
            [sampler]
            name = "random"
            seed = 0
            [metrics]
            loss = "min"
            [search_space]
            x = { value_range = [-5, 10], value_type = "float" }
            y = { value_range = [0, 15], value_type = "float" }
            """
        )
    )
    run = [sys.executable, "-m", "hposampler", "run", str(tmp_path / "s.toml")]
    subprocess.run(run, check=True, capture_output=True, timeout=120)
    subprocess.run([*run, "--resume", "--trials", "10"], check=True, capture_output=True,
                   timeout=120)  # fmt: skip
    records = Study.load(tmp_path / "hposampler.db", "s").records()
    configs = keys(records)
    assert len(configs) == 10 and len(set(configs)) == 10
    # and it is the stream an uninterrupted 10-trial run would have drawn
    sampler = make_sampler("random", SPACE, optim_metrics={"loss": "min"}, seed=0)
    expected = []
    for _ in range(10):
        _, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        expected.append(json.dumps(config, sort_keys=True))
    assert configs == expected
