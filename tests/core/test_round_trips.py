"""What one trial costs the storage, counted (never timed), and the exact total."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from hposampler import Study, TrialState
from hposampler.storage import SQLiteStorage, TrialRecord

SPACE = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}


def _kinds(statements: list[str]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for text in statements:
        words = text.split()
        kind = words[0].upper()
        if (
            kind == "UPDATE"
            and re.search(r"SET heartbeat_at = [^,]+,", text)
            and "state = 0" in text
        ):
            kind = "HEARTBEAT"
        if " leases " in f" {text} ":
            kind = "LEASE"
        kinds[kind] += 1
    return kinds


@pytest.mark.parametrize("pass_trial", [False, True])
def test_one_trial_is_three_statements_and_two_transactions(
    tmp_path: Path, pass_trial: bool
) -> None:
    storage = SQLiteStorage(tmp_path / "s.db")
    study = Study.create(storage, "s", "random", SPACE, {"loss": "min"}, seed=0)
    study.optimize(lambda c: c["x"], 10)  # past the first trials (which run on a thread)
    statements: list[str] = []
    storage._db.set_trace_callback(statements.append)  # every statement SQLite runs
    if pass_trial:
        study.optimize(lambda c, trial: c["x"], 60, heartbeat_interval=3600)
    else:
        study.optimize(lambda c: c["x"], 60, heartbeat_interval=3600)
    storage._db.set_trace_callback(None)
    kinds = _kinds(statements)
    # per trial: "did anyone else write?" (one indexed SELECT), the insert that reserves
    # the id and stores it RUNNING, the compare-and-set UPDATE that stores it COMPLETE;
    # each write is its own implicit transaction: no BEGIN, COMMIT or SAVEPOINT
    trial_statements = {k: v for k, v in kinds.items() if k in ("INSERT", "UPDATE")}
    assert trial_statements == {"INSERT": 50, "UPDATE": 50}
    assert not {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"} & set(kinds)
    # per call, not per trial: the worker's lease, taken with a heartbeat at the start
    # and dropped at the end (see ``hposampler delete``)
    assert (kinds["HEARTBEAT"], kinds["LEASE"]) == (1, 2)
    per_trial_selects = kinds["SELECT"] - _setup_selects(statements)
    assert per_trial_selects == 50, kinds
    records = study.records()
    assert [r.state for r in records] == [TrialState.COMPLETE] * 60


def _setup_selects(statements: list[str]) -> int:
    """SELECTs of one optimize() call's start (definition, rows), not of its trials."""
    return sum(1 for s in statements if s.startswith("SELECT") and not re.search(
        r"max\(revision\), coalesce\(sum\(driver IS NOT", s))  # fmt: skip


def test_a_reservation_past_the_total_is_refused_counting_every_workers_trials(
    tmp_path: Path,
) -> None:
    storage = SQLiteStorage(tmp_path / "s.db")
    Study.create(storage, "s", "random", SPACE, {"loss": "min"})
    running = TrialRecord(0, TrialState.RUNNING, {"x": 0.1}, attempts=1, driver="a:1:x")
    waiting = TrialRecord(1, TrialState.WAITING, {"x": 0.2})
    duplicate = TrialRecord(2, TrialState.PRUNED_DUPLICATE, {"x": 0.2})
    assert storage.create_trial("s", running, limit=3)
    assert storage.create_trial("s", waiting, limit=3)
    assert storage.create_trial("s", duplicate, limit=3)  # duplicates do not count
    third = TrialRecord(3, TrialState.RUNNING, {"x": 0.3}, attempts=1)
    assert storage.create_trial("s", third, limit=3)
    fourth = TrialRecord(4, TrialState.RUNNING, {"x": 0.4}, attempts=1)
    assert not storage.create_trial("s", fourth, limit=3)  # 3 counted: running, waiting, third
    assert storage.create_trial("s", fourth)  # no limit: stored
    assert [r.trial_id for r in storage.load_trials("s")] == [0, 1, 2, 3, 4]


def test_changes_tell_own_writes_from_other_workers(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "s.db")
    Study.create(storage, "s", "random", SPACE, {"loss": "min"})
    assert storage.changes("s", 0, "me") == (0, False)
    storage.create_trial("s", TrialRecord(0, TrialState.RUNNING, {"x": 0.1}, driver="me"))
    assert storage.changes("s", 0, "me") == (1, False)
    storage.create_trial("s", TrialRecord(1, TrialState.RUNNING, {"x": 0.2}, driver="you"))
    assert storage.changes("s", 1, "me") == (2, True)
    assert storage.changes("s", 2, "me") == (2, False)
    storage.create_trial("s", TrialRecord(2, TrialState.WAITING, {"x": 0.3}))  # enqueued
    assert storage.changes("s", 2, "me") == (3, True)
    assert [r.trial_id for r in storage.load_trials("s", after_revision=1)] == [1, 2]
