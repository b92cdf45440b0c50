"""A compiled space as flat, fixed dimensions: what array-based backends need.

Many optimisation libraries (nevergrad, hyperopt, scikit-optimize, ...) take a
fixed set of named dimensions, not a conditional tree. :class:`FlatSpace` gives
them one, so that a backend only maps each :class:`Dimension` to its library's
own type:

* every parameter of every branch is a dimension; a config leaves the
  parameters of the branches it did not take *inactive*: they are ignored when
  decoding and get a filler when encoding;
* a discrete parameter (categorical, ``subspaces`` choice, ``n_bins`` grid) is
  an index into its values, so mixed-type values and exact floats survive;
* a continuous float or int range is a number in ``[low, high]``;
* a parameter with a single value is fixed, not a dimension.

A *point* is ``{dimension name: index or number}``: plain JSON, so backends
store it as a trial's internal state and check it on load with :meth:`FlatSpace.valid`.

Examples
--------
>>> from hposampler.space.tree import compile_space
>>> flat = FlatSpace(compile_space({
...     "lr": {"value_range": [1e-4, 1e-1], "value_type": "float", "log": True},
...     "act": {"categorical_values": ["relu", "tanh"]},
... }))
>>> [(d.name, d.kind) for d in flat.dimensions]
[('lr', 'float'), ('act', 'choice')]
>>> flat.to_params({"lr": 0.01, "act": 1})
{'lr': 0.01, 'act': 'tanh'}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeGuard

import attrs

from hposampler.space.tree import (
    CategoricalParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    Param,
    SpaceTree,
)

__all__ = ["Dimension", "FlatSpace"]

Kind = Literal["choice", "ordinal", "float", "int"]


@attrs.frozen
class Dimension:
    """One free dimension of a :class:`FlatSpace`.

    Attributes
    ----------
    name : str
        The parameter's name in the compiled tree.
    kind : {"choice", "ordinal", "float", "int"}
        ``choice``: an index into unordered values (categorical, branch);
        ``ordinal``: an index into an ordered grid (``n_bins``); ``float`` and
        ``int``: a number in ``[low, high]``.
    size : int
        Number of values of a ``choice`` or ``ordinal`` dimension (else 0).
    low, high : float
        Bounds of a ``float`` or ``int`` dimension; ``0`` and ``size - 1`` for
        the index dimensions.
    log : bool
        Whether a ``float``/``int`` range is searched on a log scale.
    """

    name: str
    kind: Kind
    size: int = 0
    low: float = 0.0
    high: float = 0.0
    log: bool = False

    @property
    def discrete(self) -> bool:
        """Whether the value is an index (``choice`` or ``ordinal``)."""
        return self.kind in ("choice", "ordinal")


def _values(param: Param) -> Sequence[Any] | None:
    """A parameter's values by index, or ``None`` for a continuous range."""
    if isinstance(param, ChoiceParam):
        return tuple(range(param.n_branches))
    if isinstance(param, CategoricalParam):
        return param.choices
    return param.grid()


class FlatSpace:
    """The parameters of a compiled tree as flat dimensions (see the module doc).

    Parameters
    ----------
    tree : SpaceTree
        The compiled space (:attr:`hposampler.BaseSampler.tree`).

    Attributes
    ----------
    dimensions : list of Dimension
        The free dimensions, in the tree's parameter order.
    fixed : dict
        Parameters with a single value, by name.
    """

    def __init__(self, tree: SpaceTree) -> None:
        self.tree = tree
        self.fixed: dict[str, Any] = {}
        self.dimensions: list[Dimension] = []
        self._values: dict[str, Sequence[Any]] = {}
        for name, param in tree.params.items():
            values = _values(param)
            if values is not None:
                if len(values) == 1:
                    self.fixed[name] = values[0]
                    continue
                unordered = isinstance(param, (CategoricalParam, ChoiceParam))
                kind: Kind = "choice" if unordered else "ordinal"
                self._values[name] = values
                self.dimensions.append(Dimension(name, kind, len(values), 0, len(values) - 1))
                continue
            assert isinstance(param, (FloatParam, IntParam))  # the continuous ranges
            if param.low == param.high:
                self.fixed[name] = param.low
                continue
            kind = "int" if isinstance(param, IntParam) else "float"
            self.dimensions.append(Dimension(name, kind, 0, param.low, param.high, param.log))

    @property
    def names(self) -> list[str]:
        """The dimensions' names."""
        return [d.name for d in self.dimensions]

    def to_params(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """A point -> every parameter's value by name (active or not).

        Numbers are clipped into their range and ints rounded, so a backend may
        hand over its raw values.
        """
        params = dict(self.fixed)
        for dim in self.dimensions:
            raw = point[dim.name]
            if dim.discrete:
                params[dim.name] = self._values[dim.name][int(raw)]
            elif dim.kind == "int":
                params[dim.name] = int(min(max(round(float(raw)), dim.low), dim.high))
            else:
                params[dim.name] = min(max(float(raw), dim.low), dim.high)
        return params

    def to_point(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Active parameters' values -> a point; inactive dimensions get a filler.

        The filler is index 0, or the middle of the range (geometric when ``log``).
        """
        point: dict[str, Any] = {}
        for dim in self.dimensions:
            if dim.name not in params:
                middle = math.sqrt(dim.low * dim.high) if dim.log else (dim.low + dim.high) / 2
                raw: Any = 0 if dim.discrete else middle
            elif dim.discrete:
                raw = self.tree.params[dim.name].index_of(params[dim.name])
                if raw is None:  # encoded configs only hold values of their parameters
                    raise ValueError(f"{params[dim.name]!r} is not a value of {dim.name}")
            else:
                raw = params[dim.name]
            if dim.kind == "float":
                raw = float(raw)
            elif dim.kind == "int":
                raw = round(float(raw))
            point[dim.name] = raw
        return point

    def valid(self, point: Any) -> TypeGuard[dict[str, Any]]:
        """Whether ``point`` (e.g. read back from JSON) is a point of this space."""
        if not isinstance(point, dict) or set(point) != set(self.names):
            return False
        for dim in self.dimensions:
            raw = point[dim.name]
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                return False
            if dim.discrete and not isinstance(raw, int):
                return False
            if not dim.low <= raw <= dim.high:
                return False
        return True
