"""`auto`: the backend it picks for each kind of study, its explanation, resume, options."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hposampler import SamplerOptionsError, Study, TrialState, make_sampler
from hposampler.auto import choose, explain
from hposampler.cli import main
from hposampler.space.tree import compile_space

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hposampler_optuna") is None, reason="auto picks Optuna's samplers"
)
HAS_NEVERGRAD = importlib.util.find_spec("hposampler_nevergrad") is not None
HAS_GP = all(importlib.util.find_spec(m) is not None for m in ("torch", "scipy"))

CONTINUOUS = {f"x{i}": {"value_range": [-5.0, 5.0]} for i in range(4)}
ORDERED = {"bs": {"values": [4, 8, 16, 32, 64, 128]}, "width": {"values": list(range(16, 200))},
           "lr": {"value_range": [1e-5, 1.0], "log": True, "n_bins": 10}}  # fmt: skip
MIXED = {"act": {"categorical_values": ["relu", "tanh"]}, "x": {"value_range": [0.0, 1.0]}}
CONDITIONAL = {
    "opt": {"subspaces": [
        {"sub_configuration": {"name": "sgd", "lr": {"value_range": [1e-4, 1.0], "log": True}}},
        {"sub_configuration": {"name": "adam", "lr": {"value_range": [1e-5, 1e-1], "log": True}}},
    ]},
}  # fmt: skip
SMALL = {"a": {"categorical_values": [1, 2, 3]}, "b": {"values": [1, 2]}}


def pick(space: dict[str, Any], **kwargs: Any) -> str:
    return choose(compile_space(space), **{"budget": 100, **kwargs}).backend


def test_auto_picks_by_the_kind_of_space() -> None:
    assert pick(CONTINUOUS) == ("nevergrad:ngopt" if HAS_NEVERGRAD else "optuna:cmaes")
    assert pick(ORDERED) == "optuna:cmaes"
    assert pick(MIXED) == ("optuna:gp" if HAS_GP else "optuna:tpe")
    assert pick(CONDITIONAL) == "optuna:tpe"
    assert pick(SMALL) == "grid:shuffled"  # 6 points, budget 100: each once
    assert pick(SMALL, budget=4) == ("optuna:gp" if HAS_GP else "optuna:tpe")
    assert pick(CONTINUOUS, n_objectives=2) == "optuna:tpe"
    assert pick(ORDERED, budget=10) == "optuna:tpe"  # too few trials for CMA-ES
    assert pick({"x": {"value_range": [0.0, 1.0]}}, exclude=["nevergrad"]) == "optuna:tpe"


def test_auto_picks_a_gaussian_process_for_categorical_values_when_torch_is_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hposampler.auto as auto

    installed = auto._installed
    monkeypatch.setattr(auto, "_installed", lambda name: name == "optuna:gp" or installed(name))
    assert choose(compile_space(MIXED), budget=100) == auto.Choice(
        "optuna:gp", "1 categorical of 2 parameters, budget 100"
    )
    assert pick(MIXED, budget=auto.GP_BUDGET + 1) == "optuna:tpe"  # refits grow with trials
    assert pick(MIXED, budget=None) == "optuna:tpe"
    assert pick(MIXED, max_ms_per_trial=100.0) == "optuna:tpe"
    assert pick(MIXED, exclude=["optuna:gp"]) == "optuna:tpe"
    assert pick(CONDITIONAL) == pick(MIXED, n_objectives=2) == "optuna:tpe"
    assert pick(ORDERED) == "optuna:cmaes"  # ordered values only: unchanged
    monkeypatch.setattr(auto, "_installed", lambda name: name != "optuna:gp" and installed(name))
    assert pick(MIXED) == "optuna:tpe"  # no torch: TPE


def test_auto_options_exclude_families_and_cap_the_cost() -> None:
    assert pick(CONTINUOUS, exclude=["nevergrad"]) == "optuna:cmaes"
    assert pick(CONTINUOUS, exclude=["nevergrad", "optuna:cmaes"]) == "optuna:tpe"
    everything = ["nevergrad", "optuna:cmaes", "optuna:tpe", "hyperopt"]
    assert pick(CONTINUOUS, exclude=everything) == "hposampler:random"
    with pytest.raises(SamplerOptionsError, match="auto found no usable backend: exclude fewer"):
        pick(CONTINUOUS, exclude=[*everything, "hposampler", "optuna:random"])
    assert pick(MIXED, max_ms_per_trial=2.0) not in ("optuna:tpe", "hyperopt:tpe")
    with pytest.raises(SamplerOptionsError, match="exclude.*list of family or sampler names"):
        make_sampler("auto", MIXED, optim_metrics={"loss": "min"}, exclude=[3])
    with pytest.raises(SamplerOptionsError, match="no option 'excluded'"):
        make_sampler("auto", MIXED, optim_metrics={"loss": "min"}, excluded=["optuna"])


def run(space: dict[str, Any], n: int, seed: int = 0) -> tuple[list[dict[str, Any]], Any]:
    sampler = make_sampler("auto", space, optim_metrics={"loss": "min"}, seed=seed, budget=n)
    configs, internals = [], []
    for _ in range(n):
        trial_id, config, internal = sampler.eager_sample()
        sampler.unlock(drop=False)
        loss = sum((v - 0.3) ** 2 for v in config.values() if isinstance(v, float))
        sampler.update_trial(trial_id, {"loss": loss}, TrialState.COMPLETE)
        configs.append(config)
        internals.append((trial_id, internal))
    return configs, internals


def test_auto_is_deterministic_and_records_its_backend_per_trial() -> None:
    first, internals = run(MIXED, 12)
    again, _ = run(MIXED, 12)
    assert first == again
    backend = "optuna:gp" if HAS_GP else "optuna:tpe"
    assert explain(internals) == [
        f"trials 0-11: {backend} (1 categorical of 2 parameters, budget 12)"
    ]
    assert all(i["auto"]["backend"] == backend and "state" in i for _, i in internals)


def test_a_study_of_auto_resumes_on_its_backend_and_show_explains_it(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    study = Study.create(db, "a", "auto", ORDERED, {"loss": "min"}, seed=3)

    def objective(config: dict[str, Any]) -> float:
        return abs(config["bs"] - 32) + abs(config["width"] - 100) / 10 + config["lr"]

    study.optimize(objective, n_trials=40)
    Study.load(db, "a").optimize(objective, n_trials=60)  # resumed in a new object
    records = Study.load(db, "a").records()
    assert len(records) == 60 and len({str(r.config) for r in records}) > 40
    backends = {r.internal["auto"]["backend"] for r in records}
    assert backends == {"optuna:cmaes"}
    shown = CliRunner().invoke(main, ["show", "a", "--storage", str(db)])
    assert shown.exit_code == 0, shown.output
    assert (
        "auto: trials 0-39: optuna:cmaes (3 ordered and 0 continuous parameters, budget 40)\n"
        "auto: trials 40-59: optuna:cmaes (3 ordered and 0 continuous parameters, budget 60)"
    ) in shown.output


def test_auto_is_a_name_everywhere_a_name_is() -> None:
    from hposampler.compat.ablator import OptunaSampler

    sampler = OptunaSampler("auto", {"x": {"value_range": [0.0, 1.0], "value_type": "float"}},
                            {"loss": "min"}, seed=0)  # fmt: skip
    trial_id, config = sampler.eager_sample()[:2]
    assert 0.0 <= config["x"] <= 1.0
    import optuna

    from hposampler_optuna import HposamplerSampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=HposamplerSampler("auto", seed=0))
    study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.3) ** 2, n_trials=8)
    assert len(study.trials) == 8


def test_a_switch_mid_study_resumes_with_no_repeated_config(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    options = {"startup": "optuna:qmc", "startup_trials": 8, "exclude": ["nevergrad"]}
    space = {"x": {"value_range": [-5.0, 5.0]}, "y": {"value_range": [-5.0, 5.0]}}

    def bowl(config: dict[str, Any]) -> float:
        return (config["x"] - 1) ** 2 + config["y"] ** 2

    Study.create(db, "s", "auto", space, {"loss": "min"}, seed=2,
                 sampler_options=options).optimize(bowl, n_trials=5)  # fmt: skip
    Study.load(db, "s").optimize(bowl, n_trials=30)  # resumed inside the start-up
    records = Study.load(db, "s").records()
    configs = [json.dumps(r.config, sort_keys=True) for r in records]
    assert len(configs) == 30 and len(set(configs)) == 30  # no config twice
    lines = explain((r.trial_id, r.internal) for r in records)
    assert lines[0].startswith("trial") and "optuna:qmc (start-up, 8 trials)" in lines[0]
    assert lines[-1].startswith("trials ") and lines[-1].endswith(
        "optuna:cmaes (2 continuous parameters, budget 30)"
    )
    assert [r.internal["auto"]["backend"] for r in records] == ["optuna:qmc"] * 8 + [
        "optuna:cmaes"
    ] * 22
    with pytest.raises(Exception, match="unknown sampler 'qmcc'"):
        make_sampler("auto", space, optim_metrics={"loss": "min"}, startup="qmcc")
