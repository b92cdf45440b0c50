"""Real faults a study meets: a worker child killed under the process executor."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hposampler import Study, TrialState
from support import interruptible

SPACE = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}


def test_a_killed_worker_child_is_replaced_and_its_trial_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULT_DIR", str(tmp_path))
    study = Study.create(tmp_path / "s.db", "s", "random", SPACE, {"loss": "min"}, seed=0)
    study.optimize("support:dies_on_first_attempt", 6, concurrency=2, executor="process")
    records = study.records()
    assert [r.trial_id for r in records] == list(range(6))
    assert all(r.state == TrialState.COMPLETE for r in records)
    # each config killed its worker once and completed on a re-run; attempts count real runs
    assert len(list(tmp_path.glob("0.*"))) == 6
    assert all(r.attempts >= 2 for r in records)
    assert all(r.final_metrics == {"loss": r.config["x"] ** 2} for r in records)


def test_a_trial_that_always_kills_its_worker_fails_with_the_reason(tmp_path: Path) -> None:
    study = Study.create(tmp_path / "s.db", "s", "random", SPACE, {"loss": "min"}, seed=2)
    study.optimize("support:dies_for_small_x", 8, concurrency=2, executor="process")
    records = study.records()
    assert len(records) == 8 and not [r for r in records if r.state.is_pending]
    killers = [r for r in records if r.config["x"] < 0.3]
    assert killers, "seed 2 draws an x below 0.3"
    for record in killers:
        assert record.state == TrialState.FAIL
        assert record.error.startswith(f"WorkerDied: the worker process running trial "
                                       f"{record.trial_id} died")  # fmt: skip
    others = [r for r in records if r.config["x"] >= 0.3]
    assert all(r.state == TrialState.COMPLETE for r in others)


def test_a_killed_report_relay_is_replaced_and_its_trials_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import threading

    from hposampler.study.channels import ManagerChannels

    monkeypatch.setenv("FAULT_DIR", str(tmp_path))
    db = tmp_path / "s.db"
    Study.create(db, "s", "random", SPACE, {"loss": "min"}, seed=0).storage.close()
    run = threading.Thread(  # SQLite connections stay in the thread that opens them
        target=lambda: Study.load(db, "s").optimize(
            "support:reports_slowly", 8, concurrency=2, executor="process"
        )
    )
    run.start()
    deadline = time.monotonic() + 600  # a guard against a hang, not a speed limit
    while not (marks := list(tmp_path.glob("*.0"))):  # a trial reported once and waits
        assert time.monotonic() < deadline and run.is_alive(), "no trial reported"
        time.sleep(0.02)
    waiting = int(marks[0].stem)
    relays = [o for o in gc.get_objects() if isinstance(o, ManagerChannels) and o._manager]
    assert len(relays) == 1
    os.kill(relays[0]._manager._process.pid, signal.SIGKILL)  # the OOM killer's pick
    (tmp_path / "relay-killed").touch()  # the waiting trials report again, to a dead relay
    run.join(timeout=600)
    assert not run.is_alive()
    records = Study.load(db, "s").records()
    assert [r.trial_id for r in records] == list(range(8))
    assert all(r.state == TrialState.COMPLETE for r in records)
    assert all(r.final_metrics == {"loss": r.config["x"] / 2} for r in records)
    assert all(r.intermediate[-1][0] == 1 for r in records)
    assert records[waiting].attempts == 2, "the trial in flight when the relay died runs again"
    # one mark per attempt whose first report got through: every last attempt's did; a
    # trial whose first report was in the relay when it died was rerun without a mark
    marked = {r.trial_id: len(list(tmp_path.glob(f"{r.trial_id}.*"))) for r in records}
    assert all(1 <= marked[r.trial_id] <= r.attempts for r in records)
    assert sum(r.attempts for r in records) <= 8 + 2  # only the trials in flight then


def test_a_reply_to_a_request_whose_relay_died_is_dropped_not_raised() -> None:
    """The request is in the runner's hands when the relay dies: answering it must not
    break the runner, and the trial that asked gets ChannelLost (and is rerun)."""
    import threading

    from hposampler.study.channels import ChannelLost, Hub, ManagerChannels

    hub = Hub()
    channels = ManagerChannels(hub)
    channel = channels.for_trial(0)
    outcome: list[BaseException] = []

    def ask() -> None:
        try:
            channel.call(("user_attr", 0, "k", 1))
        except BaseException as exc:
            outcome.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    hub.wake.result(timeout=600)  # a guard against a hang, not a speed limit
    [(message, reply)] = hub.drain()
    assert message == ("user_attr", 0, "k", 1)
    process = channels._manager._process
    os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=600)
    reply(("ok", None))  # the relay is gone: dropped, not raised
    asker.join(timeout=600)
    assert len(outcome) == 1 and isinstance(outcome[0], ChannelLost)
    assert "relaying reports to the runner is gone" in str(outcome[0])
    channels.close()


def nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (10**400, "metric 'loss' is too large for a float"),
        ({"loss": 1.0, "extra": nested(3000)}, "extra 'extra' of the objective's result cannot"),
        ({"loss": 1.0, "extra": 10**5000}, "extra 'extra' of the objective's result cannot"),
        ({"loss": 1.0, "blob": "x" * (5 * 1024 * 1024)}, "extras are over 1048576 characters"),
    ],
    ids=["huge-metric", "deep-extra", "huge-int-extra", "5MiB-extra"],
)
def test_results_that_cannot_be_stored_fail_their_trial_with_one_line(
    tmp_path: Path, result: object, message: str
) -> None:
    from hposampler import MetricsError

    study = Study.create(tmp_path / "s.db", "s", "random", SPACE, {"loss": "min"}, seed=0)
    with pytest.raises(MetricsError, match=message) as info:
        study.optimize(lambda config: result, 3)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400
    [record] = study.records()  # the run stops at the bad result, nothing left RUNNING
    assert record.state == TrialState.FAIL and message in (record.error or "")


def _stored_study(tmp_path: Path) -> Path:
    db = tmp_path / "s.db"
    study = Study.create(db, "s", "random", SPACE, {"loss": "min"}, seed=0)
    study.optimize(lambda config: {"loss": config["x"], "notes": "n" * 3000}, 40)
    study.storage.close()
    return db


def _cli(*args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from hposampler.cli import main

    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_garbage_in_a_data_page_is_one_line_with_the_way_out(tmp_path: Path) -> None:
    db = _stored_study(tmp_path)
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(page, len(data), page):  # every page after the header page
        data[offset : offset + page] = b"\xde\xad" * (page // 2)
    db.write_bytes(bytes(data))
    for command in (["show", "s"], ["export", "s"]):
        code, output = _cli(*command, "--storage", str(db))
        assert code == 2 and "Traceback" not in output
        assert output.startswith("error: ") and len(output.strip().splitlines()) == 1
        assert "restore a backup" in output


@pytest.mark.parametrize(
    ("statement", "where"),
    [
        ("UPDATE schema_version SET version = 'x'", "table schema_version, column version"),
        (
            "UPDATE trials SET revision = 'abc' WHERE trial_id = 3",
            "table trials, column revision (study 's')",
        ),
    ],
)
def test_tampered_integer_columns_are_named(tmp_path: Path, statement: str, where: str) -> None:
    import sqlite3

    from hposampler.errors import StorageError

    db = _stored_study(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute(statement)
    with pytest.raises(StorageError) as info:  # what `hposampler run --resume` meets
        Study.load(db, "s").optimize(lambda config: config["x"], 41)
    assert where in str(info.value) and "not an integer" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("statement", "where"),
    [
        ("UPDATE trials SET config = '{}' WHERE trial_id = 7", "trial 7: column config"),
        ("UPDATE trials SET config = '{\"x\": 3.5}' WHERE trial_id = 7", "trial 7: column config"),
        ("UPDATE trials SET config = '{\"x\": \"big\"}' WHERE trial_id = 7", "trial 7: column config"),
        ("UPDATE trials SET config = '{\"x\": 0.5, \"y\": 1}' WHERE trial_id = 7",
         "trial 7: column config"),
        ("UPDATE trials SET attempts = -5 WHERE trial_id = 3", "trial 3: column attempts"),
        ("UPDATE trials SET finished_at = 9e999 WHERE trial_id = 3", "trial 3: column finished_at"),
        ("UPDATE trials SET trial_id = 1000 WHERE trial_id = 39", "trial 1000: column trial_id"),
        ("DELETE FROM trials WHERE trial_id = 12", "trial 13: column trial_id"),
    ],
)  # fmt: skip
def test_stored_rows_that_do_not_fit_the_study_are_refused(
    tmp_path: Path, statement: str, where: str
) -> None:
    from hposampler.errors import StorageError

    db = _stored_study(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute(statement)
    with pytest.raises(StorageError) as info:  # `run --resume` would continue from these rows
        Study.load(db, "s")
    message = str(info.value)
    assert message.startswith("study 's', ") and where in message and "\n" not in message
    code, output = _cli("show", "s", "--storage", str(db))
    assert code == 2 and "Traceback" not in output and where in output


def test_a_read_only_folder_says_read_only(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes through read-only permissions; run as a user to check")
    folder = tmp_path / "ro"
    folder.mkdir()
    db = _stored_study(folder)
    folder.chmod(0o555)
    try:
        with pytest.raises(Exception, match="is read-only"):
            Study.create(db, "t", "random", SPACE, {"loss": "min"})
    finally:
        folder.chmod(0o755)


def test_deleting_the_database_while_a_study_runs_is_detected(tmp_path: Path) -> None:
    from hposampler.errors import StorageError

    db = tmp_path / "s.db"
    study = Study.create(db, "s", "random", SPACE, {"loss": "min"}, seed=0)

    calls = []

    def objective(config: dict[str, float]) -> float:
        calls.append(1)
        if len(calls) == 5:
            for path in tmp_path.glob("s.db*"):  # the file and its WAL, as `rm` would
                path.unlink()
        return config["x"]

    with pytest.raises(StorageError, match=r"s\.db was deleted or replaced while the study ran"):
        study.optimize(objective, 50)
    assert len(calls) == 5  # stopped at the first commit after the deletion


def _driver_with_two_trials_in_workers(
    tmp_path: Path, **popen: Any
) -> tuple[subprocess.Popen[str], list[int]]:
    """``hposampler run`` of a process-executor study, once two objectives are running.

    Returns the driver and the pids of the workers running them (``support:sleeps``
    marks ``started-PID`` files in ``$FAULT_DIR``).
    """
    tests = Path(__file__).resolve().parents[1]
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "c"\nobjective = "support:sleeps"\ntrials = 4\nconcurrency = 2\n'
        'executor = "process"\nstorage = "c.db"\n[sampler]\nname = "random"\n'
        '[metrics]\nloss = "min"\n[search_space]\nx = {value_range = [0.0, 1.0]}\n'
    )
    env = {**os.environ, "PYTHONPATH": str(tests), "FAULT_DIR": str(tmp_path)}
    driver = subprocess.Popen(
        [sys.executable, "-m", "hposampler", "run", str(tmp_path / "study.toml")],
        env=env, text=True, preexec_fn=interruptible, **popen,
    )  # fmt: skip
    for _ in range(1500):  # until both objectives run (a guard, not a time limit)
        if len(list(tmp_path.glob("started-*"))) == 2:
            break
        time.sleep(0.2)
    return driver, [int(p.name.split("-")[1]) for p in tmp_path.glob("started-*")]


def test_ctrl_c_with_the_process_executor_is_one_clean_line(tmp_path: Path) -> None:
    proc, _ = _driver_with_two_trials_in_workers(
        tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in out
    assert "KeyboardInterrupt" not in err and "Traceback" not in err, err
    assert "leaked semaphore" not in err, err
    with sqlite3.connect(tmp_path / "c.db") as conn:
        states = [r[0] for r in conn.execute("SELECT state FROM trials")]
    assert states == [4, 4]  # WAITING: `--resume` re-runs them


def test_workers_of_a_killed_driver_exit(tmp_path: Path) -> None:
    driver, workers = _driver_with_two_trials_in_workers(
        tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        driver.send_signal(signal.SIGKILL)
        driver.wait()

        def alive(pid: int) -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            return True

        for _ in range(600):  # the objectives sleep 60 s: the workers must not wait for it
            if not any(alive(pid) for pid in workers):
                break
            time.sleep(0.1)
        assert workers and not [pid for pid in workers if alive(pid)]
    finally:
        driver.kill()


FILLS_THE_DISK = """
import json, os

