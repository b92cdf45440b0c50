"""``to_optuna``: Optuna's own importances and figures work on any hposampler study."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import optuna
import pytest

from hposampler import Study, TrialPruned, TrialState
from hposampler.storage import TrialRecord
from hposampler_views import distributions_of, to_optuna

SPACE: dict[str, Any] = {
    "opt": {
        "subspaces": [
            {"sub_configuration": {
                "name": {"categorical_values": ["adam"]},
                "lr": {"value_range": [1e-4, 1e-1], "value_type": "float", "log": True},
            }},
            {"sub_configuration": {
                "name": {"categorical_values": ["sgd"]},
                "lr": {"value_range": [1e-3, 1.0], "value_type": "float", "log": True},
                "momentum": {"value_range": [0, 1], "value_type": "float", "n_bins": 5},
            }},
        ]
    },
    "layers": {"value_range": [1, 8], "value_type": "int"},
    "act": {"categorical_values": ["relu", [1, 2]]},
}  # fmt: skip


def objective(config: dict[str, Any], trial: Any) -> dict[str, Any]:
    loss = config["layers"] * config["opt"]["lr"]
    for step in range(3):
        trial.report(step, {"loss": loss * (3 - step)})
    if trial.trial_id % 7 == 3:
        raise TrialPruned
    if trial.trial_id % 7 == 5:
        raise RuntimeError("diverged")
    return {"loss": loss, "epochs": 3}


@pytest.fixture
def study(tmp_path: Path) -> Study:
    study = Study.create(tmp_path / "s.db", "s", "tpe", SPACE, {"loss": "min"}, seed=0)
    study.optimize(objective, 28)
    now = datetime.datetime.now().timestamp()
    study.storage.create_trial(  # one still running, one waiting
        "s", TrialRecord(28, TrialState.RUNNING, study.records()[0].config, attempts=1,
                         started_at=now, driver="h:1:x"))  # fmt: skip
    waiting = study.records()[1].config
    study.storage.create_trial("s", TrialRecord(29, TrialState.WAITING, waiting, attempts=0))
    return study


def test_a_faithful_copy_trial_by_trial(study: Study) -> None:
    view = to_optuna(study)
    records = study.records()
    assert view.study_name == "s" and view.direction == optuna.study.StudyDirection.MINIMIZE
    assert [t.number for t in view.trials] == [r.trial_id for r in records]
    states = {r.trial_id: t.state for r, t in zip(records, view.trials, strict=True)}
    assert states[0] == optuna.trial.TrialState.COMPLETE
    assert states[3] == optuna.trial.TrialState.PRUNED
    assert states[5] == optuna.trial.TrialState.FAIL
    assert states[28] == optuna.trial.TrialState.RUNNING
    assert states[29] == optuna.trial.TrialState.WAITING
    for record, trial in zip(records, view.trials, strict=True):
        config = record.config
        branch = config["opt"]
        expected = {"opt.name": branch["name"], "opt.lr": branch["lr"],
                    "layers": config["layers"], "act": config["act"] if config["act"] == "relu"
                    else "[1, 2]"}  # fmt: skip
        if "momentum" in branch:
            expected["opt.momentum"] = branch["momentum"]
        assert trial.params == expected  # the branch's parameters only
        if record.state == TrialState.WAITING:
            assert trial.datetime_start is None
            continue
        assert trial.datetime_start == datetime.datetime.fromtimestamp(record.started_at)
        if record.state == TrialState.COMPLETE:
            assert trial.value == record.trial.final_metrics["loss"]
            assert trial.user_attrs == {"epochs": 3}
            assert trial.intermediate_values == {s: m["loss"] for s, m in record.intermediate}
            assert trial.datetime_complete == datetime.datetime.fromtimestamp(record.finished_at)
    assert view.trials[5].system_attrs["fail_reason"] == "RuntimeError: diverged"
    assert view.best_trial.number == study.best_trial.trial_id


def test_distributions_come_from_the_compiled_space() -> None:
    dists = distributions_of(SPACE)
    lr = dists["opt.lr"]
    assert isinstance(lr, optuna.distributions.FloatDistribution)
    assert (lr.low, lr.high, lr.log) == (1e-4, 1.0, True)  # both branches' ranges
    assert dists["layers"] == optuna.distributions.IntDistribution(1, 8)
    assert dists["act"] == optuna.distributions.CategoricalDistribution(["relu", "[1, 2]"])
    assert dists["opt.name"] == optuna.distributions.CategoricalDistribution(["adam", "sgd"])
    assert isinstance(dists["opt.momentum"], optuna.distributions.FloatDistribution)


def test_several_metrics_keep_their_order_and_directions(tmp_path: Path) -> None:
    space = {"x": {"value_range": [0, 1], "value_type": "float"}}
    study = Study.create(tmp_path / "m.db", "m", "random", space, {"acc": "max", "cost": "min"})
    study.optimize(lambda c: {"cost": c["x"], "acc": c["x"] ** 0.5}, 20)
    view = to_optuna(study)
    assert [d.name for d in view.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert all(t.values == [t.params["x"] ** 0.5, t.params["x"]] for t in view.trials)
    assert {t.number for t in view.best_trials} == {r.trial_id for r in study.best_trials}


def test_optunas_importances_work_on_it(study: Study) -> None:
    pytest.importorskip("sklearn")  # the mean-decrease-impurity forest
    view = to_optuna(study)
    importances = optuna.importance.get_param_importances(
        view, evaluator=optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=0)
    )
    assert set(importances) <= {"opt.name", "opt.lr", "layers", "act", "opt.momentum"}
    assert abs(sum(importances.values()) - 1) < 1e-9


def test_every_optuna_figure_draws_it(study: Study) -> None:
    pytest.importorskip("plotly")
    vis = optuna.visualization
    view = to_optuna(study)
    figures = [
        vis.plot_optimization_history(view),
        vis.plot_parallel_coordinate(view),
        vis.plot_slice(view),
        vis.plot_contour(view, params=["opt.lr", "layers"]),
        vis.plot_intermediate_values(view),
        vis.plot_edf(view),
        vis.plot_param_importances(view),
    ]
    for name in ("plot_timeline", "plot_rank"):  # newer Optuna releases
        if hasattr(vis, name):
            figures.append(getattr(vis, name)(view))
    for figure in figures:
        assert figure.data, figure.layout.title.text  # each drew something


def test_a_study_without_trials_copies_to_an_empty_study(tmp_path: Path) -> None:
    space = {"x": {"value_range": [0, 1], "value_type": "float"}}
    study = Study.create(tmp_path / "e.db", "e", "random", space, {"loss": "min"})
    assert to_optuna(study).trials == []


@pytest.mark.parametrize("evaluator", ["fanova", "mdi", "ped-anova"])
def test_show_importance_ranks_the_parameter_that_matters_first(
    tmp_path: Path, evaluator: str
) -> None:
    from click.testing import CliRunner

    from hposampler.cli import main

    if evaluator in ("fanova", "mdi"):
        pytest.importorskip("sklearn")
    if evaluator == "ped-anova" and not hasattr(optuna.importance, "PedAnovaImportanceEvaluator"):
        pytest.skip("PED-ANOVA needs Optuna >= 3.6")
    space = {k: {"value_range": [0.0, 1.0], "value_type": "float"} for k in ("a", "b", "c")}
    db = tmp_path / "i.db"
    study = Study.create(db, "i", "random", space, {"score": "max"}, seed=1)
    study.optimize(lambda c: -10 * (c["b"] - 0.5) ** 2 + 0.01 * c["a"], 60)
    result = CliRunner().invoke(
        main, ["show", "i", "--storage", str(db), "--importance", "--evaluator", evaluator]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"importance of each parameter for score ({evaluator}):"
    assert lines[1].split()[0] == "b" and len(lines) == 4


def test_importance_of_an_unknown_metric_is_one_line(study: Study) -> None:
    from click.testing import CliRunner

    from hposampler.cli import main

    db = study.storage.url.removeprefix("sqlite:///")
    result = CliRunner().invoke(
        main, ["show", "s", "--storage", db, "--importance", "--metric", "acc"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == "error: study 's' has no metric 'acc'; its metrics: loss"


def test_an_evaluator_without_scikit_learn_is_one_line(
    study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from hposampler.cli import main

    def without_sklearn(*args: Any, **kwargs: Any) -> None:  # as Optuna does then
        raise ImportError("Tried to import 'sklearn' but failed.")

    monkeypatch.setattr(optuna.importance, "MeanDecreaseImpurityImportanceEvaluator",
                        without_sklearn)  # fmt: skip
    db = study.storage.url.removeprefix("sqlite:///")
    result = CliRunner().invoke(
        main, ["show", "s", "--storage", db, "--importance", "--evaluator", "mdi"]
    )
    assert result.exit_code == 2, result.output
    assert "needs scikit-learn" in result.output and "pip install scikit-learn" in result.output
    assert len(result.output.strip().splitlines()) == 1
