"""The parameters and nodes of a compiled search space, and membership.

* :class:`FloatParam`, :class:`IntParam`, :class:`CategoricalParam` and
  :class:`ChoiceParam` are the tunable parameters (:data:`Param`): each is the one
  definition of its values, grid and unit-interval encoding.
* :class:`Leaf`, :class:`Constant`, :class:`Group` and :class:`Choice` are the
  nodes (:data:`Node`) a search space compiles into.
* :func:`node_contains` says whether a value could have been sampled from a node.

This module builds on :mod:`hposampler.space.values` only; the space model
(:mod:`hposampler.space.model`) compiles into these nodes and the tree
(:mod:`hposampler.space.tree`) walks them.
"""

from __future__ import annotations

import bisect
import copy
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs

from hposampler.space.values import LazyGrid, grid_points, json_equal

__all__ = [
    "CategoricalParam",
    "Choice",
    "ChoiceParam",
    "Constant",
    "FloatParam",
    "Group",
    "IntParam",
    "Leaf",
    "NoMatch",
    "Node",
    "Param",
    "copy_value",
    "encode",
    "encode_all",
    "node_contains",
]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: float) -> bool:
    """Whether a number is finite as a float (an int too large for one is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _grid_index(grid: Sequence[Any], value: Any) -> int | None:
    """The index of the grid point equal to ``value`` up to float round-off, if any."""
    if not _is_number(value) or not grid or not _finite(value):
        return None
    if isinstance(grid, LazyGrid):
        nearest = grid.nearest(value)
    else:
        position = bisect.bisect_left(grid, value)
        neighbours = [i for i in (position - 1, position) if 0 <= i < len(grid)]
        nearest = min(neighbours, key=lambda i: abs(grid[i] - value))
    if math.isclose(value, grid[nearest], rel_tol=1e-9, abs_tol=1e-12):
        return nearest
    return None


def _bin(u: float, n: int) -> int:
    """The bin of ``u`` in ``[0, 1]`` among ``n`` equal bins."""
    return min(max(int(u * n), 0), n - 1)


class _Discrete:
    """Shared by parameters with finitely many values (a grid, choices or branches)."""

    def grid(self) -> Sequence[Any] | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def index_of(self, value: Any) -> int | None:
        """The position of ``value`` among :meth:`grid`, or ``None`` if not a value."""
        raise NotImplementedError  # pragma: no cover - overridden

    def from_unit(self, u: float) -> Any:
        """The value of the bin ``u`` falls into (``u`` in ``[0, 1]``)."""
        grid = self.grid()
        assert grid is not None  # internal invariant: discrete params have a grid
        return grid[_bin(u, len(grid))]

    def to_unit(self, value: Any) -> float:
        """The centre of ``value``'s bin in ``[0, 1]``; ``ValueError`` if not a value."""
        grid = self.grid()
        index = self.index_of(value)
        if grid is None or index is None:
            raise ValueError(f"{value!r} is not a value of {getattr(self, 'name', '?')}")
        return (index + 0.5) / len(grid)


