"""AskTellSampler: what it gives an adapter, and the docs' example plugin built on it."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any

import pytest

from hposampler import Study, TrialState, make_sampler
from hposampler.samplers import AskTellSampler
from hposampler.testing import check_sampler

ROOT = Path(__file__).resolve().parents[2]
SPACE = {"x": {"value_range": [0.0, 1.0]}, "n": {"value_range": [1, 4], "value_type": "int"}}


class Recorder(AskTellSampler):
    """Asks points in a fixed order and records every tell."""

    def __init__(self, search_space: Any, **kwargs: Any) -> None:
        super().__init__(search_space, **kwargs)
        self.told: list[tuple[list[Any], list[float]]] = []
        self.asked = 0
        self.seeds: list[int | None] = []

    def _ask(self) -> list[float]:
        self.asked += 1
        return [0.1 * (self.asked % 10), 0.5]

    def _tell(self, points: list[Any], losses: list[float]) -> None:
        self.told.append((points, losses))

    def _to_params(self, point: Any) -> dict[str, Any]:
        names = sorted(self.tree.params)
        return {n: self.tree.params[n].from_unit(u) for n, u in zip(names, point)}

    def _to_point(self, params: Any) -> list[float]:
        return [self.tree.params[n].to_unit(params[n]) for n in sorted(self.tree.params)]

    def _reseed(self, seed: int | None) -> None:
        self.seeds.append(seed)


def sample(sampler: AskTellSampler) -> int:
    trial_id, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    return trial_id


def test_none_losses_wait_for_a_worst_and_max_metrics_are_negated() -> None:
    sampler = Recorder(SPACE, optim_metrics={"acc": "max"}, seed=0)
    first, second = sample(sampler), sample(sampler)
    sampler.update_trial(first, {"acc": None}, TrialState.COMPLETE)
    assert sampler.told == []  # no loss known yet: deferred
    sampler.update_trial(second, {"acc": 0.8}, TrialState.COMPLETE)
    assert [losses for _, losses in sampler.told] == [[-0.8], [-0.8]]  # then told the worst
    third = sample(sampler)
    sampler.update_trial(third, None, TrialState.FAIL)
    assert len(sampler.told) == 2  # failures are not told unless tell_failures


def test_failures_are_told_as_the_worst_when_asked_for() -> None:
    class Strict(Recorder):
        tell_failures = True

    sampler = Strict(SPACE, optim_metrics={"loss": "min"}, seed=0)
    a, b = sample(sampler), sample(sampler)
    sampler.update_trial(a, {"loss": 3.0}, TrialState.COMPLETE)
    sampler.update_trial(b, None, TrialState.PRUNED)
    assert [losses for _, losses in sampler.told] == [[3.0], [3.0]]


def test_pending_points_internal_state_and_resume() -> None:
    sampler = Recorder(SPACE, optim_metrics={"loss": "min"}, seed=3)
    a, b = sample(sampler), sample(sampler)
    assert sorted(map(tuple, sampler.pending.points())) == sorted(
        tuple(sampler.points[t]) for t in (a, b)
    )
    sampler.update_trial(a, {"loss": 1.0}, TrialState.COMPLETE)
    assert len(sampler.pending) == 1
    internal = sampler.internal_repr(a)
    assert internal == {"point": sampler.points[a]} and internal["point"] is not sampler.points[a]
    trials = [
        {"trial_id": a, "config": {"x": 0.1, "n": 3}, "state": TrialState.COMPLETE,
         "metrics": [{"loss": 1.0}], "internal": internal},
        {"trial_id": b, "config": {"x": 0.2, "n": 3}, "state": TrialState.RUNNING,
         "internal": {"point": "not a point"}},
    ]  # fmt: skip
    resumed = Recorder(SPACE, optim_metrics={"loss": "min"}, seed=3, trials=trials)
    assert resumed.points[a] == internal["point"]  # the stored point, as it was
    assert resumed.points[b] == resumed._to_point({"x": 0.2, "n": 3})  # rebuilt from config
    assert resumed.told == [([internal["point"]], [1.0])] and len(resumed.pending) == 1
    again = Recorder(SPACE, optim_metrics={"loss": "min"}, seed=3, trials=trials)
    assert resumed.seeds == again.seeds != [None]  # same history, same reseed
    sample(resumed)
    resumed.sync_trials([{"trial_id": 7, "config": {"x": 0.3, "n": 1}, "state": 1,
                          "metrics": [{"loss": 2.0}]}])  # fmt: skip
    assert resumed.seeds[-1] != again.seeds[-1]  # a worker that sampled: keyed by itself


def test_a_space_of_constants_asks_nothing() -> None:
    sampler = Recorder({"k": 3}, optim_metrics={"loss": "min"}, seed=0)
    trial_id, config, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    sampler.update_trial(trial_id, {"loss": 1.0}, TrialState.COMPLETE)
    assert config == {"k": 3} and sampler.asked == 0 and sampler.told == []


def _example_module() -> types.ModuleType:
    text = (ROOT / "docs" / "plugins.md").read_text()
    [code] = re.findall(r"<!-- asktell-example -->\n```python\n(.*?)```", text, flags=re.S)
    module = types.ModuleType("hpo_local")
    exec(compile(code, "docs/plugins.md", "exec"), module.__dict__)
    return module


def test_the_docs_example_plugin_passes_the_kit_and_runs_a_study(
    isolated_plugins: Any, tmp_path: Path
) -> None:
    isolated_plugins(("hpo_local", _example_module()))
    check_sampler("local:gauss", quick=True)
    study = Study.create(tmp_path / "s.db", "s", "local:gauss", SPACE, {"loss": "min"}, seed=1)
    study.optimize(lambda c: (c["x"] - 0.7) ** 2 + c["n"], n_trials=30)
    assert study.best_trial.final_metrics["loss"] < 1.05
    assert make_sampler("local:gauss", SPACE, optim_metrics={"loss": "min"}).step == 0.15


@pytest.mark.parametrize("sampler", ["skopt:gp", "skopt:rf"])
def test_skopt_is_built_on_it(sampler: str) -> None:
    built = make_sampler(sampler, SPACE, optim_metrics={"loss": "min"}, seed=0)
    assert isinstance(built, AskTellSampler)
