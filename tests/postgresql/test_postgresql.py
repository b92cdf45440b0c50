"""The storage protocol on SQLite and on a real PostgreSQL server; studies and workers on it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hposampler import Study, TrialState
from hposampler.errors import StorageError, StudyError
from hposampler.storage import Storage, TrialRecord, make_storage
from hposampler.testing import check_storage
from pgserver import PgServer, create_database
from workers import evaluations, study_file, wait_for, worker

DEFINITION = {"sampler": "random", "search_space": {"x": {"value_range": [0, 1]}}}


@pytest.fixture(params=["sqlite", "postgresql"])
def open_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Storage]:
    """Opens connections to one fresh storage of either kind (call it again: a second worker)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 's.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return lambda: make_storage(url)


def record(tid: int, state: TrialState = TrialState.RUNNING, **kw: Any) -> TrialRecord:
    return TrialRecord(tid, state, {"x": tid / 10}, attempts=1, driver="h:1:a", **kw)


def test_both_storages_pass_the_storage_kit(open_storage: Callable[[], Storage]) -> None:
    # the contract every storage keeps (studies once, ids once, revisions, compare-and-set,
    # heartbeats, exact JSON, delete) lives in the kit, for third-party storages too
    check_storage(open_storage)


def test_the_kit_checks_a_shared_database_and_leaves_it_as_it_was(postgres_url: str) -> None:
    Study.create(postgres_url, "mine", "random", {"x": {"value_range": [0.0, 1.0]}},
                 {"loss": "min"})  # fmt: skip
    check_storage(postgres_url)
    assert make_storage(postgres_url).study_names() == ["mine"]


def test_json_round_trips_exactly_and_tampering_is_refused(postgres_url: str) -> None:
    storage = make_storage(postgres_url)
    storage.create_study("s", DEFINITION)
    config = {"b": [1, "1", 1.0, True, None], "a": {"z": 0.1 + 0.2}}
    storage.create_trial("s", TrialRecord(0, TrialState.COMPLETE, config, [{"loss": 1e-300}]))
    [back] = storage.load_trials("s")
    assert back.config == config and list(back.config) == ["b", "a"]
    assert back.metrics == [{"loss": 1e-300}]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE hposampler_trials SET config = %s", ("__import__('os')",))
    with pytest.raises(StorageError, match="trial 0: column config is not valid JSON"):
        storage.load_trials("s")


def test_unreachable_server_and_password_in_messages() -> None:
    with pytest.raises(
        StorageError, match=r"cannot connect to PostgreSQL at postgresql://u:\*\*\*@"
    ):
        make_storage("postgresql://u:secret@127.0.0.1:1/db")


def test_a_study_lives_on_the_server(postgres_url: str) -> None:
    space = {"x": {"value_range": [-5, 10]}, "y": {"value_range": [0, 15]}}
    study = Study.create(postgres_url, "branin", "tpe", space, {"loss": "min"}, seed=0)
    study.optimize("hposampler.problems:branin", 12, concurrency=2)
    again = Study.load(postgres_url, "branin")
    assert [r.state for r in again.records()] == [TrialState.COMPLETE] * 12
    assert again.best_trial.final_metrics == study.best_trial.final_metrics
    out = subprocess.run(
        [sys.executable, "-m", "hposampler", "show", "branin", "--storage", postgres_url],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert "12 trials: 12 COMPLETE" in out.stdout


def test_three_workers_share_one_postgresql_study(tmp_path: Path, postgres_url: str) -> None:
    path = study_file(tmp_path, "random", trials=30, storage=postgres_url)
    log = tmp_path / "evals.log"
    procs = [worker(path, log) for _ in range(3)]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    records = Study.load(postgres_url, "shared").records()
    assert [r.trial_id for r in records] == list(range(len(records)))
    completed = [r for r in records if r.state == TrialState.COMPLETE]
    evals = evaluations(log)
    assert len(completed) == len(records) == 30  # the total, exactly
    assert len(evals) == len(completed)
    assert len({c for _, c, _ in evals}) == len(evals)
    assert len({pid for _, _, pid in evals}) >= 2
    stored = {r.trial_id: json.dumps(r.config, sort_keys=True) for r in records}
    assert all(stored[t] == c for t, c, _ in evals)


def test_a_killed_worker_trial_is_rerun_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    import os
    import signal

    path = study_file(tmp_path, "random", trials=8, storage=postgres_url)
    log = tmp_path / "evals.log"
    slow = worker(path, log, EVAL_SLEEP="120")
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text()):
        assert time.monotonic() < deadline, "the slow worker never started a trial"
        time.sleep(0.05)
    survivor = worker(path, log, EVAL_SLEEP="0.05")
    os.kill(slow.pid, signal.SIGKILL)
    slow.wait(timeout=30)
    out = survivor.communicate(timeout=240)[0]
    assert survivor.returncode == 0, out
    records = Study.load(postgres_url, "shared").records()
    assert sum(r.state == TrialState.COMPLETE for r in records) == 8
    victim = evaluations(log)[0][0]
    assert next(r for r in records if r.trial_id == victim).attempts == 2


