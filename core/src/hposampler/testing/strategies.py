"""Hypothesis strategies for search spaces and configs (needs ``hypothesis``).

>>> from hypothesis import given
>>> from hposampler.testing.strategies import search_spaces
>>> @given(search_spaces())
... def test_parses(space):
...     parse_search_space(space)
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from hposampler.space.tree import (
    CategoricalParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    Param,
    SpaceTree,
)

__all__ = [
    "draw_params",
    "json_constants",
    "ordered_spaces",
    "range_spaces",
    "search_spaces",
    "space_dicts",
]

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6)


def json_constants() -> st.SearchStrategy[Any]:
    """Small JSON scalars: None, bools, ints, finite floats, short strings."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-100, 100),
        st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
        st.text(max_size=5),
    )


@st.composite
def range_spaces(draw: st.DrawFn, finite: bool = False) -> dict[str, Any]:
    """An ablator-style ``value_range`` dict (int or float, maybe log, maybe ``n_bins``)."""
    value_type = draw(st.sampled_from(["int", "float"]))
    log = draw(st.booleans())
    low: float
    high: float
    if value_type == "int":
        low = draw(st.integers(1 if log else -50, 50))
        high = draw(st.integers(low, low + draw(st.sampled_from([0, 3, 100]))))
    else:
        low = draw(st.floats(1e-4 if log else -1e3, 1e3, allow_nan=False))
        high = draw(st.floats(low, low * 10 + 10 if log else low + 100, allow_nan=False))
        if not math.isfinite(high) or high < low:
            high = low
    space: dict[str, Any] = {"value_range": [low, high], "value_type": value_type}
    if log:
        space["log"] = True
    if finite or draw(st.booleans()):
        space["n_bins"] = draw(st.integers(1, 5))
    return space


def _categorical() -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(json_constants(), min_size=1, max_size=4, unique_by=_json_key).map(
        lambda values: {"categorical_values": values}
    )


def ordered_spaces() -> st.SearchStrategy[dict[str, Any]]:
    """An ordered ``values`` dict: 1 to 6 increasing ints or floats."""
    ints = st.lists(st.integers(-1000, 1000), min_size=1, max_size=6, unique=True)
    floats = st.lists(
        st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
        min_size=1,
        max_size=6,
        unique=True,
    )
    return st.one_of(ints, floats).map(lambda values: {"values": sorted(values)})


def _json_key(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def space_dicts(depth: int = 2, finite: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """One ablator-style search-space dict, nested up to ``depth`` levels."""
    leaf = st.one_of(range_spaces(finite=finite), _categorical(), ordered_spaces())
    if depth <= 0:
        return leaf
    inner = space_dicts(depth - 1, finite)
    return st.one_of(
        leaf,
        st.lists(inner, min_size=1, max_size=3).map(lambda b: {"subspaces": b}),
        st.dictionaries(_names, st.one_of(inner, json_constants()), min_size=1, max_size=3).map(
            lambda d: {"sub_configuration": d}
        ),
    )


def search_spaces(
    depth: int = 2, finite: bool = False, max_params: int = 4
) -> st.SearchStrategy[dict[str, Any]]:
    """A whole search-space mapping ``{path: space dict | constant}``.

    Parameters
    ----------
    depth : int
        Maximum nesting of ``subspaces`` / ``sub_configuration``.
    finite : bool
        Give every range ``n_bins`` (for grid samplers).
    max_params : int
        Maximum number of top-level keys.
    """
    value = st.one_of(space_dicts(depth, finite), space_dicts(depth, finite), json_constants())
    return st.dictionaries(_names, value, min_size=1, max_size=max_params).filter(
        lambda d: any(isinstance(v, dict) for v in d.values())
    )


def draw_params(draw: st.DrawFn, tree: SpaceTree) -> tuple[dict[str, Any], dict[str, Any]]:
    """Draw values for the active parameters of ``tree``; return ``(params, config)``."""

    def suggest(param: Param) -> Any:
        if isinstance(param, ChoiceParam):
            return draw(st.integers(0, param.n_branches - 1))
        if isinstance(param, CategoricalParam):
            return draw(st.sampled_from(param.choices))
        grid = param.grid()
        if grid is not None:
            return draw(st.sampled_from(grid))
        if isinstance(param, IntParam):
            return draw(st.integers(param.low, param.high))
        assert isinstance(param, FloatParam)
        return draw(st.floats(param.low, param.high, allow_nan=False))

    return tree.sample(suggest)
