"""Map hposampler's compiled parameters onto Optuna distributions and back.

Optuna stores a parameter's *internal* value (e.g. a categorical index); the
config holds the *external* value. :class:`Mapping` pairs the distribution with
both conversions.

* a grid of more than ``LAZY_GRID_ABOVE`` points (never listed): an
  ``IntDistribution`` over its indices (every int when an int grid is every int
  in range);
* float range -> ``FloatDistribution`` (``log`` kept); with ``n_bins`` (linear
  or log) and float ``values``: an ``IntDistribution`` over the points' indices
  (every point reachable, their order kept for TPE, CMA-ES and GP);
* int range -> ``IntDistribution``; with ``n_bins`` and int ``values``:
  ``step`` when the points are evenly spaced, else an ``IntDistribution`` over
  their indices (ordered, never a categorical);
* categorical -> ``CategoricalDistribution`` over the values when they are all
  None/bool/int/float/str, else over their indices;
* subspaces choice -> ``CategoricalDistribution`` over branch indices.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hposampler.space.tree import CategoricalParam, ChoiceParam, FloatParam, IntParam, Param
from hposampler.space.values import LazyGrid

__all__ = ["Mapping", "mapping_for", "suggest"]

_PRIMITIVE = (type(None), bool, int, float, str)


def _identity(value: Any) -> Any:
    return value


@attrs.frozen
class Mapping:
    """An Optuna distribution for a parameter, with value conversions."""

    distribution: BaseDistribution
    to_config: Callable[[Any], Any] = _identity  # optuna internal value -> config value
    to_optuna: Callable[[Any], Any] = _identity  # config value -> optuna internal value


def _grid_mapping(param: FloatParam | IntParam, grid: Sequence[Any]) -> Mapping:
    """A categorical over grid points; values come back as the parameter's exact points."""
    return Mapping(CategoricalDistribution(list(grid)), _identity, param.canonical)


def _index_mapping(param: FloatParam | IntParam, grid: Sequence[Any]) -> Mapping:
    """An ``IntDistribution`` over grid indices (ordinal, so TPE can interpolate)."""

    def to_optuna(value: Any) -> int:
        index = param.index_of(value)
        if index is None:
            raise ValueError(f"{value!r} is not a grid point of {param.name}")
        return index

    return Mapping(IntDistribution(0, len(grid) - 1), grid.__getitem__, to_optuna)


def mapping_for(param: Param) -> Mapping:
    """The :class:`Mapping` of one compiled parameter."""
    if isinstance(param, ChoiceParam):
        return Mapping(CategoricalDistribution(list(range(param.n_branches))))
    if isinstance(param, CategoricalParam):
        choices = list(param.choices)
        if all(isinstance(c, _PRIMITIVE) for c in choices) and _distinct_for_optuna(choices):
            return Mapping(CategoricalDistribution(choices))
        return Mapping(
            CategoricalDistribution(list(range(len(choices)))),
            choices.__getitem__,
            param.index,
        )
    grid = param.grid()
    if isinstance(grid, LazyGrid):  # too many points to list: an ordered index over them
        if isinstance(param, IntParam) and len(grid) == param.high - param.low + 1:
            return Mapping(IntDistribution(param.low, param.high))
        return _index_mapping(param, grid)
    if isinstance(param, FloatParam):
        if grid is None:
            return Mapping(FloatDistribution(param.low, param.high, log=param.log))
        if len(grid) < 2:
            return _grid_mapping(param, grid)
        # an ordered index over the points: Optuna's stepped FloatDistribution drops the
        # upper end when (high - low) / step rounds below the number of steps, and a
        # log grid or a table of values has no step at all
        return _index_mapping(param, grid)
    assert isinstance(param, IntParam)
    if grid is None:
        return Mapping(IntDistribution(param.low, param.high, log=param.log))
    steps = {int(b - a) for a, b in itertools.pairwise(grid)}
    if len(steps) == 1 and len(grid) > 1:
        return Mapping(IntDistribution(int(grid[0]), int(grid[-1]), step=steps.pop()))
    if len(grid) < 2:
        return _grid_mapping(param, grid)
    return _index_mapping(param, grid)  # uneven points: ordered by index


def _distinct_for_optuna(choices: list[Any]) -> bool:
    # Optuna compares choices with ==, so 1, 1.0 and True would collide
    return len(set(map(_eq_key, choices))) == len(choices)


def _eq_key(value: Any) -> Any:
    return ("num", value) if isinstance(value, (bool, int, float)) else (type(value), value)


def suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    """Ask ``trial`` for ``name`` through Optuna's public ``suggest_*`` API."""
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, list(dist.choices))
    raise TypeError(f"unsupported distribution {dist!r}")  # pragma: no cover