def test_reports_round_trip(open_storage: Callable[[], Storage]) -> None:
    storage = open_storage()
    storage.create_study("s", DEFINITION)
    reports = [(0, {"loss": 2.0}), (3, {"loss": float("inf")}), (3, {"loss": None})]
    storage.create_trial("s", record(0, intermediate=reports))
    [back] = open_storage().load_trials("s")
    assert back.intermediate == reports and back.last_step == 3


def test_a_sqlite_file_of_schema_2_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    storage = make_storage(path)
    storage.create_study("s", DEFINITION)
    storage.create_trial("s", record(0, TrialState.COMPLETE, metrics=[{"loss": 1.0}]))
    storage.close()
    with sqlite3.connect(path) as conn:  # as a release before pruning wrote it
        conn.execute("ALTER TABLE trials DROP COLUMN intermediate")
        conn.execute("ALTER TABLE trials DROP COLUMN user_attrs")
        conn.execute("ALTER TABLE studies DROP COLUMN user_attrs")
        conn.execute("UPDATE schema_version SET version = 2")
    upgraded = make_storage(path)
    [old] = upgraded.load_trials("s")
    assert old.intermediate == [] and old.metrics == [{"loss": 1.0}] and old.user_attrs == {}
    assert upgraded.user_attrs("s") == {}
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (4,)


def test_a_postgresql_database_of_schema_1_is_upgraded_in_place(postgres_url: str) -> None:
    storage = make_storage(postgres_url)
    storage.create_study("s", DEFINITION)
    storage.create_trial("s", record(0, TrialState.COMPLETE, metrics=[{"loss": 1.0}]))
    storage.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE hposampler_trials DROP COLUMN intermediate")
        conn.execute("ALTER TABLE hposampler_trials DROP COLUMN user_attrs")
        conn.execute("ALTER TABLE hposampler_studies DROP COLUMN user_attrs")
        conn.execute("UPDATE hposampler_schema SET version = 1")
    upgraded = make_storage(postgres_url)
    [old] = upgraded.load_trials("s")
    assert old.intermediate == [] and old.metrics == [{"loss": 1.0}] and old.user_attrs == {}
    assert upgraded.user_attrs("s") == {}
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM hposampler_schema").fetchone() == (3,)


def test_pruning_works_on_postgresql(postgres_url: str) -> None:
    study = Study.create(postgres_url, "p", "tpe", {"x": {"value_range": [0.0, 1.0]}},
                         {"loss": "min"}, seed=0, pruner="median",
                         pruner_options={"n_startup_trials": 2})  # fmt: skip
    study.optimize("support:curve", 10, concurrency=2)
    records = Study.load(postgres_url, "p").records()
    assert {r.state for r in records} == {TrialState.COMPLETE, TrialState.PRUNED_POOR_PERFORMANCE}
    assert all(r.intermediate and r.last_step == len(r.intermediate) - 1 for r in records)


