"""Optuna's pruners as hposampler pruners: the same decisions as in Optuna, in studies."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import optuna
import pytest

from hposampler import Study, TrialState, make_pruner, make_sampler
from hposampler_optuna.plugin import installed_supports

SPACE = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}
PRUNERS: dict[str, tuple[dict[str, Any], Any]] = {
    "median": ({"n_startup_trials": 2}, lambda: optuna.pruners.MedianPruner(n_startup_trials=2)),
    "percentile": ({"percentile": 40.0}, lambda: optuna.pruners.PercentilePruner(40.0)),
    "asha": ({}, lambda: optuna.pruners.SuccessiveHalvingPruner()),
    "sha": ({"reduction_factor": 2}, lambda: optuna.pruners.SuccessiveHalvingPruner(
        reduction_factor=2)),
    "hyperband": ({"max_resource": 12}, lambda: optuna.pruners.HyperbandPruner(
        max_resource=12)),
    "threshold": ({"upper": 1.2}, lambda: optuna.pruners.ThresholdPruner(upper=1.2)),
    "wilcoxon": ({}, lambda: optuna.pruners.WilcoxonPruner()),
    "patient": ({"patience": 1, "wrapped": "median"}, lambda: optuna.pruners.PatientPruner(
        optuna.pruners.MedianPruner(), patience=1)),
}  # fmt: skip
if not installed_supports("WilcoxonPruner"):  # Optuna < 3.6 (the plugin supports 3.1.1)
    del PRUNERS["wilcoxon"]


def curve(trial: int, step: int) -> float:
    # a family of curves whose order changes over the steps; some are noisy
    x = ((trial * 7919) % 23) / 23
    return x + 1.5 / (step + 1) ** (0.4 + x) + 0.05 * math.sin(trial * 1.7 + step)


def decisions_ours(name: str, options: dict[str, Any]) -> list[tuple[int, int]]:
    pruner = make_pruner(name, {"loss": "min"}, **options)
    out = []
    for trial in range(25):
        for step in range(12):
            pruner.report(trial, step, curve(trial, step))
            if pruner.prune(trial):
                pruner.finish(trial, TrialState.PRUNED_POOR_PERFORMANCE, curve(trial, step))
                out.append((trial, step))
                break
        else:
            pruner.finish(trial, TrialState.COMPLETE, curve(trial, 11))
    return out


def decisions_optuna(make: Any) -> list[tuple[int, int]]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="hposampler", pruner=make())
    out = []
    for trial_number in range(25):
        trial = study.ask()
        for step in range(12):
            trial.report(curve(trial_number, step), step)
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                out.append((trial_number, step))
                break
        else:
            study.tell(trial, curve(trial_number, 11))
    return out


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_decisions_are_optunas_own(name: str) -> None:
    options, make = PRUNERS[name]
    ours = decisions_ours(name, options)
    assert ours == decisions_optuna(make)
    if name not in ("wilcoxon", "threshold"):
        assert ours  # the case exercises pruning at all


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_every_optuna_pruner_runs_a_study(tmp_path: Path, name: str) -> None:
    options, _ = PRUNERS[name]
    study = Study.create(tmp_path / "s.db", "s", "tpe", SPACE, {"loss": "min"}, seed=0,
                         pruner=name, pruner_options=options)  # fmt: skip
    study.optimize("support:curve", 14, concurrency=2)
    states = {r.state for r in study.records()}
    assert states <= {TrialState.COMPLETE, TrialState.PRUNED_POOR_PERFORMANCE}
    assert len(study.records()) == 14
    if name != "threshold":  # it may stop every trial TPE proposes above its bound
        assert TrialState.COMPLETE in states


def test_hyperband_brackets_are_the_samplers_too() -> None:
    pruner = make_pruner("hyperband", {"loss": "min"}, max_resource=12)
    sampler = make_sampler("tpe", SPACE, optim_metrics={"loss": "min"}, seed=0, pruner=pruner)
    hyperband = pruner.optuna_pruner  # type: ignore[attr-defined]
    assert sampler.study.pruner is hyperband  # type: ignore[attr-defined]
    for _trial_id in range(30):
        tid, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        for step in range(12):
            sampler.report(tid, step, {"loss": config["x"] + 1 / (step + 1)})
            pruner.report(tid, step, config["x"] + 1 / (step + 1))
            if pruner.prune(tid):
                sampler.update_trial(tid, {"loss": config["x"]}, TrialState.PRUNED)
                pruner.finish(tid, TrialState.PRUNED, config["x"])
                break
        else:
            sampler.update_trial(tid, {"loss": config["x"]}, TrialState.COMPLETE)
            pruner.finish(tid, TrialState.COMPLETE, config["x"])
    mirror = pruner.study.get_trials(deepcopy=False)  # type: ignore[attr-defined]
    mine = sampler.study.get_trials(deepcopy=False)  # type: ignore[attr-defined]
    assert len(hyperband._pruners) > 1  # brackets exist
    for ours, theirs in zip(mine, mirror):
        assert hyperband._get_bracket_id(sampler.study, ours) == hyperband._get_bracket_id(
            pruner.study,
            theirs,  # type: ignore[attr-defined]
        )
    # the sampler's Optuna trials carry the reported learning curves, with their steps
    assert sorted(mine[0].intermediate_values) == list(range(len(mine[0].intermediate_values)))
    assert mine[0].intermediate_values


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_every_optuna_pruner_passes_the_pruner_kit(name: str) -> None:
    from hposampler.testing import check_pruner

    options, _ = PRUNERS[name]
    check_pruner(name, options, symmetric=name != "threshold")  # absolute bounds


def test_a_pruner_the_installed_optuna_lacks_is_refused_naming_the_release(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hposampler import MissingDependencyError

    monkeypatch.delattr(optuna.pruners, "WilcoxonPruner", raising=False)
    with pytest.raises(MissingDependencyError, match=r"needs optuna >= 3\.6 .*pip install"):
        make_pruner("wilcoxon", {"loss": "min"})
