"""Compact per-trial tables keyed by dense trial ids (0, 1, 2, ...), for backends.

Trial ids are dense, so a table of one small value per trial is an array indexed
by id rather than a dict: a few bytes per trial instead of about a hundred. Ids
far beyond the table (a hand-made trial list) overflow into a dict. The contract
keeps its trial states in a :class:`StateTable`; a backend that maps trial ids to
its own numbers can use a :class:`DenseIntMap`.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

from hposampler.samplers.trial import TrialState

__all__ = ["DenseIntMap", "StateTable"]

_DENSE_LIMIT = 1 << 24  # ids below this live in the array (at most 16 M entries)
_MISSING = 255


class StateTable:
    """``trial id -> TrialState``, one byte per trial."""

    def __init__(self) -> None:
        self._dense = bytearray()
        self._sparse: dict[int, TrialState] = {}
        self._count = 0

    def __contains__(self, trial_id: object) -> bool:
        if isinstance(trial_id, int) and 0 <= trial_id < len(self._dense):
            return self._dense[trial_id] != _MISSING
        return trial_id in self._sparse

    def __getitem__(self, trial_id: int) -> TrialState:
        if 0 <= trial_id < len(self._dense) and self._dense[trial_id] != _MISSING:
            return TrialState(self._dense[trial_id])
        return self._sparse[trial_id]

    def get(self, trial_id: int, default: TrialState | None = None) -> TrialState | None:
        """The state of ``trial_id``, or ``default``."""
        try:
            return self[trial_id]
        except KeyError:
            return default

    def __setitem__(self, trial_id: int, state: TrialState) -> None:
        if trial_id not in self:
            self._count += 1
        if 0 <= trial_id < _DENSE_LIMIT:
            if trial_id >= len(self._dense):
                self._dense.extend(b"\xff" * (trial_id + 1 - len(self._dense)))
            self._dense[trial_id] = int(state)
        else:
            self._sparse[trial_id] = state

    def __delitem__(self, trial_id: int) -> None:
        if trial_id not in self:
            raise KeyError(trial_id)
        self._count -= 1
        if 0 <= trial_id < len(self._dense):
            self._dense[trial_id] = _MISSING
        else:
            del self._sparse[trial_id]

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        yield from (i for i, s in enumerate(self._dense) if s != _MISSING)
        yield from sorted(self._sparse)

    def items(self) -> Iterator[tuple[int, TrialState]]:
        """``(trial id, state)`` pairs in id order."""
        for trial_id in self:
            yield trial_id, self[trial_id]


class DenseIntMap:
    """``trial id -> int`` (e.g. a backend's own trial number), 8 bytes per trial."""

    def __init__(self) -> None:
        self._dense = array("q")
        self._sparse: dict[int, int] = {}

    def get(self, trial_id: int) -> int | None:
        """The value for ``trial_id``, or ``None``."""
        if 0 <= trial_id < len(self._dense):
            value = self._dense[trial_id]
            return None if value == -1 else value
        return self._sparse.get(trial_id)

    def __contains__(self, trial_id: int) -> bool:
        return self.get(trial_id) is not None

    def __setitem__(self, trial_id: int, value: int) -> None:
        if value < 0:
            raise ValueError("DenseIntMap holds non-negative ints")
        if 0 <= trial_id < _DENSE_LIMIT:
            if trial_id >= len(self._dense):
                self._dense.extend([-1] * (trial_id + 1 - len(self._dense)))
            self._dense[trial_id] = value
        else:
            self._sparse[trial_id] = value

    def pop(self, trial_id: int) -> int | None:
        """Remove and return the value for ``trial_id`` (``None`` if absent)."""
        value = self.get(trial_id)
        if 0 <= trial_id < len(self._dense):
            self._dense[trial_id] = -1
        else:
            self._sparse.pop(trial_id, None)
        return value
