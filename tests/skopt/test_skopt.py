"""hposampler-skopt: shims per estimator, the ablator loop, resume, pending, max, errors."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest

from hposampler import (
    MetricsError,
    SamplerOptionsError,
    Trial,
    TrialState,
    make_sampler,
)
from hposampler.testing import space_violation

MIXED = {
    "lr": {"value_range": [1e-5, 1e-1], "value_type": "float", "log": True},
    "dropout": {"value_range": [0, 0.5], "value_type": "float"},
    "layers": {"value_range": [1, 64], "value_type": "int", "log": True},
    "width": {"value_range": [16, 256], "value_type": "int", "n_bins": 4},
    "act": {"categorical_values": ["relu", 1, None, [1, 2]]},
}
NESTED = {
    "opt": {"subspaces": [
        {"sub_configuration": {"name": "sgd", "lr": {"value_range": [1e-3, 1.0],
                                                     "value_type": "float", "log": True}}},
        {"sub_configuration": {"name": "adam", "lr": {"value_range": [1e-5, 1e-2],
                                                      "value_type": "float", "log": True},
                               "beta": {"categorical_values": [0.9, 0.99]}}},
    ]},
}  # fmt: skip
ESTIMATORS = ["gp", "rf", "et", "gbrt", "random"]


def contained(space: dict[str, Any], config: dict[str, Any]) -> bool:
    return space_violation(space, config) is None


def loss(config: dict[str, Any]) -> float:
    return (len(json.dumps(config, sort_keys=True)) % 11) / 11


def loop(sampler: Any, n: int) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for _ in range(n):
        tid, config, internal = sampler.eager_sample()
        json.dumps(internal)
        sampler.unlock(drop=False)
        sampler.update_trial(tid, {"loss": loss(config)}, TrialState.COMPLETE)
        out.append((tid, config))
    return out


@pytest.mark.parametrize("estimator", ["GP", "RF", "ET", "GBRT", "dummy"])
def test_shims_make_every_skopt_estimator_work(estimator: str) -> None:
    from hposampler_skopt import shims

    shims.apply()
    from skopt import Optimizer
    from skopt.space import Categorical, Integer, Real

    opt = Optimizer([Real(1e-3, 1, prior="log-uniform"), Integer(1, 9), Categorical([0, 1, 2])],
                    base_estimator=estimator, random_state=0, n_initial_points=4)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for i in range(7):
            x = opt.ask()
            opt.tell(x, float(i % 3))
    assert len(opt.yi) == 7
    if estimator != "dummy":
        model = opt.models[-1]
        mean, std = model.predict(np.asarray(opt.space.transform([opt.Xi[0]])), return_std=True)
        assert mean.shape == (1,) and np.all(std >= 0)


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("space", [MIXED, NESTED], ids=["mixed", "nested"])
def test_ablator_loop_keeps_configs_inside_the_space(name: str, space: dict[str, Any]) -> None:
    sampler = make_sampler(f"skopt:{name}", space, optim_metrics={"loss": "min"}, seed=0,
                           n_initial_points=4)  # fmt: skip
    trials = loop(sampler, 8)
    assert [t for t, _ in trials] == list(range(8))
    assert all(contained(space, c) for _, c in trials)
    assert len(sampler.optimizer.yi) == 8


def test_same_seed_same_sequence() -> None:
    def run() -> list[dict[str, Any]]:
        sampler = make_sampler("skopt:gp", MIXED, optim_metrics={"loss": "min"}, seed=5,
                               n_initial_points=3)  # fmt: skip
        return [c for _, c in loop(sampler, 6)]

    assert run() == run()


def test_max_is_negated_and_none_is_the_worst_seen_so_far() -> None:
    sampler = make_sampler("skopt:rf", MIXED, optim_metrics={"acc": "max"}, seed=0)
    ids = []
    for _ in range(4):
        tid, _, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        ids.append(tid)
    sampler.update_trial(ids[0], {"acc": None}, TrialState.COMPLETE)  # deferred: nothing seen
    assert sampler.optimizer.yi == []
    sampler.update_trial(ids[1], {"acc": 0.9}, TrialState.COMPLETE)
    sampler.update_trial(ids[2], {"acc": 0.5}, TrialState.COMPLETE)
    sampler.update_trial(ids[3], {"acc": None}, TrialState.COMPLETE)
    assert sampler.optimizer.yi == [-0.9, -0.9, -0.5, -0.5]


def test_failed_and_pruned_trials_are_not_told() -> None:
    sampler = make_sampler("skopt:et", MIXED, optim_metrics={"loss": "min"}, seed=0)
    for state in (TrialState.FAIL, TrialState.PRUNED, TrialState.COMPLETE):
        tid, _, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(tid, {"loss": 0.3}, state)
    assert sampler.optimizer.yi == [0.3]


def test_concurrent_pending_samples_are_distinct() -> None:
    sampler = make_sampler("skopt:gp", {"x": {"value_range": [0, 1], "value_type": "float"}},
                           optim_metrics={"loss": "min"}, seed=0, n_initial_points=3)  # fmt: skip
    loop(sampler, 4)
    pending = []
    for _ in range(4):
        _, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        pending.append(config["x"])
    assert len(set(pending)) == 4


def test_resume_tells_completed_points_and_continues() -> None:
    first = make_sampler("skopt:gp", NESTED, optim_metrics={"loss": "min"}, seed=0,
                         n_initial_points=3)  # fmt: skip
    trials = []
    for tid, config in loop(first, 6):
        trials.append(Trial(tid, config, TrialState.COMPLETE, [{"loss": loss(config)}],
                            first.internal_repr(tid)))  # fmt: skip
    records = json.loads(json.dumps([t.to_dict() for t in trials]))
    resumed = make_sampler("skopt:gp", NESTED, optim_metrics={"loss": "min"}, seed=0,
                           n_initial_points=3, trials=records)  # fmt: skip
    assert resumed.optimizer.Xi == first.optimizer.Xi
    assert resumed.optimizer.yi == first.optimizer.yi
    after = loop(resumed, 3)
    assert [t for t, _ in after] == [6, 7, 8]
    assert all(contained(NESTED, c) for _, c in after)
    grid_trials = [Trial(0, {"opt": {"name": "sgd", "lr": 0.01}}, TrialState.COMPLETE,
                         [{"loss": 0.2}])]  # fmt: skip
    foreign = make_sampler("skopt:rf", NESTED, optim_metrics={"loss": "min"}, trials=grid_trials)
    assert foreign.optimizer.yi == [0.2]


def test_multi_objective_and_bad_options_are_refused_clearly() -> None:
    with pytest.raises(MetricsError, match="'skopt:gp' optimises a single metric but 2 were"):
        make_sampler("skopt:gp", MIXED, optim_metrics={"loss": "min", "time": "min"})
    with pytest.raises(SamplerOptionsError, match="'acq_func' of sampler 'skopt:gp' must be one"):
        make_sampler("skopt:gp", MIXED, optim_metrics={"loss": "min"}, acq_func="UCB")
    with pytest.raises(SamplerOptionsError, match="Did you mean 'n_initial_points'"):
        make_sampler("skopt:gp", MIXED, optim_metrics={"loss": "min"}, n_initial_point=3)
    with pytest.raises(MetricsError, match="needs optim_metrics"):
        make_sampler("skopt:gp", MIXED)
