"""hposampler's space as a fixed-dimensional skopt space.

Built on :class:`hposampler.space.flat.FlatSpace` (every branch's parameters are
dimensions; inactive ones are ignored when decoding; single values are fixed):

* ``float`` -> ``Real`` (log-uniform prior when ``log``); ``int`` -> ``Integer``
  (log prior when ``log``);
* ``choice`` (categorical, branch) -> ``Categorical`` over indices, so
  mixed-type values survive exactly;
* ``ordinal`` (``values``, ``n_bins`` grid) -> ``Integer`` over indices, so the
  models see the order.

A skopt point is the flat point's values in dimension order: a JSON list stored
as the trial's internal state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hposampler.space.flat import Dimension, FlatSpace
from hposampler.space.tree import SpaceTree

__all__ = ["SkoptSpace"]


def _dimension(dim: Dimension) -> Any:
    from skopt.space import Categorical, Integer, Real

    if dim.kind == "ordinal":  # an index, ordered like the values
        return Integer(0, dim.size - 1, name=dim.name)
    if dim.discrete:
        return Categorical(list(range(dim.size)), name=dim.name)
    prior = "log-uniform" if dim.log else "uniform"
    kind = Integer if dim.kind == "int" else Real
    return kind(dim.low, dim.high, prior=prior, name=dim.name)


class SkoptSpace:
    """Maps parameters to skopt dimensions and points back to parameters."""

    def __init__(self, tree: SpaceTree) -> None:
        self.tree = tree
        self.flat = FlatSpace(tree)
        self.names = self.flat.names
        self.dimensions: list[Any] = [_dimension(d) for d in self.flat.dimensions]

    def to_params(self, point: list[Any]) -> dict[str, Any]:
        """A skopt point -> parameter values by name (every dimension, active or not)."""
        return self.flat.to_params(dict(zip(self.names, point)))

    def to_point(self, params: Mapping[str, Any]) -> list[Any]:
        """Active parameter values -> a JSON-friendly skopt point; inactive ones get a filler."""
        return list(self.flat.to_point(params).values())

    def valid(self, point: Any) -> bool:
        """Whether ``point`` (e.g. read back from JSON) fits these dimensions."""
        if not isinstance(point, list) or len(point) != len(self.names):
            return False
        return self.flat.valid(dict(zip(self.names, point)))
