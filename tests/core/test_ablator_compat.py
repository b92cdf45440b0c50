"""ablator's own objects and call sequence, through make_sampler and hposampler.compat.ablator.

The ablator-shaped classes come from ``tests/ablator_shapes.py``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import pytest

from ablator_shapes import ExperimentStateLike, FieldType, Optim, SearchAlgo, SearchSpace, TrialRow
from hposampler import TrialState, make_sampler
from hposampler.compat.ablator import BaseSampler, GridSampler, OptunaSampler
from hposampler.errors import MetricsError, UnknownTrialError
from hposampler.testing import space_violation


def flat(value: Any, lo: float, hi: float) -> bool:
    return isinstance(value, float) and lo <= value <= hi


SPACE = {
    "train_config.optimizer_config": SearchSpace(subspaces=[
        {"sub_configuration": {"name": "sgd", "arguments": {
            "lr": {"value_range": ["0.001", "0.1"], "value_type": "float"},
            "momentum": {"value_range": [0, 1]}}}},  # no value_type: float, as in ablator
        {"sub_configuration": {"name": "adam", "arguments": {
            "lr": {"value_range": ["1e-5", "1e-2"], "log": True},
            "betas": {"categorical_values": [0.9, 0.99]}}}},
    ]),
    "model_config.width": SearchSpace(value_range=["16", "256"], value_type=FieldType.discrete),
    "train_config.batch": SearchSpace(categorical_values=[32, 64]),
}  # fmt: skip
METRICS = OrderedDict(val_loss=Optim.min)


def loss(config: dict[str, Any]) -> float:
    opt = config["train_config.optimizer_config"]
    return abs(opt["arguments"]["lr"] - 0.01) + config["model_config.width"] / 1000


@pytest.mark.parametrize("algo", [SearchAlgo.tpe, SearchAlgo.random])
def test_optuna_sampler_runs_ablators_call_sequence_and_resumes(algo: SearchAlgo) -> None:
    state = ExperimentStateLike(lambda trials: OptunaSampler(algo, SPACE, METRICS, trials, seed=0))
    state.run(12, loss)
    row = state.rows[0]
    assert set(row._opt_distributions_types.values()) <= {
        "FloatDistribution", "IntDistribution", "CategoricalDistribution"
    }  # fmt: skip
    assert set(row._opt_params) == set(row._opt_distributions_kwargs)
    json.dumps([row._opt_params, row._opt_distributions_kwargs])  # plain data
    state.resume()
    state.run(8, loss)
    ids = [r.trial_num for r in state.rows]
    assert ids == list(range(20))
    configs = [json.dumps(r.aug_config_param, sort_keys=True) for r in state.rows]
    assert len(set(configs)) == 20  # the resumed sampler continued, never replayed
    for r in state.rows:
        opt = r.aug_config_param["train_config.optimizer_config"]
        assert opt["name"] in ("sgd", "adam")
        assert isinstance(r.aug_config_param["model_config.width"], int)
        assert r.aug_config_param["train_config.batch"] in ("32", "64")  # ablator's strings


def test_grid_sampler_has_ablators_signature_and_no_internal_state() -> None:
    space = {"a": SearchSpace(value_range=["0", "10"], value_type=FieldType.discrete, n_bins=3),
             "b": SearchSpace(categorical_values=["x", "y"])}  # fmt: skip
    state = ExperimentStateLike(lambda rows: GridSampler(
        space, configs=[r.aug_config_param for r in rows or []], seed=1))  # fmt: skip
    state.run(3, lambda c: 0.0)
    assert all(r._opt_params is None for r in state.rows)
    state.resume()
    state.run(3, lambda c: 0.0)
    configs = [json.dumps(r.aug_config_param, sort_keys=True) for r in state.rows]
    assert len(set(configs)) == 6  # 3 x 2 grid points, each once per cycle


def test_make_sampler_takes_ablators_objects_directly() -> None:
    sampler = make_sampler(SearchAlgo.tpe, SPACE, optim_metrics=METRICS, seed=0)
    tid, config, internal = sampler.eager_sample()
    assert space_violation(
        {k: v for k, v in sampler.search_space.items()}, config
    ) is None  # fmt: skip
    sampler.unlock(drop=False)
    sampler.update_trial(tid, {"val_loss": 0.5}, TrialState.COMPLETE)
    row = TrialRow(tid, config)
    row.metrics = [{"val_loss": 0.5}]
    row.state = TrialState.COMPLETE
    resumed = make_sampler("random", SPACE, optim_metrics=METRICS, trials=[row], seed=0)
    assert resumed.new_trial_id() == 1 and resumed.trial_states == {0: TrialState.COMPLETE}


def test_older_ablator_spaces_without_value_type_are_floats() -> None:
    sampler = make_sampler("grid", {
        "lr": {"value_range": [0, 1], "n_bins": 3},
        "b": {"value_range": ["-10", "10"], "n_bins": 10},
    }, seed=0)  # fmt: skip
    seen = set()
    for _ in range(30):
        _, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        assert flat(config["lr"], 0, 1) and flat(config["b"], -10, 10)
        seen.add(config["b"])
    assert sorted(seen) == pytest.approx([-10 + 20 * i / 9 for i in range(10)])


class PortedSampler(BaseSampler):
    """An ablator-style sampler: overrides update_trial itself, has no _update_trial."""

    def __init__(self, search_space: Any, **kwargs: Any) -> None:
        super().__init__(search_space, **kwargs)
        self.seen: list[Any] = []

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        return self.new_trial_id(), self.tree.sample(lambda p: p.from_unit(0.5))[1]

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        return None

    def update_trial(self, trial_id: int, metrics: Any, state: Any) -> None:
        self.seen.append((trial_id, metrics, state))


def test_an_ablator_style_sampler_ports_unchanged_and_is_still_validated() -> None:
    sampler = PortedSampler({"x": {"value_range": [0, 1]}}, optim_metrics={"l": "min"})
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    sampler.update_trial(tid, {"l": 1}, 1)
    assert sampler.seen == [(0, {"l": 1.0}, TrialState.COMPLETE)]
    with pytest.raises(UnknownTrialError):
        sampler.update_trial(99, {"l": 1}, 1)
    with pytest.raises(MetricsError):
        sampler.update_trial(0, {"bogus": "x"}, 42)
