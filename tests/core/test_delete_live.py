"""``hposampler delete`` never deletes a study under live workers (issue 39, D1)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from hposampler import Study, TrialState, delete_study
from hposampler.cli import main

TESTS = Path(__file__).resolve().parent.parent
SPACE = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}

#: How long ``delete --yes`` is hammered at the live workers (at least), and the fewest
#: attempts (a slow machine hammers for longer, it never has fewer).
HAMMER_SECONDS = 20.0
MIN_ATTEMPTS = 5

WORKER = """
import sys
from hposampler import Study
sys.path.insert(0, {tests!r})
Study.load({db!r}, "busy").optimize("support:tiny_sleep", 10**7, concurrency=1)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(TESTS)}


def test_delete_hammered_at_two_live_workers_never_goes_through(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    Study.create(db, "busy", "random", SPACE, {"loss": "min"}, seed=0)
    code = WORKER.format(tests=str(TESTS), db=str(db))
    log = (tmp_path / "workers.log").open("w")  # a pipe nobody reads could stall them
    workers = [
        subprocess.Popen([sys.executable, "-c", code], env=_env(), stderr=log) for _ in range(2)
    ]
    attempts, refusals = 0, 0
    try:
        while len(Study.load(db, "busy").records()) < 20:  # both workers are at it
            assert all(w.poll() is None for w in workers), "a worker ended early"
            time.sleep(0.05)
        before = len(Study.load(db, "busy").records())
        end = time.monotonic() + HAMMER_SECONDS
        while time.monotonic() < end or attempts < MIN_ATTEMPTS:
            result = subprocess.run(
                [sys.executable, "-m", "hposampler", "delete", "busy", "--storage", str(db),
                 "--yes"],
                env=_env(), capture_output=True, text=True, timeout=1800,
            )  # fmt: skip
            attempts += 1
            assert result.returncode == 2, result.stdout + result.stderr
            assert "live worker(s)" in result.stderr and "stop them first" in result.stderr
            assert "Traceback" not in result.stderr
            refusals += 1
        assert all(w.poll() is None for w in workers), "a worker ended while delete was hammered"
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=1800)
        log.close()
    assert attempts == refusals >= MIN_ATTEMPTS
    records = Study.load(db, "busy").records()
    assert len(records) > before  # the workers went on between the attempts
    assert {r.state for r in records} <= {TrialState.COMPLETE, TrialState.RUNNING}
    assert [r.trial_id for r in records] == list(range(len(records)))
    # the workers are gone (killed: their leases and RUNNING rows remain, their
    # processes do not): now the study goes
    done = CliRunner().invoke(main, ["delete", "busy", "--storage", str(db), "--yes"])
    assert done.exit_code == 0, done.output
    assert f"({len(records)} trials)" in done.output
    assert Study.create(db, "x", "random", SPACE, {"loss": "min"}).storage.study_names() == ["x"]


def test_a_worker_of_another_host_between_trials_holds_the_study(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    study = Study.create(db, "busy", "random", SPACE, {"loss": "min"}, seed=0)
    study.optimize(lambda c: c["x"], 3)
    study.storage.heartbeat("busy", "elsewhere:1:a", time.time())  # a lease, no RUNNING row
    refused = CliRunner().invoke(main, ["delete", "busy", "--storage", str(db), "--yes"])
    assert refused.exit_code == 2
    assert "1 live worker(s) (elsewhere:1:a); stop them first" in refused.output
    assert len(Study.load(db, "busy").records()) == 3
    study.storage.heartbeat("busy", "elsewhere:1:a", time.time() - 3600)  # it went silent
    assert delete_study(db, "busy") == 3
    assert Study.create(db, "busy", "random", SPACE, {"loss": "min"}).created


def test_optimize_holds_a_lease_while_it_runs_and_releases_it(tmp_path: Path) -> None:
    from hposampler.storage import SQLiteStorage

    db = tmp_path / "runs.db"
    study = Study.create(db, "s", "random", SPACE, {"loss": "min"}, seed=0)
    seen: list[dict[str, float | None]] = []

    class Refused(Exception):
        pass

    def peek(holders: object) -> None:
        seen.append(dict(holders))  # type: ignore[call-overload]
        raise Refused

    def objective(config: dict[str, float]) -> float:
        other = SQLiteStorage(db)  # another connection, as the CLI would open
        try:
            other.delete_study("s", check=peek)
        except Refused:
            pass
        finally:
            other.close()
        return config["x"]

    study.optimize(objective, 2)
    assert len(seen) == 2 and all(len(h) == 1 for h in seen)  # this worker, alive
    [driver] = seen[0]
    assert driver.split(":")[1] == str(os.getpid())
    finished: list[dict[str, float | None]] = []
    assert study.storage.delete_study("s", check=lambda h: finished.append(dict(h))) == 2
    assert finished == [{}]  # released when optimize returned
