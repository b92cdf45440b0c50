"""Steering a study as Optuna users do: enqueue, user attributes, stop, copy, progress."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hposampler import Study, TrialState
from hposampler.cli import main
from hposampler.errors import StudyError

SPACE = {
    "x": {"value_range": [-1.0, 1.0], "value_type": "float"},
    "n": {"value_range": [1, 9], "value_type": "int"},
    "act": {"categorical_values": ["relu", "tanh"]},
}


def loss(config: dict[str, Any]) -> float:
    return float(config["x"] ** 2 + config["n"])


def _study(tmp_path: Path, sampler: str = "tpe", name: str = "s") -> Study:
    return Study.create(tmp_path / "s.db", name, sampler, SPACE, {"loss": "min"}, seed=0)


@pytest.mark.parametrize("sampler", ["random", "tpe", "skopt:gp", "grid"])
def test_enqueued_configs_run_first_count_towards_the_total_and_are_learnt(
    tmp_path: Path, sampler: str
) -> None:
    if sampler == "skopt:gp":
        pytest.importorskip("skopt")
    space = dict(SPACE, x={"value_range": [-1.0, 1.0], "value_type": "float", "n_bins": 3},
                 n={"value_range": [1, 9], "value_type": "int", "n_bins": 9})  # fmt: skip
    study = Study.create(tmp_path / "s.db", "s", sampler, space, {"loss": "min"}, seed=0)
    known = {"x": 0.0, "n": 1, "act": "tanh"}
    assert study.enqueue(known, user_attrs={"source": "paper"}) == 0
    assert study.enqueue({"x": 1.0, "n": 9, "act": "relu"}) == 1
    assert [r.state for r in study.records()] == [TrialState.WAITING] * 2
    study.optimize(loss, 8)
    records = study.records()
    assert len(records) == 8 and all(r.state == TrialState.COMPLETE for r in records)
    assert records[0].config == known and records[0].user_attrs == {"source": "paper"}
    assert records[1].config == {"x": 1.0, "n": 9, "act": "relu"}
    assert study.best_trial.trial_id == 0  # the known optimum of this space
    configs = [json.dumps(r.config, sort_keys=True) for r in records]
    if sampler == "grid":  # the grid knows the enqueued points as tried
        assert len(set(configs)) == len(configs)


def test_a_partial_config_keeps_its_keys_and_draws_the_rest(tmp_path: Path) -> None:
    study = _study(tmp_path)
    for _ in range(5):
        study.enqueue({"act": "tanh"})
    for record in study.records():
        assert record.config["act"] == "tanh"
        assert -1.0 <= record.config["x"] <= 1.0 and record.config["n"] in range(1, 10)
    assert len({r.config["x"] for r in study.records()}) == 5


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"x": 5.0, "n": 1, "act": "relu"}, "x: value 5.0 is not in the search space"),
        ({"x": 0.0, "n": 1, "act": "gelu"}, "act"),
        ({"x": 0.0, "n": 1, "act": "relu", "lr": 1}, "lr"),
        ("x=1", "enqueue() takes a config dict"),
    ],
)
def test_configs_outside_the_space_are_refused_in_one_line(
    tmp_path: Path, config: Any, fragment: str
) -> None:
    study = _study(tmp_path)
    with pytest.raises(StudyError) as info:
        study.enqueue(config)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert study.records() == []


def test_a_running_worker_runs_what_another_process_enqueues(tmp_path: Path) -> None:
    study = _study(tmp_path, "random")
    other = Study.load(tmp_path / "s.db", "s")  # e.g. `hposampler enqueue` meanwhile

    def enqueue_at_three(_study: Study, record: Any) -> None:
        if record.trial_id == 3:
            other.enqueue({"x": 0.5, "n": 5, "act": "relu"})

    study.optimize(loss, 10, callbacks=[enqueue_at_three])
    records = study.records()
    assert len(records) == 10
    [queued] = [r for r in records if r.config == {"x": 0.5, "n": 5, "act": "relu"}]
    assert queued.state == TrialState.COMPLETE and queued.trial_id == 4


def _with_attrs(config: dict[str, Any], trial: Any) -> float:
    trial.set_user_attr("epochs", 3)
    trial.set_user_attr("notes", {"by": "objective", "tags": ("a", "b")})
    return loss(config)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_objectives_store_user_attributes_on_their_trial(tmp_path: Path, executor: str) -> None:
    study = _study(tmp_path, "random")
    study.optimize(_with_attrs, 4, executor=executor, concurrency=2)
    for record in study.records():
        assert record.user_attrs == {"epochs": 3, "notes": {"by": "objective", "tags": ["a", "b"]}}
    row = study.to_records()[0]
    assert row["user_attrs.epochs"] == 3


def _bad_attr(config: dict[str, Any], trial: Any) -> float:
    trial.set_user_attr("model", object())
    return 0.0


def test_a_value_that_is_not_json_fails_its_trial_with_the_key_named(tmp_path: Path) -> None:
    study = _study(tmp_path, "random")
    study.optimize(_bad_attr, 2)
    for record in study.records():
        assert record.state == TrialState.FAIL
        assert "user attribute 'model': object" in (record.error or "")
        assert "is not JSON" in (record.error or "")


def test_study_user_attributes_round_trip_and_are_checked(tmp_path: Path) -> None:
    study = _study(tmp_path)
    study.set_user_attr("owner", "ana")
    study.set_user_attr("budget", {"gpu_hours": 12.5})
    study.set_user_attr("owner", "bo")
    assert Study.load(tmp_path / "s.db", "s").user_attrs == {
        "owner": "bo", "budget": {"gpu_hours": 12.5}
    }  # fmt: skip
    with pytest.raises(StudyError, match="is not JSON"):
        study.set_user_attr("x", float("nan"))
    with pytest.raises(StudyError, match="key must be text"):
        study.set_user_attr(3, 1)  # type: ignore[arg-type]


def test_stop_from_a_callback_ends_after_the_running_trials(tmp_path: Path) -> None:
    study = _study(tmp_path, "random")

    def stop_at_five(s: Study, record: Any) -> None:
        if len(s.records()) >= 5:
            s.stop()

    study.optimize(loss, 50, callbacks=[stop_at_five])
    assert study.stopping
    assert len(study.records()) == 5
    assert all(r.state == TrialState.COMPLETE for r in study.records())
    study.optimize(loss, 8)  # the next optimize starts afresh and goes on
    assert not study.stopping and len(study.records()) == 8


def _stop_at_two(config: dict[str, Any], trial: Any) -> float:
    if trial.trial_id == 2:
        trial.stop_study()
        trial.set_user_attr("stopped_at", time.time())
    return loss(config)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_an_objective_stops_the_study_from_any_executor(tmp_path: Path, executor: str) -> None:
    study = _study(tmp_path, "random")
    study.optimize(_stop_at_two, 40, executor=executor, concurrency=2)
    records = study.records()
    assert study.stopping and 3 <= len(records) < 40
    # The other slot may run any number of trials while trial 2 runs (a loaded machine
    # can hold trial 2 back), but no trial starts once trial 2's stop_study() returned.
    stopped_at = records[2].user_attrs["stopped_at"]
    assert all(r.started_at is not None and r.started_at < stopped_at for r in records)
    assert [r.trial_id for r in records] == list(range(len(records)))
    assert all(r.state == TrialState.COMPLETE for r in records)


def test_a_copy_continues_where_the_study_was(tmp_path: Path) -> None:
    study = _study(tmp_path, "tpe")
    study.set_user_attr("owner", "ana")

    def report(config: dict[str, Any], trial: Any) -> float:
        trial.report(0, loss(config) + 1)
        trial.set_user_attr("epochs", 1)
        return loss(config)

    study.optimize(report, 6)
    study.storage.create_trial(  # a trial a worker was running when the copy was made
        "s", study.records()[0].evolve(trial_id=6, state=TrialState.RUNNING, driver="h:1:x")
    )
    copied = study.copy_to(tmp_path / "other.db", "moved")
    before, after = study.records(), copied.records()
    assert [r.trial_id for r in after] == list(range(7))
    for a, b in zip(before[:6], after[:6]):
        assert a == b  # ids, states, configs, metrics, reports, internal state, times
    assert after[6].state == TrialState.WAITING and after[6].driver is None
    assert copied.user_attrs == {"owner": "ana"}
    copied.optimize(report, 12)
    final = copied.records()
    assert [r.trial_id for r in final] == list(range(12))
    assert all(r.state == TrialState.COMPLETE for r in final)
    assert final[6].config == before[6].config  # the interrupted trial ran in the copy
    with pytest.raises(StudyError, match="already exists"):
        study.copy_to(tmp_path / "other.db", "moved")


def test_progress_shows_the_bar_from_python(tmp_path: Path, capsys: Any) -> None:
    study = _study(tmp_path, "random")
    study.optimize(loss, 7, progress=True)
    out = capsys.readouterr().out
    assert "7/7" in out and "best loss=" in out
    assert len(study.records()) == 7


def _write(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "obj.py").write_text(textwrap.dedent("""
        import json, os
        def objective(config, trial):
            if os.environ.get("STOP_AT") == str(trial.trial_id):
                trial.stop_study()
            return config["x"] ** 2
    """))  # fmt: skip
    path = tmp_path / "study.toml"
    path.write_text(textwrap.dedent("""
        [study]
        name = "demo"
        objective = "obj:objective"
        trials = 6
        storage = "demo.db"
        [sampler]
        name = "random"
        seed = 0
        [metrics]
        loss = "min"
        [search_space]
        x = { value_range = [-1.0, 1.0], value_type = "float" }
    """) + extra)  # fmt: skip
    return path


def _run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hposampler", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, **env}, timeout=300,
    )  # fmt: skip


def test_study_file_enqueue_runs_once_and_the_cli_enqueues_and_copies(tmp_path: Path) -> None:
    path = _write(tmp_path, "[[enqueue]]\nx = 0.25\n[[enqueue]]\nx = -0.5\n")
    assert _run("run", str(path), cwd=tmp_path).returncode == 0
    records = Study.load(tmp_path / "demo.db", "demo").records()
    assert [r.config["x"] for r in records[:2]] == [0.25, -0.5] and len(records) == 6
    out = _run("enqueue", "demo", '{"x": 0.75}', "--storage", "demo.db", cwd=tmp_path)
    assert out.returncode == 0 and "enqueued trial 6" in out.stdout, out.stderr
    path.write_text(path.read_text().replace("trials = 6", "trials = 7"))
    assert _run("run", str(path), "--resume", cwd=tmp_path).returncode == 0
    records = Study.load(tmp_path / "demo.db", "demo").records()
    assert len(records) == 7 and records[6].config == {"x": 0.75}  # no second [[enqueue]]
    bad = _run("enqueue", "demo", "{x: 1}", "--storage", "demo.db", cwd=tmp_path)
    assert bad.returncode == 2 and "is not JSON" in bad.stderr
    copied = _run("copy", "demo", "--from", "demo.db", "--to", "copy.db", "--as", "again",
                  cwd=tmp_path)  # fmt: skip
    assert copied.returncode == 0 and "copied study demo (7 trials)" in copied.stdout
    assert Study.load(tmp_path / "copy.db", "again").records() == records


def test_the_cli_says_a_study_was_stopped(tmp_path: Path) -> None:
    path = _write(tmp_path)
    out = _run("run", str(path), cwd=tmp_path, STOP_AT="2")
    assert out.returncode == 0, out.stderr
    assert "stopped" in out.stdout and "--resume" in out.stdout
    assert len(Study.load(tmp_path / "demo.db", "demo").records()) == 3


def test_cli_help_names_the_new_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "enqueue" in result.output and "copy" in result.output


def test_step_is_refused_with_the_n_bins_spelling() -> None:
    from hposampler import compile_space
    from hposampler.errors import SearchSpaceError

    with pytest.raises(SearchSpaceError) as info:
        compile_space({"lr": {"value_range": [0.0, 1.0], "step": 0.1}})
    assert "n_bins" in str(info.value) and '"n_bins": 11' in str(info.value)
