"""BaseSampler: lock discipline, dense ids, metrics checks, lifecycle hooks, Trial JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

import hposampler
from hposampler import (
    MetricsError,
    SamplerLockedError,
    Trial,
    TrialState,
    UnknownTrialError,
    make_sampler,
)
from hposampler.errors import StorageError

SPACE = {
    "x": {"value_range": [0, 1], "value_type": "float"},
    "c": {"categorical_values": ["a", "b"]},
}


def test_trial_state_values_are_ablators() -> None:
    assert [(s.name, int(s)) for s in TrialState] == [
        ("RUNNING", 0),
        ("COMPLETE", 1),
        ("PRUNED", 2),
        ("FAIL", 3),
        ("WAITING", 4),
        ("PRUNED_INVALID", 5),
        ("PRUNED_DUPLICATE", 6),
        ("PRUNED_POOR_PERFORMANCE", 7),
        ("FAIL_RECOVERABLE", 8),
    ]


def test_lock_discipline(uniform_registry: Any) -> None:
    sampler = make_sampler("uniform", SPACE, seed=1)
    sampler.unlock(drop=False)  # no-op while unlocked, as in ablator
    with pytest.raises(SamplerLockedError, match="nothing to drop"):
        sampler.unlock(drop=True)
    tid, config, internal = sampler.eager_sample()
    assert internal == {"config": config}
    with pytest.raises(SamplerLockedError, match="trial 0 is still locked"):
        sampler.eager_sample()
    sampler.unlock(drop=False)
    assert sampler.eager_sample()[0] == 1


def test_ids_are_dense_and_a_dropped_id_is_reused(uniform_registry: Any) -> None:
    sampler = make_sampler("uniform", SPACE, seed=1)
    ids = []
    for drop in (False, True, False, True, True, False):
        tid, _, _ = sampler.eager_sample()
        sampler.unlock(drop=drop)
        ids.append(tid)
    assert ids == [0, 1, 1, 2, 2, 2]
    with pytest.raises(UnknownTrialError, match="trial 3 is unknown"):
        sampler.update_trial(3, None, TrialState.COMPLETE)


def test_resumed_sampler_continues_after_the_largest_id(uniform_registry: Any) -> None:
    trials = [
        Trial(0, {"x": 0.5, "c": "a"}, TrialState.COMPLETE, [{"loss": 1.0}]),
        {"trial_id": 4, "config": {"x": 0.1, "c": "b"}, "state": 3},
    ]
    sampler = make_sampler("uniform", SPACE, trials=trials, optim_metrics={"loss": "min"})
    assert sampler.eager_sample()[0] == 5
    sampler.unlock(drop=False)
    sampler.update_trial(4, {"loss": 2}, TrialState.COMPLETE)  # resumed ids are known


def test_metrics_must_match_optim_metrics(uniform_registry: Any) -> None:
    sampler = make_sampler("uniform", SPACE, optim_metrics={"loss": "min"}, seed=0)
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    with pytest.raises(MetricsError, match=r"missing: \['loss'\].*unexpected: \['los'\]"):
        sampler.update_trial(tid, {"los": 1.0}, TrialState.COMPLETE)
    with pytest.raises(MetricsError, match="must be a number or None"):
        sampler.update_trial(tid, {"loss": "bad"}, TrialState.COMPLETE)
    sampler.update_trial(tid, {"loss": float("nan")}, TrialState.COMPLETE)
    assert sampler.updates[-1] == (tid, {"loss": None}, TrialState.COMPLETE)
    assert sampler.worst_filled({"loss": None}) == {"loss": float("inf")}


def test_worst_value_follows_direction(uniform_registry: Any) -> None:
    from support import UniformSampler

    sampler = UniformSampler(SPACE, optim_metrics={"acc": "MAX", "loss": "min"})
    assert sampler.optim_metrics == {"acc": "max", "loss": "min"}
    assert sampler.worst_filled({"acc": None, "loss": None}) == {
        "acc": float("-inf"),
        "loss": float("inf"),
    }
    with pytest.raises(MetricsError, match="'acc': direction must be 'min' or 'max'"):
        make_sampler("uniform", SPACE, optim_metrics={"acc": "up"})


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    @hposampler.hookimpl
    def trial_sampled(self, trial_id: int, config: dict[str, Any]) -> None:
        self.events.append(("sampled", trial_id))

    @hposampler.hookimpl
    def trial_unlocked(self, trial_id: int, dropped: bool) -> None:
        self.events.append(("unlocked", trial_id, dropped))

    @hposampler.hookimpl
    def trial_updated(self, sampler: Any, trial_id: int, metrics: Any, state: TrialState) -> None:
        self.events.append(("updated", trial_id, metrics, state))


def test_lifecycle_hooks_are_called_by_the_base_class(isolated_plugins: Any) -> None:
    from support import UniformPlugin

    recorder = Recorder()
    isolated_plugins(("uniform", UniformPlugin()), ("recorder", recorder))
    sampler = make_sampler("uniform", SPACE, optim_metrics={"loss": "min"})
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=True)
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    sampler.update_trial(tid, {"loss": 1}, 1)
    assert recorder.events == [
        ("sampled", 0),
        ("unlocked", 0, True),
        ("sampled", 0),
        ("unlocked", 0, False),
        ("updated", 0, {"loss": 1.0}, TrialState.COMPLETE),
    ]


def test_trial_json_round_trip_and_validation() -> None:
    trial = Trial(3, {"a": [1, "x"]}, TrialState.PRUNED, [{"loss": 1}, {"loss": None}], {"k": 1})
    data = json.loads(json.dumps(trial.to_dict()))
    assert data["state"] == 2 and data["metrics"] == [{"loss": 1.0}, {"loss": None}]
    assert Trial.from_dict(data) == trial
    assert trial.final_metrics == {"loss": None}
    with pytest.raises(StorageError, match="invalid trial record 3: .*unknown state"):
        Trial.from_dict({**data, "state": "DONE"})
    with pytest.raises(StorageError, match="unknown field"):
        Trial.from_dict({**data, "exec": "print(1)"})
    with pytest.raises(StorageError, match="metric values must be numbers"):
        Trial.from_dict({**data, "metrics": [{"loss": "1"}]})
    with pytest.raises(StorageError, match="trial_id must be"):
        Trial.from_dict({**data, "trial_id": -1})
