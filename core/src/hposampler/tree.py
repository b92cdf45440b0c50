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

import bisect
import copy
import math
import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from .errors import SearchSpaceError
from .space import SearchSpace, grid_points, json_equal, parse_search_space

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
    "compile_node",
    "compile_space",
    "node_contains",
]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _grid_index(grid: tuple[Any, ...], value: Any) -> int | None:
    """The index of the grid point equal to ``value`` up to float round-off, if any."""
    if not _is_number(value) or not grid:
        return None
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

    def grid(self) -> tuple[Any, ...] | None:  # pragma: no cover - overridden
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
    """A float in ``[low, high]``; log-uniform when ``log``; ``n_bins`` grid points if set.

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

    def grid(self) -> tuple[float, ...] | None:
        """Grid points (linspace, or geomspace when ``log``), or ``None`` if continuous."""
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
        if self.n_bins is not None:
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
    """An int in ``[low, high]``; log-uniform when ``log``; ``n_bins`` grid points if set."""

    name: str
    low: int
    high: int
    log: bool = False
    n_bins: int | None = None

    def grid(self) -> tuple[int, ...] | None:
        """Distinct rounded grid points, or ``None`` if every int in range is allowed."""
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


class _NoMatch(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def _copy(value: Any) -> Any:
    """A config's own copy of a value: containers are copied, immutable scalars shared."""
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


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
                return _copy(value)
            if isinstance(node, Constant):
                return _copy(node.value)
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

    def encode(
        self, config: Mapping[str, Any], branches: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Inverse of :meth:`decode`: the active parameters of a config.

        Grid values are matched up to float round-off and returned as the exact
        grid point; for ``subspaces`` the first branch that matches is chosen,
        unless ``branches`` (``{choice parameter name: branch index}``, e.g. the
        params a backend sampled) names one that matches.

        Raises
        ------
        SearchSpaceError
            Naming the first path whose value is not in the space.
        """
        params: dict[str, Any] = {}
        try:
            _encode(self.root, config, "", params, branches or {})
        except _NoMatch as exc:
            raise SearchSpaceError(exc.path, exc.reason) from None
        return params

    def encodings(self, config: Mapping[str, Any], limit: int = 64) -> list[dict[str, Any]]:
        """Every way ``config`` encodes (overlapping ``subspaces`` branches), at most ``limit``.

        The first is :meth:`encode`'s. A grid uses the others to tell apart two
        points that give the same config.

        Raises
        ------
        SearchSpaceError
            If ``config`` is not in the space.
        """
        try:
            return _encode_all(self.root, config, "", limit)
        except _NoMatch as exc:
            raise SearchSpaceError(exc.path, exc.reason) from None

    def violation(self, config: Any) -> str | None:
        """Why ``config`` is not a config of this space (path and reason), or ``None``."""
        try:
            _encode(self.root, config, "", {})
        except _NoMatch as exc:
            return f"{exc.path}: {exc.reason}" if exc.path else exc.reason
        return None


def _outside(param: Param, value: Any) -> str:
    """Why ``value`` is not a value of ``param``, naming an int/float mix-up as such."""
    if isinstance(param, IntParam) and isinstance(value, float):
        return (
            f"value {value!r} is not in the search space: it is a float, and this is an int "
            f"parameter in [{param.low}, {param.high}] (give int({value!r}))"
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


def _encode(
    node: Node,
    value: Any,
    path: str,
    params: dict[str, Any],
    branches: Mapping[str, Any] = MappingProxyType({}),
) -> None:
    """Collect the parameters of ``value`` under ``node``; ``_NoMatch`` if it is not in it.

    ``branches`` gives the branch to try first at a choice (by its parameter name).
    """
    if isinstance(node, Leaf):
        param = node.param
        if not param.contains(value):
            raise _NoMatch(param.name, _outside(param, value))
        params[param.name] = param.canonical(value)
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
                f"keys {sorted(map(str, value))} differ from the search space's {sorted(keys)}",
            )
        for key, child in node.items:
            _encode(child, value[key], f"{path}.{key}" if path else key, params, branches)
    else:
        last: _NoMatch | None = None
        order = list(range(len(node.branches)))
        preferred = branches.get(node.param.name)
        if preferred in order:
            order.remove(preferred)
            order.insert(0, preferred)
        for index in order:
            attempt: dict[str, Any] = {}
            try:
                _encode(node.branches[index], value, node.param.name, attempt, branches)
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


def _encode_all(node: Node, value: Any, path: str, limit: int) -> list[dict[str, Any]]:
    """Every parameter set of ``value`` under ``node`` (``_NoMatch`` if none), in
    :func:`_encode`'s order of preference, at most ``limit``."""
    if isinstance(node, Choice):
        out: list[dict[str, Any]] = []
        for index, branch in enumerate(node.branches):
            try:
                subs = _encode_all(branch, value, node.param.name, limit)
            except _NoMatch:
                continue
            out += [{node.param.name: index, **sub} for sub in subs]
        if not out:
            _encode(node, value, path, {})  # raises the reason
        return out[:limit]
    one: dict[str, Any] = {}
    _encode(node, value, path, one)  # validates the whole subtree
    if not isinstance(node, Group):
        return [one]
    results: list[dict[str, Any]] = [{}]
    for key, child in node.items:
        subs = _encode_all(child, value[key], f"{path}.{key}" if path else key, limit)
        results = [{**r, **sub} for r in results for sub in subs][:limit]
    return results


_BRANCH_SEGMENT = re.compile(r"\.subspaces\[\d+\]")


def config_key(param_name: str) -> str:
    """The dotted config key of a compiled parameter: ``opt.subspaces[1].lr`` -> ``opt.lr``."""
    return _BRANCH_SEGMENT.sub("", param_name)


def compile_node(space: SearchSpace, path: str = "") -> Node:
    """Compile one :class:`~hposampler.SearchSpace` (parameters named from ``path``)."""
    return _compile_space(space, path)


def node_contains(node: Node, value: Any) -> bool:
    """Whether ``value`` could have been sampled from ``node``."""
    try:
        _encode(node, value, "", {})
    except _NoMatch:
        return False
    return True


def compile_space(search_space: Mapping[str, Any] | SpaceTree) -> SpaceTree:
    """Parse and compile a search-space mapping (a :class:`SpaceTree` is returned as is)."""
    if isinstance(search_space, SpaceTree):
        return search_space
    return SpaceTree(search_space)
