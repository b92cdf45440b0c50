"""JSON values and grid points: the definitions both the space model and its parameters use.

This is the bottom of :mod:`hposampler.space`; it imports nothing from the package.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

__all__ = ["grid_points", "json_equal", "json_key"]


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
) -> tuple[Any, ...]:
    """``n`` evenly spaced points from ``low`` to ``high`` (geometric when ``log``).

    End points are exact. With ``integer`` the points are rounded and duplicates
    removed, so an int grid may have fewer than ``n`` points.
    """
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