@attrs.frozen
class FloatParam:
    """A float in ``[low, high]``; log-uniform when ``log``; only the ordered ``points``
    (a ``values`` space) or ``n_bins`` grid points when either is set.

    Every backend asks the parameter itself whether a value belongs to it
    (:meth:`contains`), which grid point it is (:meth:`index_of`, tolerant to
    float round-off), what it is as stored (:meth:`canonical`) and where it lies
    in the unit interval (:meth:`to_unit` / :meth:`from_unit`).
    """

    name: str
    low: float
    high: float
    log: bool = False
    n_bins: int | None = None
    points: tuple[float, ...] | None = None

    def grid(self) -> Sequence[float] | None:
        """The ordered points (``values``, or ``n_bins`` by linspace, geomspace when
        ``log``), or ``None`` if continuous."""
        if self.points is not None:
            return self.points
        if self.n_bins is None:
            return None
        return grid_points(self.low, self.high, self.n_bins, log=self.log)

    def index_of(self, value: Any) -> int | None:
        """The grid point ``value`` is (up to round-off), or ``None``."""
        grid = self.grid()
        return None if grid is None else _grid_index(grid, value)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a number in range (and on the grid, when there is one)."""
        if not _is_number(value):
            return False
        if self.n_bins is not None or self.points is not None:
            return self.index_of(value) is not None
        tol = 1e-9 * max(1.0, abs(self.low), abs(self.high))
        return bool(self.low - tol <= value <= self.high + tol)

    def canonical(self, value: Any) -> float:
        """``value`` as stored: the exact grid point, or a float clipped into range.

        Raises
        ------
        ValueError
            If ``value`` is not in the parameter.
        """
        if not self.contains(value):
            raise ValueError(f"{value!r} is not in {self.name}")
        grid = self.grid()
        if grid is not None:
            return grid[self.index_of(value) or 0]
        return min(max(float(value), self.low), self.high)

    def from_unit(self, u: float) -> float:
        """The value at ``u`` in ``[0, 1]`` (log scale when ``log``; a bin on a grid)."""
        grid = self.grid()
        if grid is not None:
            return grid[_bin(u, len(grid))]
        if self.log:
            low, high = math.log(self.low), math.log(self.high)
            return min(max(math.exp(low + u * (high - low)), self.low), self.high)
        return min(max(self.low + u * (self.high - self.low), self.low), self.high)

    def to_unit(self, value: Any) -> float:
        """Inverse of :meth:`from_unit` (a grid point maps to its bin's centre)."""
        grid = self.grid()
        if grid is not None:
            index = self.index_of(value)
            if index is None:
                raise ValueError(f"{value!r} is not a grid point of {self.name}")
            return (index + 0.5) / len(grid)
        if self.high == self.low:
            return 0.5
        if self.log:
            return (math.log(value) - math.log(self.low)) / (
                math.log(self.high) - math.log(self.low)
            )
        return (float(value) - self.low) / (self.high - self.low)


@attrs.frozen
class IntParam(_Discrete):
    """An int in ``[low, high]``; log-uniform when ``log``; only the ordered ``points``
    (a ``values`` space) or ``n_bins`` grid points when either is set."""

    name: str
    low: int
    high: int
    log: bool = False
    n_bins: int | None = None
    points: tuple[int, ...] | None = None

    def grid(self) -> Sequence[int] | None:
        """The ordered points (``values``, or ``n_bins`` distinct rounded grid points),
        or ``None`` if every int in range is allowed."""
        if self.points is not None:
            return self.points
        if self.n_bins is None:
            return None
        return grid_points(self.low, self.high, self.n_bins, log=self.log, integer=True)

    def index_of(self, value: Any) -> int | None:
        """The position of ``value`` on the grid (every int when there is none), or ``None``."""
        if not self.contains(value):
            return None
        grid = self.grid()
        return int(value) - self.low if grid is None else grid.index(value)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is an int in range (and on the grid, when there is one)."""
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        if not self.low <= value <= self.high:
            return False
        grid = self.grid()
        return grid is None or _grid_index(grid, value) is not None

    def canonical(self, value: Any) -> int:
        """``value`` itself, checked; ``ValueError`` if not in the parameter."""
        if not self.contains(value):
            raise ValueError(f"{value!r} is not in {self.name}")
        return int(value)

    def from_unit(self, u: float) -> int:
        """The int at ``u`` in ``[0, 1]``: equal bins (log-spaced when ``log``)."""
        grid = self.grid()
        if grid is not None:
            return grid[_bin(u, len(grid))]
        if self.log:
            low, high = math.log(self.low), math.log(self.high + 1)
            return min(max(int(math.exp(low + u * (high - low))), self.low), self.high)
        return self.low + _bin(u, self.high - self.low + 1)

    def to_unit(self, value: Any) -> float:
        """The centre of ``value``'s bin; inverse of :meth:`from_unit`."""
        if not self.contains(value):
            raise ValueError(f"{value!r} is not in {self.name}")
        grid = self.grid()
        if grid is not None:
            return (grid.index(value) + 0.5) / len(grid)
        if self.log:
            low, high = math.log(self.low), math.log(self.high + 1)
            a, b = math.log(value), math.log(value + 1)
            return ((a + b) / 2 - low) / (high - low)
        return float(value - self.low + 0.5) / (self.high - self.low + 1)


@attrs.frozen
class CategoricalParam(_Discrete):
    """One of ``choices`` (JSON values, types kept)."""

    name: str
    choices: tuple[Any, ...]

    def grid(self) -> tuple[Any, ...]:
        """The choices."""
        return self.choices

    def index_of(self, value: Any) -> int | None:
        """Position of ``value`` among the choices (types compared too), or ``None``."""
        for i, c in enumerate(self.choices):
            if json_equal(value, c):
                return i
        return None

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one of the choices (types compared too)."""
        return self.index_of(value) is not None

    def index(self, value: Any) -> int:
        """Position of ``value`` among the choices; ``ValueError`` if absent."""
        i = self.index_of(value)
        if i is None:
            raise ValueError(f"{value!r} is not a choice of {self.name}")
        return i

    def canonical(self, value: Any) -> Any:
        """The stored choice equal to ``value``; ``ValueError`` if absent."""
        return self.choices[self.index(value)]


@attrs.frozen
class ChoiceParam(_Discrete):
    """Which branch of a ``subspaces`` node is active: an int in ``range(n_branches)``."""

    name: str
    n_branches: int

    def grid(self) -> tuple[int, ...]:
        """The branch indices."""
        return tuple(range(self.n_branches))

    def index_of(self, value: Any) -> int | None:
        """``value`` itself when it is a branch index, else ``None``."""
        return int(value) if self.contains(value) else None

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid branch index."""
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (0 <= value < self.n_branches)
        )

    def canonical(self, value: Any) -> int:
        """``value`` itself, checked."""
        if not self.contains(value):
            raise ValueError(f"{value!r} is not a branch of {self.name}")
        return int(value)


