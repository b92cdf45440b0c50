"""hposampler's space as a nevergrad ``Dict`` parametrization.

Built on :class:`hposampler.space.flat.FlatSpace` (every branch's parameters are
dimensions; inactive ones are ignored when decoding):

* ``float`` -> ``Scalar`` (``Log`` when ``log``); ``int`` -> the same with
  integer casting;
* ``choice`` (categorical, branch) -> ``Choice`` over indices; ``ordinal``
  (``values``, ``n_bins`` grid) -> ``TransitionChoice`` over indices, as its order means
  something.

A candidate's value is a flat point (plain ints and floats), stored as the
trial's internal state and rebuilt with ``spawn_child(new_value=...)``.
"""

from __future__ import annotations

from typing import Any

from hposampler.space.flat import Dimension, FlatSpace
from hposampler.space.tree import SpaceTree
from hposampler.space.values import LAZY_GRID_ABOVE

__all__ = ["PLACEHOLDER", "NevergradSpace"]

#: Entry standing in for an empty space (nevergrad needs one dimension).
PLACEHOLDER = "__hposampler_unused__"


def _entry(dim: Dimension) -> Any:
    import nevergrad as ng

    if dim.kind == "choice":
        return ng.p.Choice(list(range(dim.size)))
    if dim.kind == "ordinal" and dim.size > LAZY_GRID_ABOVE:  # too many to list: an index
        return ng.p.Scalar(lower=0, upper=dim.size - 1).set_integer_casting()
    if dim.kind == "ordinal":
        return ng.p.TransitionChoice(list(range(dim.size)))
    kind = ng.p.Log if dim.log else ng.p.Scalar
    entry = kind(lower=dim.low, upper=dim.high)
    return entry.set_integer_casting() if dim.kind == "int" else entry


class NevergradSpace(FlatSpace):
    """A :class:`~hposampler.space.flat.FlatSpace` with its nevergrad parametrization."""

    def __init__(self, tree: SpaceTree) -> None:
        import nevergrad as ng

        super().__init__(tree)
        entries = {dim.name: _entry(dim) for dim in self.dimensions}
        self.parametrization = ng.p.Dict(**(entries or {PLACEHOLDER: ng.p.Scalar()}))

    def value(self, params: dict[str, Any]) -> dict[str, Any]:
        """A candidate value for these parameters (what ``spawn_child`` takes)."""
        return self.to_point(params) if self.dimensions else {PLACEHOLDER: 0.0}
