"""The compiled parameter tree every backend shares.

:func:`compile_space` turns a search-space mapping into a tree of nodes:

* :class:`Leaf` holds one tunable :data:`Param` (a float or int range, or a
  categorical),
* :class:`Constant` holds a value copied into every config,
* :class:`Group` holds named children (a dict in the config),
* :class:`Choice` holds the alternatives of ``subspaces``; which branch is active
  is itself a parameter (a :class:`ChoiceParam`), so model-based backends learn it.

Every parameter has a stable, unique, readable name: its path in the search space,
e.g. ``train_config.optimizer_config.subspaces[1].lr``. Same name means same
distribution, across runs and across samplers.

Backends sample *define-by-run* with :meth:`SpaceTree.sample`, which asks a
callback for the value of each *active* parameter in a fixed order, and turn
stored parameters back into configs with :meth:`SpaceTree.decode`.
:meth:`SpaceTree.encode` is the inverse (used to resume from configs that another
sampler produced).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from .errors import SearchSpaceError
from .space import SearchSpace, json_equal, parse_search_space

__all__ = [
    "CategoricalParam",
    "Choice",
    "ChoiceParam",
    "Constant",
    "FloatParam",
    "Group",
    "IntParam",
    "Leaf",
    "Node",
    "Param",
    "SpaceTree",
    "compile_space",
]


@attrs.frozen
class FloatParam:
    """A float in ``[low, high]``; log-uniform when ``log``; ``n_bins`` grid points if set."""

    name: str
    low: float
    high: float
    log: bool = False
    n_bins: int | None = None

    def grid(self) -> tuple[float, ...] | None:
        """Grid points (linspace, or geomspace when ``log``), or ``None`` if continuous."""
        from .space import grid_points

        if self.n_bins is None:
            return None
        return grid_points(self.low, self.high, self.n_bins, log=self.log)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a number in range (and on the grid, when there is one)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        tol = 1e-9 * max(1.0, abs(self.low), abs(self.high))
        if not self.low - tol <= value <= self.high + tol:
            return False
        grid = self.grid()
        return grid is None or _grid_index(grid, value) is not None


@attrs.frozen
class IntParam:
    """An int in ``[low, high]``; log-uniform when ``log``; ``n_bins`` grid points if set."""

    name: str
    low: int
    high: int
    log: bool = False
    n_bins: int | None = None

    def grid(self) -> tuple[int, ...] | None:
        """Distinct rounded grid points, or ``None`` if every int in range is allowed."""
        from .space import grid_points

        if self.n_bins is None:
            return None
        return grid_points(self.low, self.high, self.n_bins, log=self.log, integer=True)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is an int in range (and on the grid, when there is one)."""
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        if not self.low <= value <= self.high:
            return False
        grid = self.grid()
        return grid is None or value in grid


@attrs.frozen
class CategoricalParam:
    """One of ``choices`` (JSON values, types kept)."""

    name: str
    choices: tuple[Any, ...]

    def grid(self) -> tuple[Any, ...]:
        """The choices."""
        return self.choices

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one of the choices (types compared too)."""
        return any(json_equal(value, c) for c in self.choices)

    def index(self, value: Any) -> int:
        """Position of ``value`` among the choices; ``ValueError`` if absent."""
        for i, c in enumerate(self.choices):
            if json_equal(value, c):
                return i
        raise ValueError(f"{value!r} is not a choice of {self.name}")


@attrs.frozen
class ChoiceParam:
    """Which branch of a ``subspaces`` node is active: an int in ``range(n_branches)``."""

    name: str
    n_branches: int

    def grid(self) -> tuple[int, ...]:
        """The branch indices."""
        return tuple(range(self.n_branches))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid branch index."""
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (0 <= value < self.n_branches)
        )


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


