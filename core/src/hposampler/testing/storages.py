"""The conformance kit for storages: :func:`check_storage`.

A storage is the source of truth every worker shares, so its contract is about
what two connections see of each other's writes: a study is created once, a
trial id is reserved once and never replaced, a claim is a compare-and-set, a
revision counts every trial write so a worker can read only what changed, and
the stored JSON comes back exactly. :func:`check_storage` opens two connections
to the storage under test and checks all of that, on studies of its own (named
``kit-...``, deleted afterwards), and fails with an ``AssertionError`` naming the
check and what went wrong. SQLite and the PostgreSQL plugin pass it; a
third-party storage runs it from its own tests::

    from hposampler.testing import check_storage

    def test_my_storage(tmp_path):
        check_storage(lambda: MyStorage(tmp_path / "db"))
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from hposampler.errors import StudyError
from hposampler.samplers.trial import TrialState
from hposampler.storage import Storage, TrialRecord, make_storage

__all__ = ["STORAGE_CHECKS", "check_storage"]

#: A study definition as the runner stores one.
DEFINITION = {
    "sampler": "random",
    "search_space": {"x": {"value_range": [0, 1]}},
    "optim_metrics": {"loss": "min"},
}

Opener = Callable[[], Storage]


def _fail(check: str, url: str, what: str) -> None:
    raise AssertionError(f"[{check}] storage {url}: {what}")


def _expect(condition: bool, check: str, url: str, what: str) -> None:
    if not condition:
        _fail(check, url, what)


def _record(trial_id: int, state: TrialState = TrialState.RUNNING, **kw: Any) -> TrialRecord:
    return TrialRecord(trial_id, state, {"x": trial_id / 10}, attempts=1, driver="h:1:a", **kw)


@contextlib.contextmanager
def _study(open_storage: Opener) -> Iterator[tuple[Storage, Storage, str]]:
    """Two connections and a fresh study of the kit's own, deleted afterwards."""
    a, b = open_storage(), open_storage()
    name = f"kit-{uuid.uuid4().hex[:12]}"
    a.create_study(name, DEFINITION)
    try:
        yield a, b, name
    finally:
        with contextlib.suppress(StudyError):
            a.delete_study(name)
        for storage in (a, b):
            storage.close()


def check_studies(open_storage: Opener) -> None:
    """A study is created once, listed, read back; a missing one is a StudyError."""
    with _study(open_storage) as (a, b, name):
        url, check = a.url, "studies"
        try:
            b.create_study(name, DEFINITION)
        except StudyError:
            pass
        else:
            _fail(check, url, "a second create_study of one name was not refused (StudyError)")
        _expect(b.has_study(name), check, url, "has_study() is false for a stored study")
        _expect(name in b.study_names(), check, url, "study_names() lacks a stored study")
        _expect(b.load_definition(name) == DEFINITION, check, url, "the definition changed")
        b.update_definition(name, {**DEFINITION, "sampler": "tpe"})
        _expect(a.load_definition(name)["sampler"] == "tpe", check, url,
                "update_definition() was not seen by another connection")  # fmt: skip
        try:
            a.load_definition(f"{name}-missing")
        except StudyError:
            return
        _fail(check, url, "load_definition() of a missing study did not raise StudyError")


def check_trial_ids(open_storage: Opener) -> None:
    """An id is reserved once; a row is never replaced; the limit counts every worker's."""
    with _study(open_storage) as (a, b, name):
        url, check = a.url, "trial_ids"
        _expect(a.create_trial(name, _record(0)), check, url, "create_trial() of id 0 failed")
        taken = b.create_trial(name, _record(0).evolve(config={"x": 0.9}))
        _expect(not taken, check, url, "create_trial() of a taken id returned True")
        _expect(b.load_trials(name)[0].config == {"x": 0.0}, check, url,
                "a taken id's row was replaced")  # fmt: skip
        _expect(not b.create_trial(name, _record(1), limit=1), check, url,
                "create_trial(limit=1) stored a trial past the study's total")  # fmt: skip
        duplicate = _record(1, TrialState.PRUNED_DUPLICATE)
        _expect(a.create_trial(name, duplicate, limit=2), check, url,
                "create_trial(limit=2) refused a trial below the total")  # fmt: skip
        _expect(b.create_trial(name, _record(2), limit=2), check, url,
                "a PRUNED_DUPLICATE trial was counted towards the limit")  # fmt: skip
        _expect(not a.create_trial(name, _record(3), limit=2), check, url,
                "create_trial(limit=2) stored a third counted trial")  # fmt: skip


