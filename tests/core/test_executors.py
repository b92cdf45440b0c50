"""The executor contract: capabilities instead of probed attributes, plain executors wrapped."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

import pytest

import hposampler
from hposampler.errors import PluginError
from hposampler.study import Executor, ExecutorCapabilities
from hposampler.study.executors import PlainExecutor, make_executor
from support import UniformPlugin, quadratic

SPACE = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}


class _PlainPool:
    """Registers ``plain``: a bare ThreadPoolExecutor, and ``junk``: not an executor."""

    def __init__(self) -> None:
        self.built: list[concurrent.futures.Executor] = []

    @hposampler.hookimpl
    def register_executors(self, register: Any) -> None:
        from hposampler.plugins.specs import ExecutorSpec

        def plain(max_workers: int) -> concurrent.futures.Executor:
            pool = concurrent.futures.ThreadPoolExecutor(max_workers)
            self.built.append(pool)
            return pool

        register(ExecutorSpec("plain", plain, "a bare thread pool (tests)"))
        register(ExecutorSpec("junk", lambda max_workers: object(), "not an executor (tests)"))


def test_builtin_executors_state_their_capabilities() -> None:
    thread = make_executor("thread", 2)
    process = make_executor("process", 1)
    try:
        assert isinstance(thread, Executor) and isinstance(process, Executor)
        assert thread.capabilities == ExecutorCapabilities(inline=True)
        assert process.capabilities.imports_objective
        assert process.capabilities.interrupts_trials
        assert not process.capabilities.inline
        assert process.capabilities.max_attempts == hposampler.study.MAX_ATTEMPTS
    finally:
        thread.shutdown()
        process.shutdown()


def test_capabilities_refuse_fewer_than_one_attempt() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        ExecutorCapabilities(max_attempts=0)


def test_a_plain_executor_from_a_plugin_runs_a_study(isolated_plugins: Any, tmp_path: Path) -> None:
    pool = _PlainPool()
    isolated_plugins(("uniform-plugin", UniformPlugin()), ("plain-pool", pool))
    built = make_executor("plain", 1)
    assert isinstance(built, PlainExecutor)
    assert built.capabilities == ExecutorCapabilities()
    assert built.channels(object()) is None  # type: ignore[arg-type]
    built.terminate()
    study = hposampler.Study.create(tmp_path / "s.db", "s", "uniform", SPACE, {"loss": "min"})
    study.optimize(quadratic, n_trials=4, concurrency=2, executor="plain")
    assert [t.state for t in study.trials] == [hposampler.TrialState.COMPLETE] * 4
    assert len(pool.built) == 2  # one built above, one by the study


def test_a_factory_that_returns_no_executor_names_the_executor(isolated_plugins: Any) -> None:
    isolated_plugins(("plain-pool", _PlainPool()))
    with pytest.raises(PluginError, match="executor 'junk'.*returned object, not an executor"):
        make_executor("junk", 1)


@pytest.mark.timeout(1800)
def test_trials_started_together_run_together_on_the_thread_executor(tmp_path: Path) -> None:
    # Two trials started at once must both run: the executor counted a thread busy
    # only once it had begun its item, so a trial submitted just after another was
    # picked up waited for that trial to finish (seen as a Hydra sweep's first batch
    # of two launching one job). Each pair meets at a barrier, which only both can pass.
    import threading

    space = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}

    def meeting(barrier: threading.Barrier) -> Any:
        def objective(config: dict[str, Any]) -> float:
            barrier.wait()
            return float(config["x"])

        return objective

    for attempt in range(20):
        objective = meeting(threading.Barrier(2, timeout=300))  # a hang guard

        study = hposampler.Study.create(
            tmp_path / "s.db", f"pair-{attempt}", "random", space, {"value": "min"}, seed=attempt
        )
        study.optimize(objective, 2, concurrency=2)
        states = [r.state for r in study.records()]
        assert states == [hposampler.TrialState.COMPLETE] * 2, states