def objective(config, trial):
    with open(os.environ["EVAL_LOG"], "a") as log:
        log.write(json.dumps([trial.trial_id, config]) + "\\n")
    if trial.trial_id == 12 and not os.path.exists(os.environ["FILLED"]):
        open(os.environ["FILLED"], "w").close()  # once: space freed stays free
        with open(os.environ["FILLER"], "wb") as filler:  # another program takes the space
            try:
                while True:
                    filler.write(bytes(65536))
                    filler.flush()
            except OSError:
                pass
    return {"loss": config["x"], "notes": "n" * 500}
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A real 16 MiB filesystem (tmpfs) mounted for the test, unmounted after."""
    import shutil

    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full filesystem needs a tmpfs mount: run as root (as CI does)")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()})")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_stops_the_run_with_one_line_and_loses_nothing(
    tmp_path: Path, small_disk: Path
) -> None:
    (tmp_path / "fill.py").write_text(FILLS_THE_DISK)
    db, filler, log = small_disk / "s.db", small_disk / "filler", tmp_path / "evals.log"
    study_file = tmp_path / "study.toml"
    study_file.write_text(
        f'[study]\nname = "s"\nobjective = "fill:objective"\ntrials = 40\nstorage = "{db}"\n'
        '[sampler]\nname = "random"\nseed = 0\n[metrics]\nloss = "min"\n'
        '[search_space]\nx = { value_range = [0, 1], value_type = "float" }\n'
    )
    env = {**os.environ, "EVAL_LOG": str(log), "FILLER": str(filler),
           "FILLED": str(tmp_path / "filled"), "PYTHONPATH": str(tmp_path)}  # fmt: skip

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hposampler", "run", str(study_file), *extra],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
        )  # fmt: skip

    first = run()
    assert first.returncode == 2, first.stderr
    assert "Traceback" not in first.stderr
    error = [line for line in first.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "no space left" in error[0] and "--resume" in error[0]
    before = {r.trial_id: r for r in Study.load(db, "s", read_only=True).records()}
    stored = [r for r in before.values() if r.state == TrialState.COMPLETE]
    assert 10 <= len(stored) < 40

    filler.unlink()  # space freed
    second = run("--resume")
    assert second.returncode == 0, second.stderr
    after = Study.load(db, "s", read_only=True).records()
    assert [r.trial_id for r in after] == list(range(len(after)))
    assert not [r for r in after if r.state == TrialState.RUNNING]
    assert sum(r.state == TrialState.COMPLETE for r in after) == 40
    for record in stored:  # nothing stored before the disk filled was lost or changed
        again = after[record.trial_id]
        assert (again.state, again.config, again.metrics) == (
            record.state, record.config, record.metrics
        )  # fmt: skip
    import json

    evaluated = {tid for tid, _ in map(json.loads, log.read_text().splitlines())}
    assert evaluated == set(range(len(after)))  # every trial ran; the lost write re-ran


def test_a_database_on_a_read_only_mount_says_read_only(small_disk: Path) -> None:
    db = _stored_study(small_disk)
    remounted = subprocess.run(
        ["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True, check=False
    )
    if remounted.returncode != 0:
        pytest.skip(f"cannot remount read-only here ({remounted.stderr.strip()})")
    code, output = _cli("show", "s", "--storage", str(db))  # reading still works
    assert code == 0 and "40 trials: 40 COMPLETE" in output
    from hposampler.errors import StorageError

    with pytest.raises(StorageError, match="is read-only") as info:  # what `run --resume` meets
        Study.load(db, "s").optimize(lambda config: config["x"], 41)
    assert "\n" not in str(info.value)
