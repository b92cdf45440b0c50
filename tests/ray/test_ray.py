"""hposampler-ray: trials as Ray tasks, dead workers retried, driver killed and resumed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from hposampler import Study, TrialState  # noqa: E402

TESTS = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}})  # fmt: skip
    yield
    ray.shutdown()


def test_study_runs_trials_in_ray_workers(tmp_path: Path, local_ray: None) -> None:
    study = Study.create(tmp_path / "r.db", "r", "random",
                         {"x": {"value_range": [0, 1], "value_type": "float"}},
                         {"loss": "min"}, seed=0)  # fmt: skip
    study.optimize("support:where_am_i", 8, concurrency=2, executor="ray")
    records = study.records()
    assert [r.trial_id for r in records] == list(range(8))
    assert all(r.state == TrialState.COMPLETE for r in records)
    pids = {r.extra["pid"] for r in records}
    assert os.getpid() not in pids  # worker processes, not the driver
    assert ray.is_initialized()  # a Ray the executor did not start is left running


def test_the_ray_executor_passes_the_executor_kit(local_ray: None) -> None:
    from hposampler.testing import check_executor

    check_executor("ray")  # capabilities, outcomes and errors, reports through the actor


def test_trials_whose_worker_dies_are_retried_with_the_same_config(
    tmp_path: Path, local_ray: None
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    space = {"x": {"value_range": [0, 1], "value_type": "float"},
             "marker_dir": str(markers)}  # fmt: skip
    study = Study.create(tmp_path / "r.db", "r", "random", space, {"loss": "min"}, seed=3)
    study.optimize("support:die_once", 10, concurrency=2, executor="ray")
    records = study.records()
    assert len(records) == 10 and all(r.state == TrialState.COMPLETE for r in records)
    killed = [r for r in records if r.config["x"] > 0.5]
    assert killed, "the seed should give some x > 0.5"
    assert all(r.attempts == 2 for r in killed)
    assert all(r.attempts == 1 for r in records if r.config["x"] <= 0.5)
    assert len(list(markers.iterdir())) == len(killed)


def test_ray_tasks_set_user_attributes_and_stop_the_study(tmp_path: Path, local_ray: None) -> None:
    study = Study.create(tmp_path / "r.db", "r", "random",
                         {"x": {"value_range": [0, 1], "value_type": "float"}},
                         {"loss": "min"}, seed=0)  # fmt: skip
    study.optimize("support:steered", 40, concurrency=2, executor="ray")
    records = study.records()
    assert study.stopping and 4 <= len(records) < 40
    # No trial started after the stop: the other slot may have run any number of trials
    # while trial 3 ran, but none once trial 3's stop_study() had returned.
    stopped_at = records[3].user_attrs["stopped_at"]
    assert all(r.started_at is not None and r.started_at < stopped_at for r in records)
    assert [r.trial_id for r in records] == list(range(len(records)))
    assert all(r.state == TrialState.COMPLETE for r in records)
    assert all(r.user_attrs["where"] != os.getpid() for r in records)  # from the tasks


def test_retries_are_bounded_by_max_retries(tmp_path: Path, local_ray: None) -> None:
    space = {"x": {"value_range": [0.6, 1], "value_type": "float"},
             "marker_dir": str(tmp_path)}  # fmt: skip
    study = Study.create(tmp_path / "r.db", "r", "random", space, {"loss": "min"}, seed=0)
    # every first attempt dies; with max_retries=0 there is no second attempt
    study.optimize("support:die_once", 2, concurrency=1, executor="ray",
                   executor_options={"max_retries": 0})  # fmt: skip
    records = study.records()
    assert [r.state for r in records] == [TrialState.FAIL, TrialState.FAIL]
    assert all("WorkerCrashedError" in (r.error or "") or "died" in (r.error or "").lower()
               for r in records)  # fmt: skip


def _complete(db: Path) -> int:
    try:
        con = sqlite3.connect(db, timeout=5)
        (n,) = con.execute("SELECT count(*) FROM trials WHERE state = 1").fetchone()
        con.close()
        return int(n)
    except sqlite3.OperationalError:
        return 0


def test_driver_killed_then_resumed(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(
        textwrap.dedent("""
        [study]
        name = "ray"
        objective = "support:slow_quadratic"
        trials = 24
        concurrency = 2
        executor = "ray"
        storage = "ray.db"
        executor_options = { local_num_cpus = 2 }

        [sampler]
        name = "random"
        seed = 0

        [metrics]
        loss = "min"

        [search_space]
        x = { value_range = [0, 1], value_type = "float" }
    """)
    )
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    cmd = [sys.executable, "-m", "hposampler", "run", str(path)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    db = tmp_path / "ray.db"
    while _complete(db) < 6:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the study did not progress"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    os.killpg(proc.pid, signal.SIGKILL)  # the local Ray it started goes with it
    finished = {r.trial_id: r for r in Study.load(db, "ray").records() if r.state.is_finished}
    result = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True,
                            timeout=180, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    after = {r.trial_id: r for r in Study.load(db, "ray").records()}
    assert sorted(after) == list(range(24))
    assert all(r.state == TrialState.COMPLETE for r in after.values())
    for tid, record in finished.items():
        assert after[tid] == record


def test_trials_in_ray_tasks_report_and_are_pruned(tmp_path: Path, local_ray: None) -> None:
    study = Study.create(tmp_path / "p.db", "p", "random",
                         {"x": {"value_range": [0, 1], "value_type": "float"}},
                         {"loss": "min"}, seed=0, pruner="median",
                         pruner_options={"n_startup_trials": 3})  # fmt: skip
    study.optimize("support:curve", 16, concurrency=2, executor="ray")
    records = study.records()
    states = {r.state for r in records}
    assert states <= {TrialState.COMPLETE, TrialState.PRUNED_POOR_PERFORMANCE}
    assert TrialState.PRUNED_POOR_PERFORMANCE in states
    for record in records:
        steps = [step for step, _ in record.intermediate]
        assert steps == list(range(len(steps))) and steps
        if record.state == TrialState.COMPLETE:
            assert len(steps) == 8 and record.extra["pid"] != os.getpid()
        else:  # the last report is the pruned trial's result
            assert record.final_metrics == record.intermediate[-1][1]
