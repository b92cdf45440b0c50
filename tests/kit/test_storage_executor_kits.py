"""The storage and executor kits pass the real ones and fail broken ones, naming the check."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

import pytest

from hposampler import TrialState
from hposampler.storage import SQLiteStorage, TrialRecord
from hposampler.study import ExecutorCapabilities
from hposampler.study.executors import ThreadExecutor
from hposampler.testing import STORAGE_CHECKS, check_executor, check_storage


def test_sqlite_passes_the_storage_kit_by_path_and_by_factory(tmp_path: Path) -> None:
    check_storage(tmp_path / "a.db")
    check_storage(f"sqlite:///{tmp_path / 'b.db'}")
    check_storage(lambda: SQLiteStorage(tmp_path / "c.db"))
    assert list(STORAGE_CHECKS) == [
        "studies", "trial_ids", "revisions", "claims", "round_trip", "delete", "leases"
    ]  # fmt: skip


class ReplacesRows(SQLiteStorage):
    """Overwrites a taken id instead of refusing it."""

    def create_trial(self, study: str, record: TrialRecord, limit: int | None = None) -> bool:
        if any(r.trial_id == record.trial_id for r in self.load_trials(study)):
            return bool(self.claim_trial(study, record, self.load_trials(study)[record.trial_id]))
        return super().create_trial(study, record, limit)


class ClaimsBlindly(SQLiteStorage):
    """A claim that does not compare: last writer wins."""

    def claim_trial(self, study: str, record: TrialRecord, expected: TrialRecord) -> bool:
        current = next(r for r in self.load_trials(study) if r.trial_id == record.trial_id)
        return super().claim_trial(study, record, current)


class LosesKeyOrder(SQLiteStorage):
    """Reads configs back with sorted keys."""

    def load_trials(self, study: str, after_revision: int | None = None) -> list[TrialRecord]:
        rows = super().load_trials(study, after_revision)
        return [r.evolve(config=dict(sorted(r.config.items()))) for r in rows]


class DeletesOnlyTrials(SQLiteStorage):
    """Deletes a study's trials but keeps the study."""

    def delete_study(self, name: str, check: Any = None) -> int:
        return int(self._db.execute("DELETE FROM trials WHERE study = ?", (name,)).rowcount)


class IgnoresLeases(SQLiteStorage):
    """Deletes without asking the check (no lease, no liveness)."""

    def delete_study(self, name: str, check: Any = None) -> int:
        return super().delete_study(name)


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        (ReplacesRows, r"\[trial_ids\] .*a taken id returned True"),
        (ClaimsBlindly, r"\[claims\] .*not compare-and-set"),
        (LosesKeyOrder, r"\[round_trip\] "),
        (DeletesOnlyTrials, r"\[delete\] .*the study is still there"),
        (IgnoresLeases, r"\[leases\] .*went on after its check raised"),
    ],
)
def test_broken_storages_fail_the_kit_naming_the_check(
    tmp_path: Path, storage: type[SQLiteStorage], message: str
) -> None:
    with pytest.raises(AssertionError, match=message):
        check_storage(lambda: storage(tmp_path / "s.db"))


def test_the_builtin_executors_pass_the_executor_kit() -> None:
    check_executor("thread")
    check_executor("process")


class WithoutCapabilities(concurrent.futures.ThreadPoolExecutor):
    """A thread pool that does not say what it can do."""


class SwallowsErrors(ThreadExecutor):
    """Turns every objective's error into a result of None."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        def safe() -> Any:
            outcome = fn(*args, **kwargs)
            return outcome if outcome.ok else type(outcome)(True, None, "", outcome.worker)

        return super().submit(safe)


class DropsReplies(ThreadExecutor):
    """Its channels never deliver a report (the objective's report raises)."""

    capabilities = ExecutorCapabilities(inline=True)

    def channels(self, hub: Any) -> Any:
        channels = super().channels(hub)

        class Lossy:
            def call(self, message: Any) -> Any:
                raise RuntimeError("report lost")

        channels.channel = Lossy()
        return channels


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda n: WithoutCapabilities(n), r"\[capabilities\] .*no ExecutorCapabilities"),
        (lambda n: SwallowsErrors(n), r"\[errors\] .*a raising objective ended in"),
        (lambda n: DropsReplies(n), r"\[channels\] .*reports \[\]"),
    ],
)
def test_broken_executors_fail_the_kit_naming_the_check(factory: Any, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_executor(factory)


def test_the_storage_kit_leaves_other_studies_alone(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "shared.db")
    storage.create_study("keep", {"sampler": "random", "search_space": {}})
    storage.create_trial("keep", TrialRecord(0, TrialState.COMPLETE, {}, [{"loss": 1.0}]))
    check_storage(tmp_path / "shared.db")
    assert storage.study_names() == ["keep"] and len(storage.load_trials("keep")) == 1
