"""Pending trials for array-based backends: the constant liar.

A model-based backend asked for a trial while others have no result yet would
propose the same point again (its model has not changed). The constant liar
(Ginsbourger et al., 2010) tells a scratch copy of the model a made-up result
for every pending point before asking: the lowest, mean or highest value told so
far. :class:`ConstantLiar` keeps the pending points by trial id and computes that
value, so a backend only needs its model's copy-and-tell; the scikit-optimize
backend uses it.

>>> liar = ConstantLiar("cl_min")
>>> liar.add(0, [0.1, 0.2]); liar.add(1, [0.5, 0.5])
>>> liar.points()
[[0.1, 0.2], [0.5, 0.5]]
>>> liar.lie([3.0, 1.0, 2.0])          # the best (lowest) value told so far
1.0
>>> liar.discard(0); len(liar)
1
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from hposampler.errors import SamplerOptionsError

__all__ = ["STRATEGIES", "ConstantLiar"]

#: The strategies: the value told for pending points (of the values told so far).
STRATEGIES = ("cl_min", "cl_mean", "cl_max")


class ConstantLiar:
    """The points of pending trials and the lie to tell for them.

    Parameters
    ----------
    strategy : {"cl_min", "cl_mean", "cl_max"}
        Which value stands in for a pending result, of the finite values told so
        far (to a minimising model: ``cl_min`` is optimistic and spreads the pending
        points least, ``cl_max`` pessimistic and spreads them most).
    """

    def __init__(self, strategy: str = "cl_min") -> None:
        if strategy not in STRATEGIES:
            raise SamplerOptionsError(
                f"constant liar strategy {strategy!r} is not one of {', '.join(STRATEGIES)}"
            )
        self.strategy = strategy
        self._pending: dict[int, Any] = {}

    def add(self, trial_id: int, point: Any) -> None:
        """Trial ``trial_id`` is pending at ``point`` (sampled, or resumed RUNNING)."""
        self._pending[trial_id] = point

    def discard(self, trial_id: int) -> None:
        """Trial ``trial_id`` is no longer pending (finished, dropped); unknown ids are fine."""
        self._pending.pop(trial_id, None)

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, trial_id: object) -> bool:
        return trial_id in self._pending

    def points(self) -> list[Any]:
        """The pending points, by trial id."""
        return [self._pending[k] for k in sorted(self._pending)]

    def lie(self, told: Iterable[float]) -> float:
        """The value to tell for each pending point, from the values told so far
        (non-finite ones ignored); ``0.0`` before any."""
        values = [float(v) for v in told if math.isfinite(v)]
        if not values:
            return 0.0
        if self.strategy == "cl_min":
            return min(values)
        if self.strategy == "cl_max":
            return max(values)
        return sum(values) / len(values)
