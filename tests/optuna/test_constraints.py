"""Constraints as data: stored with each trial, used by the samplers that can, feasibility everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hposampler import Study, TrialState, available_samplers, make_sampler
from hposampler.errors import MetricsError, SamplerOptionsError, StudyError

SPACE = {
    "x": {"value_range": [0.0, 1.0], "value_type": "float"},
    "y": {"value_range": [0.0, 1.0], "value_type": "float"},
}


def constrained(config: dict[str, Any]) -> dict[str, float]:
    """Minimise x^2 + y^2 subject to x + y >= 1: the optimum is (0.5, 0.5), loss 0.5."""
    x, y = config["x"], config["y"]
    return {"loss": x * x + y * y, "c": 1.0 - (x + y)}


def test_constraint_values_are_stored_and_best_is_feasible(tmp_path: Path) -> None:
    study = Study.create(tmp_path / "s.db", "s", "tpe", SPACE, {"loss": "min"}, seed=0,
                         constraints=["c"], sampler_options={"n_startup_trials": 5})  # fmt: skip
    study.optimize(constrained, 30)
    records = study.records()
    assert all("c" in (r.final_metrics or {}) for r in records)
    assert all("c" not in r.extra for r in records)  # a constraint, not an extra
    best = study.best_trial
    assert study.feasible(best) and best.final_metrics["c"] <= 0  # type: ignore[index]
    infeasible = [r for r in records if not study.feasible(r)]
    assert infeasible and all(r.final_metrics["loss"] < 2 for r in infeasible)  # type: ignore[index]
    row = study.to_records()[best.trial_id]
    assert row["feasible"] is True and row["constraints.c"] == best.final_metrics["c"]  # type: ignore[index]
    again = Study.load(tmp_path / "s.db", "s")  # constraints are part of the definition
    assert again.constraints == ("c",)
    again.optimize(constrained, 35)  # resumed: the sampler gets the stored values back
    assert len(again.records()) == 35


def test_the_optuna_sampler_sees_each_trials_constraints() -> None:
    sampler = make_sampler("tpe", SPACE, optim_metrics={"loss": "min"}, constraints=["c"],
                           seed=0, n_startup_trials=2)  # fmt: skip
    for _ in range(4):
        trial_id, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(trial_id, constrained(config), TrialState.COMPLETE)
    seen = [t.system_attrs["constraints"] for t in sampler.study.trials]  # type: ignore[attr-defined]
    configs = [t.params for t in sampler.study.trials]  # type: ignore[attr-defined]
    assert seen == [(pytest.approx(1 - p["x"] - p["y"]),) for p in configs]
    resumed = make_sampler("tpe", SPACE, optim_metrics={"loss": "min"}, constraints=["c"],
                           seed=0, trials=[{"trial_id": 0, "config": {"x": 0.1, "y": 0.2},
                                            "state": 1, "metrics": [{"loss": 0.05, "c": 0.7}]}])  # fmt: skip
    assert resumed.study.trials[0].system_attrs["constraints"] == (0.7,)  # type: ignore[attr-defined]


def test_samplers_that_cannot_use_constraints_refuse_them_in_one_line(tmp_path: Path) -> None:
    able = {s.name for s in available_samplers() if s.constraints}
    assert {"optuna:tpe", "optuna:nsga2"} <= able and "optuna:random" not in able
    with pytest.raises(SamplerOptionsError) as info:
        Study.create(tmp_path / "s.db", "s", "random", SPACE, {"loss": "min"}, constraints=["c"])
    assert "cannot use constraints" in str(info.value) and "optuna:tpe" in str(info.value)
    assert not (tmp_path / "s.db").exists()  # refused before anything was stored


@pytest.mark.parametrize(
    ("constraints", "fragment"),
    [("c", "must be a list"), (["loss"], "also an optimised metric"), (["c", "c"], "twice"),
     ([""], "non-empty")],
)  # fmt: skip
def test_malformed_constraints_are_refused(tmp_path: Path, constraints: Any, fragment: str) -> None:
    with pytest.raises(MetricsError, match=fragment):
        Study.create(tmp_path / "s.db", "s", "tpe", SPACE, {"loss": "min"},
                     constraints=constraints)  # fmt: skip


def test_a_missing_constraint_value_fails_the_trial_naming_it(tmp_path: Path) -> None:
    study = Study.create(tmp_path / "s.db", "s", "tpe", SPACE, {"loss": "min"}, constraints=["c"])
    with pytest.raises(MetricsError, match="no value for constraint 'c'"):
        study.optimize(lambda config: {"loss": 1.0}, 3)
    [failed] = study.records()
    assert failed.state == TrialState.FAIL and "constraint 'c'" in (failed.error or "")


def test_no_feasible_trial_is_said_so(tmp_path: Path) -> None:
    study = Study.create(tmp_path / "s.db", "s", "tpe", SPACE, {"loss": "min"}, constraints=["c"])
    study.optimize(lambda config: {"loss": 1.0, "c": 1.0}, 3)
    with pytest.raises(StudyError, match="no feasible trial yet"):
        _ = study.best_trial
    assert study.best_trials == []


def test_constraints_cannot_change_on_an_existing_study(tmp_path: Path) -> None:
    Study.create(tmp_path / "s.db", "s", "tpe", SPACE, {"loss": "min"}, constraints=["c"])
    with pytest.raises(StudyError, match="another constraints"):
        Study.create(tmp_path / "s.db", "s", "tpe", SPACE, {"loss": "min"}, load_if_exists=True)


def test_multi_objective_fronts_count_only_feasible_trials(tmp_path: Path) -> None:
    study = Study.create(tmp_path / "s.db", "s", "optuna:nsga2", SPACE,
                         {"a": "min", "b": "min"}, seed=0, constraints=["c"])  # fmt: skip

    def objective(config: dict[str, Any]) -> dict[str, float]:
        return {"a": config["x"], "b": config["y"], "c": 0.8 - config["x"] - config["y"]}

    study.optimize(objective, 20)
    front = study.best_trials
    assert front and all(study.feasible(r) for r in front)


def test_to_optuna_marks_feasibility_and_show_prints_it(tmp_path: Path) -> None:
    from hposampler_views import to_optuna

    study = Study.create(tmp_path / "s.db", "s", "tpe", SPACE, {"loss": "min"}, seed=0,
                         constraints=["c"])  # fmt: skip
    study.optimize(constrained, 12)
    view = to_optuna(study)
    for trial, record in zip(view.trials, study.records(), strict=True):
        assert trial.system_attrs["constraints"] == (record.final_metrics["c"],)  # type: ignore[index]
    out = subprocess.run(
        [sys.executable, "-m", "hposampler", "show", "s", "--storage", str(tmp_path / "s.db")],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert "c (<= 0)" in out.stdout and "feasible" in out.stdout
    exported = subprocess.run(
        [sys.executable, "-m", "hposampler", "export", "s", "--storage", str(tmp_path / "s.db"),
         "--format", "json"], capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    rows = json.loads(exported.stdout)
    assert {r["feasible"] for r in rows} == {True, False}


def test_a_study_file_declares_constraints(tmp_path: Path) -> None:
    (tmp_path / "obj.py").write_text(textwrap.dedent("""
        def objective(config):
            return {"loss": config["x"] ** 2 + config["y"] ** 2,
                    "c": 1.0 - config["x"] - config["y"]}
    """))  # fmt: skip
    path = tmp_path / "study.toml"
    path.write_text(textwrap.dedent("""
        [study]
        name = "c"
        objective = "obj:objective"
        trials = 15
        storage = "c.db"
        [sampler]
        name = "tpe"
        seed = 0
        [metrics]
        loss = "min"
        [constraints]
        names = ["c"]
        [search_space]
        x = { value_range = [0.0, 1.0], value_type = "float" }
        y = { value_range = [0.0, 1.0], value_type = "float" }
    """))  # fmt: skip
    out = subprocess.run([sys.executable, "-m", "hposampler", "run", str(path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    study = Study.load(tmp_path / "c.db", "c")
    assert study.constraints == ("c",) and study.feasible(study.best_trial)
