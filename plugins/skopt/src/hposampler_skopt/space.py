"""hposampler's compiled tree as a fixed-dimensional skopt space.

* float -> ``Real`` (log-uniform prior when ``log``), int -> ``Integer`` (log prior
  when ``log``);
* categorical, ``n_bins`` grid, ``subspaces`` choice -> ``Categorical`` over indices
  (so mixed-type values and floats survive exactly);
* every branch's parameters are dimensions; inactive ones are ignored when
  decoding; a parameter with a single value is fixed, not a dimension.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hposampler.tree import CategoricalParam, ChoiceParam, FloatParam, IntParam, Param, SpaceTree

__all__ = ["SkoptSpace"]


def _options(param: Param) -> tuple[Any, ...] | None:
    """Discrete values of a parameter (by index), or None for a continuous range."""
    if isinstance(param, ChoiceParam):
        return tuple(range(param.n_branches))
    if isinstance(param, CategoricalParam):
        return param.choices
    return param.grid()


class SkoptSpace:
    """Maps parameters to skopt dimensions and points back to parameters."""

    def __init__(self, tree: SpaceTree) -> None:
        from skopt.space import Categorical, Integer, Real

        self.tree = tree
        self.names: list[str] = []
        self.dimensions: list[Any] = []
        self.fixed: dict[str, Any] = {}
        self.values: dict[str, tuple[Any, ...] | None] = {}
        for name, param in tree.params.items():
            options = _options(param)
            self.values[name] = options
            if options is not None:
                if len(options) == 1:
                    self.fixed[name] = options[0]
                    continue
                dim: Any = Categorical(list(range(len(options))), name=name)
            elif isinstance(param, FloatParam):
                if param.low == param.high:
                    self.fixed[name] = param.low
                    continue
                prior = "log-uniform" if param.log else "uniform"
                dim = Real(param.low, param.high, prior=prior, name=name)
            else:
                assert isinstance(param, IntParam)
                if param.low == param.high:
                    self.fixed[name] = param.low
                    continue
                prior = "log-uniform" if param.log else "uniform"
                dim = Integer(param.low, param.high, prior=prior, name=name)
            self.names.append(name)
            self.dimensions.append(dim)

    def to_params(self, point: list[Any]) -> dict[str, Any]:
        """A skopt point -> parameter values by name (every dimension, active or not)."""
        params = dict(self.fixed)
        for name, value in zip(self.names, point):
            options = self.values[name]
            param = self.tree.params[name]
            if options is not None:
                params[name] = options[int(value)]
            elif isinstance(param, IntParam):
                params[name] = int(value)
            else:
                params[name] = float(value)
        return params

    def to_point(self, params: Mapping[str, Any]) -> list[Any]:
        """Active parameter values -> a JSON-friendly skopt point; inactive ones get a filler."""
        point: list[Any] = []
        for name, dim in zip(self.names, self.dimensions):
            options = self.values[name]
            param = self.tree.params[name]
            if name in params:
                value = params[name]
                if options is not None:
                    point.append(_index(param, value))
                elif isinstance(param, IntParam):
                    point.append(int(value))
                else:
                    point.append(float(value))
            elif options is not None:
                point.append(0)
            elif isinstance(param, IntParam):
                point.append(int(param.low))
            else:
                low, high = dim.low, dim.high
                point.append(math.sqrt(low * high) if param.log else (low + high) / 2)  # type: ignore[union-attr]
        return point

    def valid(self, point: Any) -> bool:
        """Whether ``point`` (e.g. read back from JSON) fits these dimensions."""
        if not isinstance(point, list) or len(point) != len(self.dimensions):
            return False
        try:
            return all(value in dim for value, dim in zip(point, self.dimensions))
        except (TypeError, ValueError):
            return False


def _index(param: Param, value: Any) -> int:
    index = param.index_of(value)
    if index is None:  # encoded configs only hold values of their parameters
        raise ValueError(f"{value!r} is not a value of {param.name}")
    return index
