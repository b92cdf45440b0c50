"""JSON values and grid points: the definitions both the space model and its parameters use.

This is the bottom of :mod:`hposampler.space`; it imports nothing from the package.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator, Sequence
from typing import Any, overload

__all__ = [
    "LAZY_GRID_ABOVE",
    "MAX_LOG_INT_BINS",
    "LazyGrid",
    "grid_points",
    "json_equal",
    "json_key",
]

#: Grids with more points than this are computed point by point, never built.
LAZY_GRID_ABOVE = 10_000

#: Most ``n_bins`` of a log int range (its rounded points are only known by building them).
MAX_LOG_INT_BINS = 1_000_000


def json_key(value: Any) -> str:
    """A canonical JSON text of ``value`` (sorted keys), for hashing and comparing."""
    return json.dumps(value, sort_keys=True, allow_nan=True)


def json_equal(a: Any, b: Any) -> bool:
    """Compare two JSON values keeping their types (``1``, ``1.0`` and ``True`` differ)."""
    if type(a) is type(b) and isinstance(a, (str, int, float)) and not isinstance(a, bool):
        return bool(a == b)
    return json_key(a) == json_key(b)


@functools.lru_cache(maxsize=4096)
def grid_points(
    low: float, high: float, n: int, *, log: bool = False, integer: bool = False
) -> Sequence[Any]:
    """``n`` evenly spaced points from ``low`` to ``high`` (geometric when ``log``).

    End points are exact. With ``integer`` the points are rounded and duplicates
    removed, so an int grid may have fewer than ``n`` points. A grid of more than
    :data:`LAZY_GRID_ABOVE` points is a :class:`LazyGrid` (the same points,
    computed when asked for), else a tuple; a log int grid is always built (its
    rounded points are only known that way; the space model caps its ``n_bins`` at
    :data:`MAX_LOG_INT_BINS`).
    """
    if n > LAZY_GRID_ABOVE and low != high and not (integer and log):
        if integer and n - 1 >= high - low:  # steps of at most 1: every int in range
            return LazyGrid(low, high, int(high - low) + 1, integer=True)
        return LazyGrid(low, high, n, log=log, integer=integer)
    if n == 1 or low == high:
        points: list[float] = [float(low)]
    elif log:
        a, b = math.log(low), math.log(high)
        points = [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
        points[0], points[-1] = float(low), float(high)
    else:
        points = [low + (high - low) * i / (n - 1) for i in range(n)]
        points[0], points[-1] = float(low), float(high)
    if not integer:
        return tuple(points)
    out: list[int] = []
    for p in points:
        v = round(p)
        if not out or out[-1] != v:
            out.append(v)
    return tuple(out)


class LazyGrid(Sequence[Any]):
    """The points of :func:`grid_points` for a large grid, each computed when asked for.

    Point ``i`` is the same number the built grid has at ``i`` (the same formula);
    :meth:`index` finds a point by inverting it, so a grid of 10**12 points costs
    no memory and answers at once. Only linear ranges and log float ranges are
    lazy (a log int grid's rounded points are only known by building it).
    """

    __slots__ = ("_a", "_b", "high", "integer", "log", "low", "n")

    def __init__(
        self, low: float, high: float, n: int, *, log: bool = False, integer: bool = False
    ) -> None:
        self.low, self.high, self.n, self.log, self.integer = low, high, n, log, integer
        self._a, self._b = (math.log(low), math.log(high)) if log else (low, high)

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Any, ...]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self.n)))
        i = index + self.n if index < 0 else index
        if not 0 <= i < self.n:
            raise IndexError(f"grid index {index} out of range (0..{self.n - 1})")
        return self._point(i)

    def _point(self, i: int) -> Any:
        if i == 0 or i == self.n - 1:
            point = float(self.low if i == 0 else self.high)
        elif self.log:
            point = math.exp(self._a + (self._b - self._a) * i / (self.n - 1))
        else:
            point = self.low + (self.high - self.low) * i / (self.n - 1)
        return round(point) if self.integer else point

    def _position(self, value: float) -> int:
        """The index whose point is nearest ``value`` (clipped into the grid)."""
        if self.log:
            if value <= 0:
                return 0
            x = (math.log(value) - self._a) / (self._b - self._a)
        else:
            x = (value - self.low) / (self.high - self.low)
        return min(max(round(x * (self.n - 1)), 0), self.n - 1)

    def nearest(self, value: float) -> int:
        """The index of the point nearest ``value`` (a neighbour of the inverted one)."""
        guess = self._position(value)
        near = [i for i in (guess - 1, guess, guess + 1) if 0 <= i < self.n]
        return min(near, key=lambda i: abs(self._point(i) - value))

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        """The index of ``value`` (exactly a point); ``ValueError`` if it is none."""
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            i = self.nearest(value)
            if self._point(i) == value and start <= i < (self.n if stop is None else stop):
                return i
        raise ValueError(f"{value!r} is not a point of {self!r}")

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    def __iter__(self) -> Iterator[Any]:
        return (self._point(i) for i in range(self.n))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyGrid):
            return (self.low, self.high, self.n, self.log, self.integer) == (
                other.low, other.high, other.n, other.log, other.integer,
            )  # fmt: skip
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == self.n and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        kind = ("log " if self.log else "") + ("int" if self.integer else "float")
        return f"LazyGrid({self.low!r}..{self.high!r}, {self.n} {kind} points)"
