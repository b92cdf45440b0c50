"""hposampler's space as a flat hyperopt space (one label per dimension).

Built on :class:`hposampler.space.flat.FlatSpace` (every branch's parameters are
labels; inactive ones are ignored when decoding):

* ``float`` -> ``hp.uniform`` (``hp.loguniform`` when ``log``);
* ``int`` -> ``hp.uniformint`` (``hp.qloguniform`` with ``q=1`` when ``log``);
* ``choice`` (categorical, branch) -> ``hp.choice`` over indices;
* ``ordinal`` (``values``, ``n_bins`` grid) -> ``hp.uniformint`` over indices (a
  quantised index, so the order counts).

A trial's ``misc.vals`` read as ``{label: value}`` is a flat point: stored as the
trial's internal state and given back to hyperopt on resume.
"""

from __future__ import annotations

import math
from typing import Any

from hposampler.space.flat import Dimension, FlatSpace
from hposampler.space.tree import SpaceTree

__all__ = ["PLACEHOLDER", "HyperoptSpace"]

#: Label standing in for an empty space (hyperopt needs one).
PLACEHOLDER = "__hposampler_unused__"


def _label(dim: Dimension) -> Any:
    from hyperopt import hp

    if dim.kind == "ordinal":  # a quantised index, ordered like the values
        return hp.uniformint(dim.name, 0, dim.size - 1)
    if dim.discrete:
        return hp.choice(dim.name, list(range(dim.size)))
    if dim.kind == "float":
        if dim.log:
            return hp.loguniform(dim.name, math.log(dim.low), math.log(dim.high))
        return hp.uniform(dim.name, dim.low, dim.high)
    if dim.log:
        return hp.qloguniform(dim.name, math.log(dim.low), math.log(dim.high), 1)
    return hp.uniformint(dim.name, dim.low, dim.high)


class HyperoptSpace(FlatSpace):
    """A :class:`~hposampler.space.flat.FlatSpace` with its hyperopt space."""

    def __init__(self, tree: SpaceTree) -> None:
        from hyperopt import hp

        super().__init__(tree)
        self.space = {dim.name: _label(dim) for dim in self.dimensions}
        if not self.space:
            self.space = {PLACEHOLDER: hp.uniform(PLACEHOLDER, 0.0, 1.0)}

    def vals(self, params: dict[str, Any]) -> dict[str, Any]:
        """A point for these parameters, as hyperopt's labels take it."""
        return self.to_point(params) if self.dimensions else {PLACEHOLDER: 0.5}
