"""Study: persistence, resume, failures, concurrency, Pareto front, tampered storage."""

from __future__ import annotations

import itertools
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import support
from hposampler import MetricsError, Study, TrialState
from hposampler.errors import StorageError, StudyError

X = {"x": {"value_range": [0, 1], "value_type": "float"}}
XY = {**X, "y": {"value_range": [0, 1], "value_type": "float"}}


def make(
    tmp_path: Path,
    sampler: str = "random",
    space: dict[str, Any] = X,
    metrics: dict[str, str] | None = None,
    **kw: Any,
) -> Study:
    return Study.create(
        tmp_path / "s.db", "s", sampler, space, metrics or {"loss": "min"}, seed=0, **kw
    )


def test_optimize_reaches_the_total_and_resumes_the_remainder(tmp_path: Path) -> None:
    study = make(tmp_path)
    study.optimize(support.quadratic, 10)
    assert [r.trial_id for r in study.records()] == list(range(10))
    again = Study.load(tmp_path / "s.db", "s")
    again.optimize("support:quadratic", 15, concurrency=3)
    records = again.records()
    assert [r.trial_id for r in records] == list(range(15))
    assert all(r.state == TrialState.COMPLETE and r.attempts == 1 for r in records)
    best = again.best_trial
    assert best.final_metrics["loss"] == min(r.final_metrics["loss"] for r in records)
    again.optimize(support.quadratic, 15)  # already there: nothing runs
    assert len(again.records()) == 15


def test_creating_an_existing_study_needs_load_if_exists(tmp_path: Path) -> None:
    make(tmp_path)
    with pytest.raises(StudyError, match="study 's' already exists.*--resume"):
        make(tmp_path)
    loaded = make(tmp_path, load_if_exists=True)
    assert loaded.config.sampler == "random"
    switched = make(tmp_path, sampler="tpe", load_if_exists=True)  # switching sampler is fine
    assert Study.load(tmp_path / "s.db", "s").config.sampler == "tpe" == switched.config.sampler
    with pytest.raises(StudyError, match="another search space"):
        make(tmp_path, space=XY, load_if_exists=True)
    with pytest.raises(StudyError, match="no study 'other'.*studies: s"):
        Study.load(tmp_path / "s.db", "other")


def test_objective_exceptions_fail_the_trial_and_the_study_goes_on(tmp_path: Path) -> None:
    study = make(tmp_path)
    study.optimize(support.failing_above, 30)
    records = study.records()
    failed = [r for r in records if r.state == TrialState.FAIL]
    assert len(records) == 30 and failed
    assert all(r.config["x"] > 0.7 for r in failed)
    assert "ValueError: diverged at x=" in failed[0].error
    assert "Traceback" in failed[0].error
    assert all(r.config["x"] <= 0.7 for r in records if r.state == TrialState.COMPLETE)


def test_uncaught_exceptions_are_stored_and_reraised(tmp_path: Path) -> None:
    study = make(tmp_path)
    with pytest.raises(ValueError, match="diverged"):
        study.optimize(support.failing_above, 50, catch=())
    last = study.records()[-1]
    assert last.state == TrialState.FAIL and last.config["x"] > 0.7


def test_extras_are_stored_and_only_optim_metrics_reach_the_sampler(tmp_path: Path) -> None:
    study = make(tmp_path)
    study.optimize(support.with_extras, 3)
    record = study.records()[0]
    assert record.extra == {"epochs": 3, "note": "ok"}
    assert list(record.final_metrics) == ["loss"]


