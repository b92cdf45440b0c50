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

The nodes and parameters are defined in :mod:`hposampler.space.params` and a
single space compiles itself (:mod:`hposampler.space.model`); this module builds
the whole tree on both and re-exports their names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hposampler.errors import SearchSpaceError
from hposampler.space.model import compile_node, compile_value, parse_search_space
from hposampler.space.params import (
    CategoricalParam,
    Choice,
    ChoiceParam,
    Constant,
    FloatParam,
    Group,
    IntParam,
    Leaf,
    Node,
    NoMatch,
    Param,
    copy_value,
    encode,
    encode_all,
    node_contains,
)

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
        self.root = Group(tuple((k, compile_value(v, k)) for k, v in self.search_space.items()))
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
                if isinstance(param, (FloatParam, IntParam)) and param.grid() is None:
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
                return copy_value(value)
            if isinstance(node, Constant):
                return copy_value(node.value)
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
            encode(self.root, config, "", params, branches or {})
        except NoMatch as exc:
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
            return encode_all(self.root, config, "", limit)
        except NoMatch as exc:
            raise SearchSpaceError(exc.path, exc.reason) from None

    def violation(self, config: Any) -> str | None:
        """Why ``config`` is not a config of this space (path and reason), or ``None``."""
        try:
            encode(self.root, config, "", {})
        except NoMatch as exc:
            return f"{exc.path}: {exc.reason}" if exc.path else exc.reason
        return None


_BRANCH_SEGMENT = re.compile(r"\.subspaces\[\d+\]")


def config_key(param_name: str) -> str:
    """The dotted config key of a compiled parameter: ``opt.subspaces[1].lr`` -> ``opt.lr``."""
    return _BRANCH_SEGMENT.sub("", param_name)


def compile_space(search_space: Mapping[str, Any] | SpaceTree) -> SpaceTree:
    """Parse and compile a search-space mapping (a :class:`SpaceTree` is returned as is)."""
    if isinstance(search_space, SpaceTree):
        return search_space
    return SpaceTree(search_space)