def test_a_role_that_may_not_create_tables_gets_one_line_naming_the_grant(
    postgres_url: str,
) -> None:
    import uuid

    from click.testing import CliRunner

    from hposampler.cli import main

    role = f"r_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'REVOKE CREATE ON SCHEMA public FROM PUBLIC, "{role}"')
    base, _, database = postgres_url.rpartition("/")
    url = base.replace("://hposampler@", f"://{role}@") + "/" + database
    with pytest.raises(StorageError, match=r"may not create hposampler's tables") as info:
        make_storage(url)
    assert "GRANT CREATE ON SCHEMA public" in str(info.value) and "\n" not in str(info.value)
    result = CliRunner().invoke(main, ["show", "x", "--storage", url])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "may not create hposampler's tables" in result.output


def test_a_server_restart_mid_study_loses_nothing(tmp_path: Path, own_server: PgServer) -> None:
    url = create_database(own_server.url, "restart")
    path = study_file(tmp_path, "random", trials=60, storage=url)
    log, done = tmp_path / "evals.log", tmp_path / "done.log"
    procs = [worker(path, log, EVAL_SLEEP="0.1", EVAL_DONE_LOG=str(done)) for _ in range(3)]
    wait_for(lambda: done.exists() and len(done.read_text().splitlines()) >= 6, timeout=120)
    own_server.stop("fast")  # ends every session, as a restart or fail-over does
    time.sleep(3)
    own_server.start()
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    for output in outputs:  # each worker says what happened, in its own words only
        assert "lost the connection to PostgreSQL at" in output, output
        assert "reconnecting for up to 60 s" in output and "reconnected to PostgreSQL" in output
        assert "error ignored terminating" not in output
    records = Study.load(url, "shared").records()
    assert [r.trial_id for r in records] == list(range(len(records)))
    assert not [r for r in records if r.state == TrialState.RUNNING]
    completed = {
        (r.trial_id, json.dumps(r.config, sort_keys=True))
        for r in records
        if r.state == TrialState.COMPLETE
    }
    finished = {(tid, config) for tid, config, _ in evaluations(done)}
    assert len(completed) >= 60
    assert finished == completed  # every finished evaluation stored, nothing stored twice


def test_past_the_reconnect_wait_a_worker_stops_with_one_line(
    tmp_path: Path, own_server: PgServer
) -> None:
    url = create_database(own_server.url, "outage")
    storage = make_storage(url + "?reconnect_wait=1.5")
    storage.create_study("s", DEFINITION)
    own_server.stop("fast")
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        storage.load_trials("s")
    assert time.monotonic() - started >= 1.5
    message = str(caught.value)
    assert "lost the connection to PostgreSQL at" in message
    assert "within 1.5 s" in message and "--resume" in message and "reconnect_wait" in message
    own_server.start()
    assert storage.load_trials("s") == []  # the same object works again once the server is up


def test_a_bad_reconnect_wait_is_refused(postgres_url: str) -> None:
    with pytest.raises(StorageError, match=r"reconnect_wait='soon'.*finite number"):
        make_storage(postgres_url + "?reconnect_wait=soon")
    storage = make_storage(postgres_url + "?connect_timeout=5&reconnect_wait=0")
    assert storage.reconnect_wait == 0  # type: ignore[attr-defined]


def test_a_study_is_deleted_with_its_trials_only(open_storage: Callable[[], Storage]) -> None:
    storage = open_storage()
    for name in ("a", "b"):
        storage.create_study(name, DEFINITION)
        storage.create_trial(name, record(0))
    storage.delete_study("a")  # type: ignore[attr-defined]
    assert storage.study_names() == ["b"] and len(storage.load_trials("b")) == 1
    assert storage.load_trials("a") == []
    with pytest.raises(StudyError, match="no study 'a'"):
        storage.delete_study("a")  # type: ignore[attr-defined]
    storage.create_study("a", DEFINITION)  # the name is free again


