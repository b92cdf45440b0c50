"""Several worker processes share one study: nothing lost, nothing run twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from hposampler import Study, TrialState
from hposampler.storage import TrialRecord
from hposampler.study.runner import is_stale
from workers import evaluations, running_by, study_file, wait_for, worker


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_three_workers_share_one_sqlite_study(tmp_path: Path, sampler: str) -> None:
    path = study_file(tmp_path, sampler, trials=45)
    log = tmp_path / "evals.log"
    procs = [worker(path, log) for _ in range(3)]  # created at once: a race on creation too
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    records = Study.load(tmp_path / "w.db", "shared").records()
    ids = [r.trial_id for r in records]
    evals = evaluations(log)
    assert ids == list(range(len(ids)))  # dense, none overwritten
    completed = [r for r in records if r.state == TrialState.COMPLETE]
    assert len(completed) == len(records) == 45  # the total, exactly: never overshot
    assert len(evals) == len(completed)  # every evaluation stored exactly once ...
    assert sorted(t for t, _, _ in evals) == [r.trial_id for r in completed]
    by_id = {r.trial_id: json.dumps(r.config, sort_keys=True) for r in records}
    assert all(by_id[t] == c for t, c, _ in evals)  # ... under the config that ran
    assert len({c for _, c, _ in evals}) == len(evals)  # no config ran twice
    assert len({pid for _, _, pid in evals}) >= 2  # the work really was shared
    with sqlite3.connect(tmp_path / "w.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_random_study_shared_by_workers_draws_the_single_process_stream(
    tmp_path: Path,
) -> None:
    path = study_file(tmp_path, "random", trials=20)
    log = tmp_path / "evals.log"
    procs = [worker(path, log) for _ in range(2)]
    assert all(p.wait(timeout=240) == 0 for p in procs)
    shared = [json.dumps(r.config, sort_keys=True)
              for r in Study.load(tmp_path / "w.db", "shared").records()]  # fmt: skip
    alone = tmp_path / "alone"
    alone.mkdir()
    subprocess.run(
        [sys.executable, "-m", "hposampler", "run", str(study_file(alone, "random", 20))],
        env={**os.environ, "EVAL_LOG": str(alone / "evals.log")}, check=True,
        capture_output=True, timeout=240,
    )  # fmt: skip
    single = [json.dumps(r.config, sort_keys=True)
              for r in Study.load(alone / "w.db", "shared").records()]  # fmt: skip
    # trial k gets the k-th draw of the seed's stream, whichever worker samples it
    assert shared[: len(single)] == single


def test_a_worker_killed_mid_trial_leaves_a_trial_a_survivor_reruns(tmp_path: Path) -> None:
    path = study_file(tmp_path, "random", trials=12)
    log = tmp_path / "evals.log"
    slow = worker(path, log, EVAL_SLEEP="120")
    wait_for(lambda: running_by(tmp_path / "w.db", slow.pid))
    [victim] = running_by(tmp_path / "w.db", slow.pid)
    survivor = worker(path, log, EVAL_SLEEP="0.1")
    wait_for(lambda: log.exists() and len(log.read_text().splitlines()) >= 3)
    os.kill(slow.pid, signal.SIGKILL)
    slow.wait(timeout=30)
    out = survivor.communicate(timeout=240)[0]
    assert survivor.returncode == 0, out
    records = {r.trial_id: r for r in Study.load(tmp_path / "w.db", "shared").records()}
    assert sorted(records) == list(range(len(records)))
    assert sum(r.state == TrialState.COMPLETE for r in records.values()) == 12
    rerun = records[victim]
    assert rerun.state == TrialState.COMPLETE and rerun.attempts == 2
    runs = Counter(t for t, _, _ in evaluations(log))
    assert runs[victim] == 2  # started by the killed worker, finished by the survivor
    assert all(n == 1 for t, n in runs.items() if t != victim)


def test_staleness_rules() -> None:
    now = time.time()
    base = TrialRecord(0, TrialState.RUNNING, {}, started_at=now, heartbeat_at=now)
    assert is_stale(base, now)  # no runner recorded (an older version's row)
    elsewhere = base.evolve(driver="other-host:123:abc")
    assert not is_stale(elsewhere, now)
    assert is_stale(elsewhere.evolve(heartbeat_at=now - 31), now, interval=5)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    assert is_stale(base.evolve(driver=f"{socket.gethostname()}:{dead.pid}:abc"), now)
    assert is_stale(base.evolve(driver=f"{socket.gethostname()}:{os.getpid()}:gone"), now)


def test_concurrent_creation_is_race_free(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        from hposampler import Study
        Study.create({str(tmp_path / "c.db")!r}, "s", "random",
                     {{"x": {{"value_range": [0, 1]}}}}, {{"loss": "min"}}, seed=0,
                     load_if_exists=True)
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
             for _ in range(6)]  # fmt: skip
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert Study.load(tmp_path / "c.db", "s").name == "s"


def test_a_schema_committed_between_two_reads_is_not_another_programs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers started together on a new file: one checked "no hposampler version" and
    # then listed the tables in a second read, by which time another worker had
    # committed the schema, and refused the file as another program's. Here the
    # other worker commits exactly between the two reads.
    import threading

    from hposampler.storage.sqlite import SQLiteStorage

    path = tmp_path / "race.db"
    real = SQLiteStorage._version_of
    other: list[threading.Thread] = []
    failures: list[BaseException] = []

    def open_other() -> None:
        try:
            SQLiteStorage(path).close()
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)

    def version_of(db: sqlite3.Connection) -> int | None:
        version = real(db)
        if version is None and not other:
            other.append(threading.Thread(target=open_other))
            other[0].start()
            other[0].join(timeout=2)  # the other worker creates the schema meanwhile
        return version

    monkeypatch.setattr(SQLiteStorage, "_version_of", staticmethod(version_of))
    SQLiteStorage(path).close()
    other[0].join(timeout=600)
    assert not failures, failures
    monkeypatch.undo()
    assert Study.create(path, "s", "random", {"x": {"value_range": [0, 1]}}, {"loss": "min"})


def test_a_worker_waiting_on_others_looks_at_the_pace_of_its_own_trials() -> None:
    from hposampler.study.runner import OTHERS_POLL, OTHERS_POLL_MIN, others_poll

    assert others_poll(None) == OTHERS_POLL  # no trial of its own yet
    assert others_poll(0.010) == 0.0025  # 10 ms trials: every 2.5 ms, not every 50 ms
    assert others_poll(0.0001) == OTHERS_POLL_MIN
    assert others_poll(600.0) == OTHERS_POLL