@pytest.mark.parametrize(
    ("extras", "clash"),
    [({1: "a", "1": "b"}, "'1'"), ({"e": {2: "x", "2": "y"}}, "'e.2'"),
     ({"e": [{True: 1, "true": 2}]}, "'e[0].true'")],
)  # fmt: skip
def test_extra_keys_that_collide_as_json_text_are_refused_not_merged(
    tmp_path: Path, extras: dict[Any, Any], clash: str
) -> None:
    study = make(tmp_path)
    with pytest.raises(MetricsError, match=f"two keys stored as {re.escape(clash)}"):
        study.optimize(lambda c: {"loss": 1.0, **extras}, 1)
    assert study.records()[0].state == TrialState.FAIL
    trial = study.ask()
    with pytest.raises(MetricsError, match="two keys stored as"):
        study.tell(trial, {"loss": 1.0, **extras})
    assert study.tell(trial, {"loss": 1.0, "one": 1}).extra == {"one": 1}  # told again


def test_wrong_metric_names_stop_the_study_with_a_clear_error(tmp_path: Path) -> None:
    study = make(tmp_path)
    with pytest.raises(MetricsError, match=r"lacks the optimised metric\(s\) loss"):
        study.optimize(support.wrong_metric, 5)
    assert study.records()[0].state == TrialState.FAIL


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_concurrency_runs_trials_in_parallel_workers(tmp_path: Path, executor: str) -> None:
    study = make(tmp_path)
    study.optimize(support.where_am_i, 8, concurrency=2, executor=executor)
    records = study.records()
    assert len(records) == 8 and all(r.state == TrialState.COMPLETE for r in records)
    pids = {r.extra["pid"] for r in records}
    if executor == "process":
        assert os.getpid() not in pids
    else:
        assert pids == {os.getpid()} and len({r.extra["thread"] for r in records}) == 2
    starts = sorted((r.started_at, r.finished_at) for r in records)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(starts))  # overlapping trials


def test_multi_objective_best_trials_is_the_pareto_front(tmp_path: Path) -> None:
    study = make(tmp_path, sampler="optuna:nsga2", space=XY, metrics={"loss": "min", "cost": "min"})
    study.optimize(support.two_metrics, 25)
    scored = [(r, r.final_metrics) for r in study.records()]
    front = {r.trial_id for r in study.best_trials}
    for r, m in scored:
        dominated = any(
            o["loss"] <= m["loss"] and o["cost"] <= m["cost"] and o != m for _, o in scored
        )
        assert (r.trial_id in front) == (not dominated)
    with pytest.raises(MetricsError, match="use best_trials"):
        _ = study.best_trial


def test_skip_duplicates_prunes_repeated_configs(tmp_path: Path) -> None:
    space = {"a": {"categorical_values": [1, 2, 3]}}
    study = Study.create(tmp_path / "s.db", "g", "grid", space, {"loss": "min"}, seed=0)
    study.optimize(lambda c: float(c["a"]), 5, skip_duplicates=True)
    states = [r.state for r in study.records()]
    assert states.count(TrialState.COMPLETE) == 3
    assert states.count(TrialState.PRUNED_DUPLICATE) == 100  # cycle mode repeats forever


def test_timeout_stops_starting_trials(tmp_path: Path) -> None:
    study = make(tmp_path)
    study.optimize(support.slow_quadratic, 1000, timeout=0.3)
    assert 1 <= len(study.records()) < 50
    assert all(r.state == TrialState.COMPLETE for r in study.records())


def _tamper(db: Path, sql: str, *params: Any) -> None:
    con = sqlite3.connect(db)
    con.execute(sql, params)
    con.commit()
    con.close()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("config", "__import__('os').system('touch PWNED')", "column config is not valid JSON"),
        ("metrics", '{"loss": 1}', "column metrics must hold a JSON array"),
        ("metrics", '[{"loss": "exec(1)"}]', "metric values must be numbers or None"),
        ("internal", '"pickle"', "column internal must hold a JSON object"),
        ("state", "42", "42 is not a valid TrialState"),
    ],
)
def test_tampered_rows_are_rejected_and_never_executed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str, value: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    study = make(tmp_path)
    study.optimize(support.quadratic, 3)
    _tamper(tmp_path / "s.db", f"UPDATE trials SET {column} = ? WHERE trial_id = 1", value)
    with pytest.raises(StorageError, match=f"study 's', trial 1: .*{message}"):
        Study.load(tmp_path / "s.db", "s")
    assert not (tmp_path / "PWNED").exists()