def check_revisions(open_storage: Opener) -> None:
    """Each trial write moves the revision on; a reader loads only what changed."""
    with _study(open_storage) as (a, b, name):
        url, check = a.url, "revisions"
        start = b.revision(name)
        a.create_trial(name, _record(0))
        a.create_trial(name, _record(1))
        seen = b.revision(name)
        _expect(seen > start, check, url, "writing trials did not move the revision on")
        done = _record(1, TrialState.COMPLETE, metrics=[{"loss": 0.5}])
        _expect(a.claim_trial(name, done, _record(1)), check, url, "claim_trial() failed")
        changed = b.load_trials(name, after_revision=seen)
        _expect([(r.trial_id, r.state) for r in changed] == [(1, TrialState.COMPLETE)], check,
                url, f"load_trials(after_revision) gave {changed!r}")  # fmt: skip
        revision, foreign = b.changes(name, seen, "h:9:z")
        _expect(revision > seen and foreign, check, url,
                "changes() did not report another driver's write")  # fmt: skip
        _expect(not b.changes(name, seen, "h:1:a")[1], check, url,
                "changes() reported a driver's own write as foreign")  # fmt: skip
        _expect(len(b.load_trials(name)) == 2, check, url, "load_trials() lost a trial")


def check_claims(open_storage: Opener) -> None:
    """Claims are compare-and-set; a heartbeat stamps only its driver's RUNNING trials."""
    with _study(open_storage) as (a, b, name):
        url, check = a.url, "claims"
        stored = _record(0, heartbeat_at=100.0)
        a.create_trial(name, stored)
        mine = stored.evolve(state=TrialState.WAITING, driver="h:2:b")
        theirs = stored.evolve(state=TrialState.WAITING, driver="h:3:c")
        _expect(b.claim_trial(name, mine, stored), check, url, "the first claim lost")
        _expect(not a.claim_trial(name, theirs, stored), check, url,
                "a claim against a changed row won (not compare-and-set)")  # fmt: skip
        _expect(a.load_trials(name)[0].driver == "h:2:b", check, url, "the winner was lost")
        b.heartbeat(name, "h:2:b", 200.0)
        _expect(a.load_trials(name)[0].heartbeat_at == 100.0, check, url,
                "heartbeat() stamped a trial that is not RUNNING")  # fmt: skip
        running = mine.evolve(state=TrialState.RUNNING)
        b.claim_trial(name, running, mine)
        b.heartbeat(name, "h:2:b", 200.0)
        _expect(a.load_trials(name)[0].heartbeat_at == 200.0, check, url,
                "heartbeat() missed its driver's RUNNING trial")  # fmt: skip


def check_round_trip(open_storage: Opener) -> None:
    """What is stored comes back exactly: key order, types, floats, reports, attributes."""
    with _study(open_storage) as (a, b, name):
        url, check = a.url, "round_trip"
        config = {"b": [1, "1", 1.0, True, None], "a": {"z": 0.1 + 0.2}}
        record = TrialRecord(
            0, TrialState.COMPLETE, config, [{"loss": 1e-300}, {"loss": None}],
            extra={"note": "é"}, internal={"k": [1, 2]}, error="Trace\nback", worker="h:1:t",
            attempts=2, started_at=1.5, finished_at=2.25, driver="h:1:a", heartbeat_at=2.0,
            intermediate=[(0, {"loss": 3.0}), (5, {"loss": None})], user_attrs={"u": {"v": 1}},
        )  # fmt: skip
        a.create_trial(name, record)
        [back] = b.load_trials(name)
        _expect(back == record, check, url, f"stored {record!r}, read back {back!r}")
        _expect(list(back.config) == ["b", "a"], check, url, "the config's key order changed")
        a.set_user_attr(name, "owner", ["me", 1])
        _expect(b.user_attrs(name) == {"owner": ["me", 1]}, check, url,
                "a study's user attribute did not come back")  # fmt: skip


