"""Steering a study from outside its runs: enqueuing configs, copying and deleting a study."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping
from typing import Any

from hposampler.errors import StudyError
from hposampler.samplers.trial import TrialState
from hposampler.space.tree import SpaceTree
from hposampler.storage import Storage, TrialRecord
from hposampler.study import arguments
from hposampler.study.ledger import RunnerStudy, driver_alive
from hposampler.study.records import RecordReader

__all__ = ["complete_config", "copy_trials", "delete_study", "enqueue_trial"]


def _overlay(base: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``given``'s keys put over it, nested dicts merged key by key."""
    out = dict(base)
    for key, value in given.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _overlay(out[key], value)
        else:
            out[key] = value
    return out


def complete_config(tree: SpaceTree, config: Any, study: str) -> dict[str, Any]:
    """``config`` as a config of the space; keys left out are drawn uniformly at random.

    Raises
    ------
    StudyError
        For a config that is not (and cannot be completed into) a config of the
        space, naming the key and the reason.
    """
    if not isinstance(config, Mapping):
        raise StudyError(f"enqueue() takes a config dict, got {type(config).__name__}")
    full = dict(config)
    if tree.violation(full) is not None:
        drawn = tree.sample(lambda param: param.from_unit(random.random()))[1]
        full = _overlay(drawn, full)
    problem = tree.violation(full)
    if problem is not None:
        raise StudyError(
            f"study {study!r}: cannot enqueue {dict(config)!r}: {problem}; give a "
            "config of the study's search space (keys left out are drawn at random)"
        )
    return full


def copy_trials(
    records: list[TrialRecord],
    user_attrs: Mapping[str, Any],
    target: Storage,
    source: str,
    name: str,
) -> None:
    """Store a study's trials and user attributes as the study ``name`` of ``target``
    (created already); a copy cut off half way is deleted again.

    A trial RUNNING in the source (its worker is not in the copy) is WAITING in
    the copy, so the copy runs it again.

    Raises
    ------
    StudyError
        When another writer stored a trial in the copy meanwhile.
    """
    try:
        for record in records:
            if record.state == TrialState.RUNNING:
                record = record.evolve(state=TrialState.WAITING, driver=None,
                                       heartbeat_at=None)  # fmt: skip
            if not target.create_trial(name, record):
                raise StudyError(
                    f"copying study {source!r}: trial {record.trial_id} was written "
                    f"to the copy {name!r} by someone else; copy again"
                )
        for key, value in user_attrs.items():
            target.set_user_attr(name, key, value)
    except BaseException:
        target.delete_study(name)
        raise


#: Attempts at storing an enqueued trial when other workers keep taking the id first.
MAX_ENQUEUE_RACES = 100


def enqueue_trial(
    study: RunnerStudy, reader: RecordReader, config: dict[str, Any], user_attrs: dict[str, Any]
) -> int:
    """Store ``config`` WAITING under the next free id of ``study``; returns the id.

    ``reader`` (a :class:`~hposampler.study.records.RecordReader`) counts the
    stored rows, reading only the rows written since its last read.
    """
    for _ in range(MAX_ENQUEUE_RACES):  # another process may take the id first
        trial_id = len(reader.read())
        record = TrialRecord(trial_id, TrialState.WAITING, config, user_attrs=user_attrs)
        if study.storage.create_trial(study.name, record):
            return trial_id
    raise StudyError(  # pragma: no cover - a storage that never accepts a new id
        f"study {study.name!r}: could not store an enqueued trial in {study.storage.url}"
    )


def delete_study(storage: Storage | str | os.PathLike[str], name: str) -> int:
    """Delete a study and all its trials; returns the number of trials deleted.

    Refused while a worker of the study is alive: one whose lease (renewed at
    every heartbeat, between trials too) or RUNNING trial is fresh, or whose
    process still runs on this machine. The check runs in the transaction that
    deletes, so a worker cannot start its next trial in between.

    Parameters
    ----------
    storage : str or path-like or Storage
        Where the study is (as for :meth:`hposampler.Study.load`).
    name : str
        The study's name.

    Raises
    ------
    StudyError
        If there is no such study, or naming the live workers (stop them first).
    """
    from hposampler.storage import make_storage

    name = arguments.study_name(name)
    store = make_storage(storage)

    def refuse_live(holders: Mapping[str, float | None]) -> None:
        now = time.time()
        live = sorted(d for d, beat in holders.items() if driver_alive(d, beat, now))
        if live:
            shown = ", ".join(live[:5]) + (" ..." if len(live) > 5 else "")
            raise StudyError(
                f"study {name!r} in {store.url} has {len(live)} live worker(s) ({shown}); "
                "stop them first (Ctrl-C or kill), then delete it"
            )

    return store.delete_study(name, check=refuse_live)
