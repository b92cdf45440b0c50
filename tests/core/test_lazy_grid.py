"""Huge ``n_bins`` never lists its grid (issue 39, D5): every backend samples at once."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hposampler import SearchSpaceError
from hposampler.space.tree import compile_space
from hposampler.space.values import LAZY_GRID_ABOVE, MAX_LOG_INT_BINS, LazyGrid, grid_points

HUGE = {
    "x": {"value_range": [0, 1], "n_bins": 10**12},
    "k": {"value_range": [0, 10**12], "value_type": "int", "n_bins": 10**12},
    "k2": {"value_range": [0, 10**12], "value_type": "int", "n_bins": 10**7},
    "lr": {"value_range": [1e-6, 1.0], "log": True, "n_bins": 10**9},
}


def _listed(low: float, high: float, n: int, log: bool, integer: bool) -> list[Any]:
    """The grid as a list, written out here from its definition (not from the library)."""
    if log:
        a, b = math.log(low), math.log(high)
        points = [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
    else:
        points = [low + (high - low) * i / (n - 1) for i in range(n)]
    points[0], points[-1] = float(low), float(high)
    if not integer:
        return points
    out: list[int] = []
    for p in points:
        if not out or out[-1] != round(p):
            out.append(round(p))
    return out


@settings(max_examples=30, deadline=None)
@given(
    low=st.integers(-(10**6), 10**6),
    width=st.integers(1, 3 * LAZY_GRID_ABOVE),
    extra=st.integers(1, LAZY_GRID_ABOVE),
    integer=st.booleans(),
)
def test_a_lazy_linear_grid_has_the_listed_points(
    low: int, width: int, extra: int, integer: bool
) -> None:
    n = LAZY_GRID_ABOVE + extra
    high = low + width
    grid = grid_points(low, high, n, integer=integer)
    assert isinstance(grid, LazyGrid)
    listed = _listed(low, high, n, False, integer)
    assert len(grid) == len(listed)
    for i in [0, 1, len(listed) // 3, len(listed) // 2, len(listed) - 2, len(listed) - 1]:
        assert grid[i] == listed[i] and type(grid[i]) is type(listed[i])
        assert grid.index(listed[i]) == i
    assert list(grid) == listed


@settings(max_examples=20, deadline=None)
@given(low=st.floats(1e-8, 1.0), ratio=st.floats(1.5, 1e9), extra=st.integers(1, 5000))
def test_a_lazy_log_grid_has_the_listed_points(low: float, ratio: float, extra: int) -> None:
    n = LAZY_GRID_ABOVE + extra
    grid = grid_points(low, low * ratio, n, log=True)
    listed = _listed(low, low * ratio, n, True, False)
    assert isinstance(grid, LazyGrid) and len(grid) == n
    assert list(grid) == listed
    for i in (0, 1, n // 2, n - 1):
        assert grid.nearest(listed[i]) == i


def test_a_huge_space_compiles_and_checks_values_without_listing() -> None:
    tree = compile_space({**HUGE, "y": {"value_range": [0, 1], "n_bins": 20_001}})
    y = tree.params["y"]
    assert isinstance(y.grid(), LazyGrid)
    assert y.contains(0.5) and y.index_of(0.5) == 10_000 and y.canonical(0.5 + 1e-15) == 0.5
    assert not y.contains(0.5 + 2.5e-5) and not y.contains(float("nan"))
    assert not y.contains(10**400) and not y.contains(2.0)
    k = tree.params["k"]
    assert k.contains(123_456_789_012) and k.index_of(123_456_789_012) == 123_456_789_012
    assert not k.contains(-1) and not k.contains(10**12 + 1)
    x = tree.params["x"]
    assert x.to_unit(x.from_unit(0.25)) == pytest.approx(0.25, abs=1e-9)
    assert tree.violation({"x": 1.0, "k": 10**12, "k2": 0, "lr": 1.0, "y": 0.0}) is None


def test_a_log_int_range_with_too_many_bins_is_one_clear_error() -> None:
    space = {"n": {"value_range": [1, 10**9], "value_type": "int", "log": True,
                   "n_bins": MAX_LOG_INT_BINS + 1}}  # fmt: skip
    with pytest.raises(SearchSpaceError, match="n_bins=1000001 on a log int range"):
        compile_space(space)