def test_tampered_definition_is_rejected(tmp_path: Path) -> None:
    make(tmp_path)
    definition = {
        "sampler": "random",
        "search_space": {"x": {"value_range": [1, 0], "value_type": "float"}},
        "optim_metrics": {"loss": "min"},
        "seed": 0,
        "options": {},
    }
    _tamper(tmp_path / "s.db", "UPDATE studies SET definition = ?", json.dumps(definition))
    with pytest.raises(StorageError, match="stored definition is invalid: x: value_range low"):
        Study.load(tmp_path / "s.db", "s")


def test_running_trials_of_a_dead_run_are_rerun_first_with_the_same_config(tmp_path: Path) -> None:
    study = make(tmp_path)
    study.optimize(support.quadratic, 4)
    # simulate a crash: trial 2 was RUNNING when the process died
    _tamper(tmp_path / "s.db", "UPDATE trials SET state = 0, metrics = '[]' WHERE trial_id = 2")
    before = {r.trial_id: r for r in study.records()}
    again = Study.load(tmp_path / "s.db", "s")
    again.optimize(support.quadratic, 5)
    after = {r.trial_id: r for r in again.records()}
    assert sorted(after) == [0, 1, 2, 3, 4]
    assert after[2].config == before[2].config and after[2].attempts == 2
    assert after[2].state == TrialState.COMPLETE
    for tid in (0, 1, 3):
        assert after[tid] == before[tid]  # finished trials untouched


def test_unsupported_storage_and_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="unknown storage 'mongodb://'.*sqlite://"):
        Study.create("mongodb://x/y", "s", "random", X, {"loss": "min"})
    with pytest.raises(StudyError, match="storage must be a file path, a URL"):
        Study.create(5, "s", "random", X, {"loss": "min"})  # type: ignore[arg-type]
    with pytest.raises(MetricsError, match="needs optim_metrics"):
        Study.create(tmp_path / "s.db", "s", "random", X, {})
    study = make(tmp_path)
    with pytest.raises(StudyError, match="concurrency must be a positive int"):
        study.optimize(support.quadratic, 3, concurrency=0)
    with pytest.raises(StudyError, match="must look like 'package.module:function'"):
        study.optimize("support.quadratic", 3)
    with pytest.raises(StudyError, match="cannot import objective module 'no_such_mod'"):
        study.optimize("no_such_mod:f", 3)


def test_ctrl_c_leaves_in_flight_trials_waiting_and_resume_finishes_them(
    tmp_path: Path,
) -> None:
    study = make(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(support.interrupted_above, 40, concurrency=2)
    records = study.records()
    waiting = [r for r in records if r.state == TrialState.WAITING]
    assert waiting and not any(r.state == TrialState.RUNNING for r in records)
    assert any(r.config["x"] > 0.8 for r in waiting)
    again = Study.load(tmp_path / "s.db", "s")
    again.optimize(support.quadratic, 40)
    after = {r.trial_id: r for r in again.records()}
    assert sorted(after) == list(range(40))
    assert all(r.state == TrialState.COMPLETE for r in after.values())
    for r in waiting:
        assert after[r.trial_id].config == r.config


def test_ctrl_c_while_a_trial_is_handed_to_the_pool_leaves_it_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the interrupt lands after the trial is stored RUNNING, before the pool has it
    from hposampler.study.executors import ThreadExecutor

    submit = ThreadExecutor.submit
    calls = []

    def interrupted_submit(self: ThreadExecutor, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(ThreadExecutor, "submit", interrupted_submit)
    study = make(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(support.slow_quadratic, 10, concurrency=3)
    states = [r.state for r in study.records()]
    assert states == [TrialState.WAITING] * 3