class _NoMatch(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def _grid_index(grid: tuple[Any, ...], value: Any) -> int | None:
    """The nearest grid point's index if ``value`` matches it up to round-off."""
    nearest = min(range(len(grid)), key=lambda i: abs(grid[i] - value))
    if math.isclose(value, grid[nearest], rel_tol=1e-9, abs_tol=1e-12):
        return nearest
    return None


def _compile_value(value: Any, path: str) -> Node:
    if isinstance(value, SearchSpace):
        return _compile_space(value, path)
    if isinstance(value, dict):
        return Group(tuple((k, _compile_value(v, f"{path}.{k}")) for k, v in value.items()))
    return Constant(value)


def _compile_space(space: SearchSpace, path: str) -> Node:
    if space.value_range is not None:
        low, high = space.value_range
        if space.value_type == "int":
            return Leaf(IntParam(path, int(low), int(high), space.log, space.n_bins))
        return Leaf(FloatParam(path, float(low), float(high), space.log, space.n_bins))
    if space.categorical_values is not None:
        return Leaf(CategoricalParam(path, tuple(space.categorical_values)))
    if space.subspaces is not None:
        branches = tuple(
            _compile_space(b, f"{path}.subspaces[{i}]") for i, b in enumerate(space.subspaces)
        )
        return Choice(ChoiceParam(path, len(branches)), branches)
    return _compile_value(space.sub_configuration, path)


def _node_size(node: Node) -> int | None:
    if isinstance(node, Leaf):
        grid = node.param.grid()
        return None if grid is None else len(grid)
    if isinstance(node, Constant):
        return 1
    if isinstance(node, Group):
        total = 1
        for _, child in node.items:
            size = _node_size(child)
            if size is None:
                return None
            total *= size
        return total
    sizes = [_node_size(b) for b in node.branches]
    if any(s is None for s in sizes):
        return None
    return sum(s for s in sizes if s is not None)


class SpaceTree:
    """A search space compiled into parameters and nodes; see the module docs.

    Attributes
    ----------
    search_space : dict
        The parsed search-space mapping the tree was compiled from.
    root : Group
        The top-level node; its keys are the search space's keys, as written.
    params : dict of str to Param
        Every parameter (active in some config) by name, in depth-first order.
    """

    def __init__(self, search_space: Mapping[str, Any]) -> None:
        self.search_space = parse_search_space(search_space)
        self.root = Group(tuple((k, _compile_value(v, k)) for k, v in self.search_space.items()))
        self.params: dict[str, Param] = {}
        for param in self._walk_params(self.root):
            if param.name in self.params:
                raise SearchSpaceError(
                    param.name,
                    "two parameters share this path (a dotted top-level key repeats a "
                    "nested one); rename one of them",
                )
            self.params[param.name] = param

    def _walk_params(self, node: Node) -> Iterator[Param]:
        if isinstance(node, Leaf):
            yield node.param
        elif isinstance(node, Group):
            for _, child in node.items:
                yield from self._walk_params(child)
        elif isinstance(node, Choice):
            yield node.param
            for branch in node.branches:
                yield from self._walk_params(branch)

    @property
    def is_conditional(self) -> bool:
        """Whether the space has ``subspaces`` (some parameters are active only sometimes)."""
        return any(isinstance(p, ChoiceParam) for p in self.params.values())

    @property
    def is_finite(self) -> bool:
        """Whether every parameter has finitely many values (ranges need ``n_bins``)."""
        return _node_size(self.root) is not None

    def grid_size(self, node: Node | None = None) -> int:
        """Exact number of grid points of ``node`` (default: the whole space).

        Products over groups, sums over choice branches; a Python int, never
        materialised.

        Raises
        ------
        SearchSpaceError
            Naming the first range without ``n_bins``.
        """
        target = self.root if node is None else node
        size = _node_size(target)
        if size is None:
            for param in self._walk_params(target):
                if isinstance(param, (FloatParam, IntParam)) and param.n_bins is None:
                    raise SearchSpaceError(
                        param.name,
                        "value_range needs n_bins to be enumerated on a grid; add "
                        '"n_bins": <number of points>',
                    )
        return int(size or 0)

    def sample(self, suggest: Callable[[Param], Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Build one config by asking ``suggest`` for each active parameter, define-by-run.

        Parameters
        ----------
        suggest : callable
            Called with each active parameter in a fixed depth-first order; returns
            its value (for a :class:`ChoiceParam`, the branch index).

        Returns
        -------
        params : dict
            The active parameters' values by name.
        config : dict
            The nested config in ablator's shape.
        """
        params: dict[str, Any] = {}

        def walk(node: Node) -> Any:
            if isinstance(node, Leaf):
                value = suggest(node.param)
                params[node.param.name] = value
                return copy.deepcopy(value)
            if isinstance(node, Constant):
                return copy.deepcopy(node.value)
            if isinstance(node, Group):
                return {key: walk(child) for key, child in node.items}
            index = suggest(node.param)
            if not node.param.contains(index):
                raise SearchSpaceError(
                    node.param.name,
                    f"branch index {index!r} is not in 0..{node.param.n_branches - 1}",
                )
            params[node.param.name] = index
            return walk(node.branches[index])

        config = walk(self.root)
        return params, config

    def decode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Turn parameter values (by name) into a config; inactive extras are ignored.

        Raises
        ------
        SearchSpaceError
            If an active parameter is missing or out of its range.
        """

        def lookup(param: Param) -> Any:
            if param.name not in params:
                raise SearchSpaceError(param.name, "parameter missing from the sampled values")
            value = params[param.name]
            if not param.contains(value):
                raise SearchSpaceError(
                    param.name, f"value {value!r} is outside the parameter's range"
                )
            return value

        return self.sample(lookup)[1]

    def active_params(self, params: Mapping[str, Any]) -> list[str]:
        """Names of the parameters active for ``params`` (in sampling order)."""
        return list(self.sample(lambda p: params[p.name])[0])

    def encode(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Inverse of :meth:`decode`: the active parameters of a config.

        Grid values are matched up to float round-off and returned as the exact
        grid point; for ``subspaces`` the first branch that matches is chosen.

        Raises
        ------
        SearchSpaceError
            Naming the first path whose value is not in the space.
        """
        params: dict[str, Any] = {}
        try:
            self._encode(self.root, config, "", params)
        except _NoMatch as exc:
            raise SearchSpaceError(exc.path, exc.reason) from None
        return params

    def _encode(self, node: Node, value: Any, path: str, params: dict[str, Any]) -> None:
        if isinstance(node, Leaf):
            param = node.param
            if not param.contains(value):
                raise _NoMatch(param.name, f"value {value!r} is not in the search space")
            grid = param.grid()
            if isinstance(param, FloatParam) and grid is not None:
                index = _grid_index(grid, value)
                value = grid[index] if index is not None else value
            elif isinstance(param, FloatParam):
                value = float(value)
            params[param.name] = value
        elif isinstance(node, Constant):
            if not json_equal(value, node.value):
                raise _NoMatch(path, f"value {value!r} differs from the constant {node.value!r}")
        elif isinstance(node, Group):
            if not isinstance(value, Mapping):
                raise _NoMatch(path, f"expected a dict, got {value!r}")
            keys = [k for k, _ in node.items]
            if set(value) != set(keys):
                raise _NoMatch(
                    path or "<config>",
                    f"keys {sorted(value)} differ from the search space's {sorted(keys)}",
                )
            for key, child in node.items:
                self._encode(child, value[key], f"{path}.{key}" if path else key, params)
        else:
            last: _NoMatch | None = None
            for index, branch in enumerate(node.branches):
                attempt: dict[str, Any] = {}
                try:
                    self._encode(branch, value, node.param.name, attempt)
                except _NoMatch as exc:
                    last = exc
                    continue
                params[node.param.name] = index
                params.update(attempt)
                return
            raise _NoMatch(
                node.param.name,
                f"value {value!r} matches none of the subspaces"
                + (f" ({last.path}: {last.reason})" if last else ""),
            )


def compile_space(search_space: Mapping[str, Any] | SpaceTree) -> SpaceTree:
    """Parse and compile a search-space mapping (a :class:`SpaceTree` is returned as is)."""
    if isinstance(search_space, SpaceTree):
        return search_space
    return SpaceTree(search_space)