def check_delete(open_storage: Opener) -> None:
    """delete_study() removes the study and its trials; a missing one is a StudyError."""
    a = open_storage()
    url, check = a.url, "delete"
    name = f"kit-{uuid.uuid4().hex[:12]}"
    try:
        a.create_study(name, DEFINITION)
        a.create_trial(name, _record(0))
        a.delete_study(name)
        _expect(not a.has_study(name), check, url, "the study is still there")
        a.create_study(name, DEFINITION)  # the name is free again, with no trial left over
        _expect(a.load_trials(name) == [], check, url, "the deleted study's trials remain")
        a.delete_study(name)
        try:
            a.delete_study(name)
        except StudyError:
            return
        _fail(check, url, "delete_study() of a missing study did not raise StudyError")
    finally:
        a.close()


class _Refused(Exception):
    """What the kit's delete check raises to refuse a deletion."""


def check_leases(open_storage: Opener) -> None:
    """heartbeat() renews a lease delete_study()'s check sees (from another connection,
    between trials too); a check that raises leaves everything in place; release()
    drops the lease; delete_study() returns the number of trials deleted."""
    with _study(open_storage) as (a, b, name):
        url, check = a.url, "leases"
        a.create_trial(name, _record(0, heartbeat_at=5.0))  # RUNNING under h:1:a
        a.heartbeat(name, "h:2:b", 10.0)  # a worker between trials: no RUNNING row
        a.heartbeat(name, "h:2:b", 20.0)
        seen: list[dict[str, float | None]] = []

        def refuse(holders: Any) -> None:
            seen.append(dict(holders))
            raise _Refused

        try:
            b.delete_study(name, check=refuse)
        except _Refused:
            pass
        else:
            _fail(check, url, "delete_study() went on after its check raised")
        _expect(b.has_study(name) and len(b.load_trials(name)) == 1, check, url,
                "a refused delete_study() deleted something")  # fmt: skip
        holders = seen[0] if seen else {}
        _expect(holders.get("h:2:b") == 20.0, check, url,
                f"the check did not see the renewed lease of h:2:b (saw {holders})")  # fmt: skip
        _expect(holders.get("h:1:a") == 5.0, check, url,
                f"the check missed the RUNNING trial's driver h:1:a (saw {holders})")  # fmt: skip
        a.release(name, "h:2:b")
        a.release(name, "h:9:none")  # no lease: no error
        seen.clear()
        deleted = b.delete_study(name, check=lambda holders: seen.append(dict(holders)))
        _expect(deleted == 1, check, url, f"delete_study() returned {deleted!r}, not 1 trial")
        _expect(seen == [{"h:1:a": 5.0}], check, url,
                f"a released lease was still seen: {seen}")  # fmt: skip


#: The checks by name, in the order :func:`check_storage` runs them.
STORAGE_CHECKS: dict[str, Callable[[Opener], None]] = {
    "studies": check_studies,
    "trial_ids": check_trial_ids,
    "revisions": check_revisions,
    "claims": check_claims,
    "round_trip": check_round_trip,
    "delete": check_delete,
    "leases": check_leases,
}


def check_storage(storage: str | os.PathLike[str] | Opener) -> None:
    """Check a storage against the :class:`~hposampler.storage.Storage` contract.

    Parameters
    ----------
    storage : str, path-like or callable
        A URL (or SQLite path) :func:`~hposampler.storage.make_storage` opens, or a
        callable returning a new connection to the same storage each time it is
        called (two are open at once, as two workers would be).

    Raises
    ------
    AssertionError
        ``[check] storage URL: what went wrong``, at the first failure.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> check_storage(pathlib.Path(tempfile.mkdtemp()) / "kit.db")
    """
    if callable(storage):
        open_storage: Opener = storage
    else:
        target = os.fspath(storage)

        def open_storage() -> Storage:
            return make_storage(target)

    for check in STORAGE_CHECKS.values():
        check(open_storage)