def test_a_laptop_study_copied_to_postgresql_continues_there_with_two_workers(
    tmp_path: Path, postgres_url: str
) -> None:
    path = study_file(tmp_path, "tpe", trials=12)  # storage w.db beside the study file
    log = tmp_path / "evals.log"
    assert worker(path, log).wait(timeout=240) == 0
    laptop = Study.load(tmp_path / "w.db", "shared")
    laptop.set_user_attr("owner", "ana")
    before = laptop.records()
    out = subprocess.run(
        [sys.executable, "-m", "hposampler", "copy", "shared", "--from", str(tmp_path / "w.db"),
         "--to", postgres_url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    server = Study.load(postgres_url, "shared")
    assert server.records() == before and server.user_attrs == {"owner": "ana"}
    path.write_text(
        path.read_text().replace("trials = 12", "trials = 30").replace("w.db", postgres_url)
    )
    procs = [worker(path, log) for _ in range(2)]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    records = Study.load(postgres_url, "shared").records()
    assert [r.trial_id for r in records] == list(range(30))  # nothing lost or renumbered
    assert records[:12] == before
    assert all(r.state == TrialState.COMPLETE for r in records)
    evals = evaluations(log)
    assert len(evals) == 30 and len({pid for _, _, pid in evals[12:]}) == 2


def test_user_attributes_and_enqueued_trials_on_postgresql(postgres_url: str) -> None:
    study = Study.create(postgres_url, "steer", "tpe", {"x": {"value_range": [0.0, 1.0]}},
                         {"loss": "min"}, seed=0)  # fmt: skip
    study.set_user_attr("owner", "ana")
    study.set_user_attr("owner", "bo")
    study.set_user_attr("note", {"a": [1, 2.5]})
    assert study.enqueue({"x": 0.25}, user_attrs={"why": "baseline"}) == 0

    def objective(config: dict[str, Any], trial: Any) -> float:
        trial.set_user_attr("double", config["x"] * 2)
        return float(config["x"])

    study.optimize(objective, 5)
    again = Study.load(postgres_url, "steer")
    assert again.user_attrs == {"owner": "bo", "note": {"a": [1, 2.5]}}
    records = again.records()
    assert records[0].config == {"x": 0.25}
    assert records[0].user_attrs == {"why": "baseline", "double": 0.5}
    assert all(r.user_attrs["double"] == r.config["x"] * 2 for r in records)


def test_managing_studies_from_the_cli_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    from click.testing import CliRunner

    from hposampler.cli import main

    space = {"x": {"value_range": [0.0, 1.0]}}
    for name in ("keep", "drop"):
        Study.create(postgres_url, name, "random", space, {"loss": "min"}, seed=0).optimize(
            lambda config: float(config["x"]), 4
        )
    runner = CliRunner()
    listed = runner.invoke(main, ["studies", "--storage", postgres_url, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.output)}
    assert set(rows) == {"keep", "drop"} and rows["keep"]["states"] == {"COMPLETE": 4}
    queued = runner.invoke(main, ["enqueue", "keep", '{"x": 0.5}', "--storage", postgres_url])
    assert queued.exit_code == 0 and "enqueued trial 4" in queued.output, queued.output
    gone = runner.invoke(main, ["delete", "drop", "--storage", postgres_url, "--yes"])
    assert gone.exit_code == 0, gone.output
    copied = runner.invoke(main, ["copy", "keep", "--from", postgres_url,
                                  "--to", str(tmp_path / "laptop.db")])  # fmt: skip
    assert copied.exit_code == 0, copied.output
    laptop = Study.load(tmp_path / "laptop.db", "keep").records()
    assert laptop == Study.load(postgres_url, "keep").records()
    assert laptop[4].state == TrialState.WAITING and laptop[4].config == {"x": 0.5}
    assert make_storage(postgres_url).study_names() == ["keep"]