#: A tunable parameter of the tree.
Param = FloatParam | IntParam | CategoricalParam | ChoiceParam


@attrs.frozen
class Leaf:
    """A node holding one tunable parameter."""

    param: FloatParam | IntParam | CategoricalParam


@attrs.frozen
class Constant:
    """A node whose value is copied into every config."""

    value: Any


@attrs.frozen
class Group:
    """A dict of named child nodes (``sub_configuration`` or a nested dict)."""

    items: tuple[tuple[str, Node], ...]


@attrs.frozen
class Choice:
    """The alternatives of ``subspaces``; ``param`` picks the active branch."""

    param: ChoiceParam
    branches: tuple[Node, ...]


#: A node of the compiled tree.
Node = Leaf | Constant | Group | Choice


class NoMatch(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def copy_value(value: Any) -> Any:
    """A config's own copy of a value: containers are copied, immutable scalars shared."""
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


def _outside(param: Param, value: Any) -> str:
    """Why ``value`` is not a value of ``param``, naming an int/float mix-up as such."""
    if isinstance(param, IntParam) and isinstance(value, float):
        inside = math.isfinite(value) and param.low <= round(value) <= param.high
        fix = (
            f"give int({value!r})"
            if inside and value == int(value)
            else (f"give an int from {param.low} to {param.high}")
        )
        return (
            f"value {value!r} is not in the search space: it is a float, and this is an int "
            f"parameter in [{param.low}, {param.high}] ({fix})"
        )
    if isinstance(param, FloatParam) and isinstance(value, str):
        return f"value {value!r} is not in the search space: text, for a float parameter"
    if isinstance(value, bool):
        return f"value {value!r} is not in the search space: a bool"
    if isinstance(param, (FloatParam, IntParam)) and isinstance(value, (int, float)):
        if param.low <= value <= param.high:
            return f"value {value!r} is not in the search space: not a point of its grid"
        return f"value {value!r} is not in the search space: outside [{param.low}, {param.high}]"
    return f"value {value!r} is not in the search space"


def encode(
    node: Node,
    value: Any,
    path: str,
    params: dict[str, Any],
    branches: Mapping[str, Any] = MappingProxyType({}),
) -> None:
    """Collect the parameters of ``value`` under ``node``; ``NoMatch`` if it is not in it.

    ``branches`` gives the branch to try first at a choice (by its parameter name).
    """
    if isinstance(node, Leaf):
        param = node.param
        if not param.contains(value):
            raise NoMatch(param.name, _outside(param, value))
        params[param.name] = param.canonical(value)
    elif isinstance(node, Constant):
        if not json_equal(value, node.value):
            raise NoMatch(path, f"value {value!r} differs from the constant {node.value!r}")
    elif isinstance(node, Group):
        if not isinstance(value, Mapping):
            raise NoMatch(path, f"expected a dict, got {value!r}")
        keys = [k for k, _ in node.items]
        if set(value) != set(keys):
            raise NoMatch(
                path or "<config>",
                f"keys {sorted(map(str, value))} differ from the search space's {sorted(keys)}",
            )
        for key, child in node.items:
            encode(child, value[key], f"{path}.{key}" if path else key, params, branches)
    else:
        last: NoMatch | None = None
        order = list(range(len(node.branches)))
        preferred = branches.get(node.param.name)
        if preferred in order:
            order.remove(preferred)
            order.insert(0, preferred)
        for index in order:
            attempt: dict[str, Any] = {}
            try:
                encode(node.branches[index], value, node.param.name, attempt, branches)
            except NoMatch as exc:
                last = exc
                continue
            params[node.param.name] = index
            params.update(attempt)
            return
        raise NoMatch(
            node.param.name,
            f"value {value!r} matches none of the subspaces"
            + (f" ({last.path}: {last.reason})" if last else ""),
        )


def encode_all(node: Node, value: Any, path: str, limit: int) -> list[dict[str, Any]]:
    """Every parameter set of ``value`` under ``node`` (``NoMatch`` if none), in
    :func:`_encode`'s order of preference, at most ``limit``."""
    if isinstance(node, Choice):
        out: list[dict[str, Any]] = []
        for index, branch in enumerate(node.branches):
            try:
                subs = encode_all(branch, value, node.param.name, limit)
            except NoMatch:
                continue
            out += [{node.param.name: index, **sub} for sub in subs]
        if not out:
            encode(node, value, path, {})  # raises the reason
        return out[:limit]
    one: dict[str, Any] = {}
    encode(node, value, path, one)  # validates the whole subtree
    if not isinstance(node, Group):
        return [one]
    results: list[dict[str, Any]] = [{}]
    for key, child in node.items:
        subs = encode_all(child, value[key], f"{path}.{key}" if path else key, limit)
        results = [{**r, **sub} for r in results for sub in subs][:limit]
    return results


def node_contains(node: Node, value: Any) -> bool:
    """Whether ``value`` could have been sampled from ``node``."""
    try:
        encode(node, value, "", {})
    except NoMatch:
        return False
    return True
