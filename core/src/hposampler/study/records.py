"""Reading a study's stored trials: validated once each, then read incrementally.

A :class:`RecordReader` keeps the trials it has read and, on the next read,
loads only the rows written since (the storage's revision tells which), so a
study object's ``best_trial``, ``trials``, ``enqueue`` and ``to_records`` cost
one revision query when nothing changed, not a reload and validation of every
row.
"""

from __future__ import annotations

from collections.abc import Callable

from hposampler.errors import StorageError
from hposampler.space.tree import SpaceTree
from hposampler.storage import Storage, TrialRecord

__all__ = ["RecordReader"]

_DAMAGED = (
    "so the rows were edited or damaged; restore a backup, or export the good trials and "
    "start a new study"
)


class RecordReader:
    """The stored trials of one study, by id, validated against the study's space.

    Parameters
    ----------
    storage : Storage
        Where the study lives.
    name : str
        The study's name.
    tree : callable
        Returns the study's compiled search space (compiled on first need).
    """

    def __init__(self, storage: Storage, name: str, tree: Callable[[], SpaceTree]) -> None:
        self.storage = storage
        self.name = name
        self._tree = tree
        self._rows: list[TrialRecord] = []
        self._revision: int | None = None  # the revision the rows are complete up to

    def read(self) -> list[TrialRecord]:
        """Every stored trial, by id (the rows written since the last read are loaded).

        Raises
        ------
        StorageError
            Naming the study, the trial and the column of the first row that does
            not fit: ids must be 0, 1, 2, ... without a gap (as workers reserve
            them) and every config a config of the stored search space.
        """
        revision = self.storage.revision(self.name)  # before the rows: nothing is missed
        if self._revision is not None and revision == self._revision:
            return list(self._rows)
        if self._revision is None or revision < self._revision:  # first read, or recreated
            rows = self.storage.load_trials(self.name)
            self._rows = []
        else:
            rows = self.storage.load_trials(self.name, after_revision=self._revision)
        merged = list(self._rows)
        for record in rows:
            self._check(record, merged)
            if record.trial_id < len(merged):
                merged[record.trial_id] = record
            else:
                merged.append(record)
        self._rows = merged
        self._revision = revision
        return list(merged)

    def _check(self, record: TrialRecord, merged: list[TrialRecord]) -> None:
        if record.trial_id > len(merged) or record.trial_id < 0:
            raise StorageError(
                f"study {self.name!r}, trial {record.trial_id}: column trial_id does not "
                f"follow the ids before it (expected {len(merged)}; workers number trials "
                f"0, 1, 2, ... without gaps), {_DAMAGED}"
            )
        problem = self._tree().violation(record.config)
        if problem is not None:
            raise StorageError(
                f"study {self.name!r}, trial {record.trial_id}: column config is not a "
                f"config of the stored search space ({problem}), "
                + _DAMAGED.replace("rows were", "row was")
            )
