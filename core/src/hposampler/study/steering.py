"""Steering a study from outside its runs: enqueuing configs, copying a study."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from hposampler.errors import StudyError
from hposampler.samplers.trial import TrialState
from hposampler.space.tree import SpaceTree
from hposampler.storage import Storage, TrialRecord
from hposampler.study.ledger import RunnerStudy
from hposampler.study.records import RecordReader

__all__ = ["complete_config", "copy_trials", "enqueue_trial"]


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
