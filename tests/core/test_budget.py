"""The study's budget and concurrency reach factories that ask; max_pending is kept."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import hposampler
from hposampler import SamplerSpec, Study, TrialState, make_sampler
from support import UniformSampler

SEEN: list[dict[str, Any]] = []


class BudgetAware(UniformSampler):
    """Records what the core passed; takes one pending trial at a time."""

    def __init__(self, search_space: Any, *, budget: int | None = None,
                 concurrency: int | None = None, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(search_space, **kwargs)
        SEEN.append({"budget": budget, "concurrency": concurrency})
        self.pending = 0

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        self.pending += 1
        assert self.pending <= 1, "asked for a second trial while one is pending"
        return super()._eager_sample()

    def _update_trial(self, trial_id: int, metrics: Any, state: TrialState) -> None:
        if state.is_finished:
            self.pending -= 1


class Plugin:
    @hposampler.hookimpl
    def register_samplers(self, register: Any) -> None:
        register(SamplerSpec("test:sequential", BudgetAware, max_pending=1, options=()))
        register(SamplerSpec("test:uniform", UniformSampler))


running = 0
most = 0
lock = threading.Lock()


def objective(config: dict[str, Any]) -> float:
    global running, most
    with lock:
        running += 1
        most = max(most, running)
    time.sleep(0.02)
    with lock:
        running -= 1
    return float(config["x"])


def test_budget_and_concurrency_reach_a_factory_that_asks(isolated_plugins: Any) -> None:
    isolated_plugins(("plugin", Plugin()))
    SEEN.clear()
    make_sampler("test:sequential", {"x": {"value_range": [0, 1]}}, budget=30, concurrency=2)
    make_sampler("test:uniform", {"x": {"value_range": [0, 1]}}, budget=30, concurrency=2)
    assert SEEN == [{"budget": 30, "concurrency": 2}]  # the uniform sampler never saw them


def test_the_runner_keeps_to_max_pending(tmp_path: Path, isolated_plugins: Any) -> None:
    global most
    isolated_plugins(("plugin", Plugin()))
    SEEN.clear()
    most = 0
    study = Study.create(tmp_path / "s.db", "s", "test:sequential",
                         {"x": {"value_range": [0, 1]}}, {"loss": "min"}, seed=0)  # fmt: skip
    SEEN.clear()
    study.optimize(objective, 12, concurrency=4)
    assert most == 1  # a sequential backend works at any concurrency
    assert SEEN == [{"budget": 12, "concurrency": 1}]
    assert [r.state for r in study.records()] == [TrialState.COMPLETE] * 12
