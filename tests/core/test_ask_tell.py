"""Study.ask / Study.tell: the caller's own loop, durable and shared like optimize."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import hposampler
from hposampler import Study, TrialState
from hposampler.errors import MetricsError, StudyError

SPACE = {
    "x": {"value_range": [0.0, 1.0], "value_type": "float"},
    "y": {"value_range": [-1.0, 1.0], "value_type": "float"},
}
TESTS = Path(__file__).resolve().parent.parent


def loss(config: dict[str, Any]) -> float:
    return float((config["x"] - 0.2) ** 2 + config["y"] ** 2)


def create(path: Path, sampler: str = "random", **kwargs: Any) -> Study:
    return Study.create(path / "s.db", "s", sampler, SPACE, {"loss": "min"}, seed=0, **kwargs)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPOSAMPLER_")}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,  # a hang guard, not a time limit (load 10 is slow)
        check=False,
    )


def test_an_ask_tell_loop_stores_every_trial_and_learns(tmp_path: Path) -> None:
    study = create(tmp_path, "tpe")
    for expected in range(12):
        trial = study.ask()
        assert trial.trial_id == expected and trial.attempt == 1
        assert study.trials[-1].state == TrialState.RUNNING  # stored before it is evaluated
        record = study.tell(trial, {"loss": loss(trial.config), "note": "extra"})
        assert record.state == TrialState.COMPLETE and record.extra == {"note": "extra"}
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 12
    best = study.best_trial
    assert best.final_metrics == {"loss": min(loss(t.config) for t in study.trials)}


def test_ask_tell_proposes_what_optimize_proposes_for_a_seed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    asked = create(tmp_path / "a", "tpe", sampler_options={"n_startup_trials": 3})
    for _ in range(8):
        trial = asked.ask()
        asked.tell(trial, loss(trial.config))
    optimized = create(tmp_path / "b", "tpe", sampler_options={"n_startup_trials": 3})
    optimized.optimize(loss, n_trials=8)
    assert [t.config for t in asked.trials] == [t.config for t in optimized.trials]


def test_a_trial_asked_here_is_told_by_another_process(tmp_path: Path) -> None:
    study = create(tmp_path)
    trial = study.ask()
    told = run_python(
        f"""
        from hposampler import Study
        study = Study.load({str(tmp_path / "s.db")!r}, "s")
        record = study.tell({trial.trial_id}, 0.25)
        print(record.state.name, record.trial_id)
        """
    )
    assert told.returncode == 0, told.stderr
    assert told.stdout.split() == ["COMPLETE", str(trial.trial_id)]
    # the asker learns it (its sampler syncs) and goes on with the next id
    assert study.ask().trial_id == trial.trial_id + 1
    with pytest.raises(StudyError, match="trial 0 is COMPLETE already; a trial is told once"):
        study.tell(trial, 0.5)


def test_a_trial_asked_by_a_process_that_died_is_taken_over(tmp_path: Path) -> None:
    create(tmp_path)
    asked = run_python(
        f"""
        import json
        from hposampler import Study
        trial = Study.load({str(tmp_path / "s.db")!r}, "s").ask()
        print(json.dumps([trial.trial_id, trial.config]))
        """
    )  # the process ends without telling
    assert asked.returncode == 0, asked.stderr
    import json

    trial_id, config = json.loads(asked.stdout)
    study = Study.load(tmp_path / "s.db", "s")
    again = study.ask()  # the dead asker's trial comes back first, same id and config
    assert (again.trial_id, again.config, again.attempt) == (trial_id, config, 2)
    study.tell(again, loss(again.config))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]


def test_a_live_askers_trial_is_not_taken_over_by_another_study_object(tmp_path: Path) -> None:
    first = create(tmp_path)
    trial = first.ask()
    second = Study.load(tmp_path / "s.db", "s")
    other = second.ask()
    assert other.trial_id == trial.trial_id + 1
    first.tell(trial, 0.1)
    second.tell(other, 0.2)
    assert [t.state for t in second.trials] == [TrialState.COMPLETE] * 2


def test_a_wrong_result_is_refused_and_the_trial_can_be_told_again(tmp_path: Path) -> None:
    study = create(tmp_path)
    trial = study.ask()
    with pytest.raises(MetricsError, match="lacks the optimised metric"):
        study.tell(trial, {"los": 1.0})
    assert study.trials[0].state == TrialState.RUNNING
    assert study.tell(trial, {"loss": 1.0}).final_metrics == {"loss": 1.0}


@pytest.mark.parametrize(
    ("trial", "result", "state", "message"),
    [
        (7, 1.0, None, "has no trial 7"),
        (-1, 1.0, None, "an int >= 0"),
        ("0", 1.0, None, "an int >= 0"),
        (0, None, None, "needs the objective's result"),
        (0, 1.0, TrialState.FAIL, "state=FAIL\\) takes no result"),
        (0, None, TrialState.COMPLETE, "needs the result"),
        (0, None, TrialState.WAITING, "takes the state COMPLETE, PRUNED, FAIL"),
        (0, None, 42, "takes the state"),
    ],
)
def test_bad_tells_say_what_to_give(
    tmp_path: Path, trial: Any, result: Any, state: Any, message: str
) -> None:
    study = create(tmp_path)
    study.ask()
    with pytest.raises(StudyError, match=message):
        study.tell(trial, result, state=state)
    assert study.trials[0].state == TrialState.RUNNING


def test_fail_and_pruned_tells(tmp_path: Path) -> None:
    study = create(tmp_path)
    failed = study.ask()
    pruned = study.ask()
    pruned.report(0, 0.7)
    assert study.tell(failed, state=TrialState.FAIL).error is not None
    record = study.tell(pruned.trial_id, state=TrialState.PRUNED)
    assert record.state == TrialState.PRUNED and record.final_metrics == {"loss": 0.7}
    assert record.intermediate == [(0, {"loss": 0.7})]


def test_an_asked_trial_reports_and_asks_the_pruner(tmp_path: Path) -> None:
    study = create(tmp_path, pruner="threshold", pruner_options={"upper": 0.5})
    trial = study.ask()
    trial.report(0, 0.9)
    trial.set_user_attr("who", "me")
    assert trial.should_prune()
    with pytest.raises(MetricsError, match="step"):
        trial.report(-1, 0.1)  # steps never decrease: the same error class as in optimize
    record = study.tell(trial, state=TrialState.PRUNED)
    assert record.user_attrs == {"who": "me"}
    assert record.intermediate == [(0, {"loss": 0.9})]


def test_enqueued_configs_are_asked_first(tmp_path: Path) -> None:
    study = create(tmp_path)
    study.enqueue({"x": 0.5, "y": 0.0})
    trial = study.ask()
    assert trial.config == {"x": 0.5, "y": 0.0}
    study.tell(trial, 0.09)
    assert study.trials[0].final_metrics == {"loss": 0.09}


def test_ask_on_a_used_up_grid_stops(tmp_path: Path) -> None:
    space = {"x": {"categorical_values": [1, 2]}}
    study = Study.create(tmp_path / "g.db", "g", "grid", space, {"loss": "min"},
                         sampler_options={"exhausted": "stop"})  # fmt: skip
    for _ in range(2):
        trial = study.ask()
        study.tell(trial, float(trial.config["x"]))
    with pytest.raises(StopIteration, match="no more configs"):
        study.ask()


def test_askers_sharing_a_study_stop_at_exactly_its_budget(tmp_path: Path) -> None:
    one = create(tmp_path)
    other = Study.load(tmp_path / "s.db", "s")  # a second worker on the same file
    asked = [one.ask(budget=5), other.ask(budget=5), one.ask(budget=5), other.ask(budget=5)]
    asked.append(one.ask(budget=5))
    for study in (one, other):  # five held, none finished: no sixth, for either worker
        with pytest.raises(StopIteration, match="holds its budget of 5 trials"):
            study.ask(budget=5)
    for trial in asked:
        one.tell(trial, loss(trial.config))
    with pytest.raises(StopIteration, match="holds its budget of 5"):
        other.ask(budget=5)
    assert [t.trial_id for t in one.trials] == [0, 1, 2, 3, 4]
    assert other.ask(budget=6).trial_id == 5  # a larger budget: one more
    with pytest.raises(StopIteration, match="holds its budget of 6"):
        other.ask()  # the budget given last still holds


def test_a_budget_still_hands_out_trials_to_run_again(tmp_path: Path) -> None:
    study = create(tmp_path)
    for _ in range(2):
        trial = study.ask(budget=3)
        study.tell(trial, loss(trial.config))
    study.enqueue({"x": 0.5, "y": 0.0})  # the third trial, waiting
    assert study.ask(budget=3).config == {"x": 0.5, "y": 0.0}
    with pytest.raises(StopIteration, match="holds its budget of 3"):
        study.ask(budget=3)


def test_ask_tell_and_optimize_share_a_study(tmp_path: Path) -> None:
    study = create(tmp_path, "tpe")
    for _ in range(3):
        trial = study.ask()
        study.tell(trial, loss(trial.config))
    study.optimize(loss, n_trials=6)
    trial = study.ask()
    assert trial.trial_id == 6
    study.tell(trial, loss(trial.config))
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE] * 7
    assert hposampler.Study.load(tmp_path / "s.db", "s").best_trial.trial_id in range(7)


def test_a_live_askers_trial_on_this_host_is_never_stale_however_old_its_heartbeat() -> None:
    import socket

    from hposampler.storage import TrialRecord
    from hposampler.study.ledger import is_stale

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        host = socket.gethostname()

        def record(token: str) -> TrialRecord:
            return TrialRecord(0, TrialState.RUNNING, {"x": 0.1}, started_at=0.0,
                               heartbeat_at=0.0, driver=f"{host}:{other.pid}:{token}")  # fmt: skip

        assert not is_stale(record("ask-1234abcd"), now=1e9)  # an asker: alive is enough
        assert is_stale(record("1234abcd"), now=1e9)  # a runner: its heartbeat must be fresh
    finally:
        other.kill()
        other.wait()
    assert is_stale(record("ask-1234abcd"), now=1e9)  # the asker is gone
