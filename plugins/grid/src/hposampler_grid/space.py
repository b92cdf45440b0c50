"""Grid indices <-> configs over hposampler's compiled tree, without materialising the grid.

The grid of a node has ``size`` points: a leaf its grid points, a constant one,
a group the product of its children's sizes (mixed radix, first key most
significant, so index order is ``itertools.product`` order), a choice the sum
of its branches' sizes (branch 0's points first).
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable, Mapping
from typing import Any

from hposampler import SearchSpaceError
from hposampler.space.tree import (
    Choice,
    Constant,
    Group,
    Leaf,
    Node,
    SpaceTree,
)
from hposampler.space.values import LazyGrid

__all__ = ["GridIndex"]

_SCALARS = (int, float, str, bool, type(None))

Decoder = Callable[[int], Any]
Encoder = Callable[[Mapping[str, Any]], int]


def _leaf(node: Leaf) -> tuple[int, Decoder, Encoder]:
    param = node.param
    grid = param.grid()
    if grid is None:  # SpaceTree.grid_size() already named it; stay defensive
        raise SearchSpaceError(param.name, "value_range needs n_bins for grid search")
    points = grid if isinstance(grid, LazyGrid) else tuple(grid)  # never list a huge grid
    name = param.name
    if isinstance(points, LazyGrid) or all(isinstance(p, _SCALARS) for p in points):
        decode: Decoder = points.__getitem__
    else:

        def decode(i: int) -> Any:
            return copy.deepcopy(points[i])

    index_of = param.index_of

    def encode(params: Mapping[str, Any]) -> int:
        index = index_of(params[name])
        if index is None:  # SpaceTree.encode() only yields values of the parameter
            raise SearchSpaceError(name, f"value {params[name]!r} is not a grid point")
        return index

    return len(points), decode, encode


def _constant(node: Constant) -> tuple[int, Decoder, Encoder]:
    value = node.value
    if isinstance(value, _SCALARS):
        return 1, lambda i: value, lambda params: 0
    return 1, lambda i: copy.deepcopy(value), lambda params: 0


def _group(node: Group) -> tuple[int, Decoder, Encoder]:
    keys = [k for k, _ in node.items]
    parts = [_plan(child) for _, child in node.items]
    sizes = [p[0] for p in parts]
    total = 1
    for s in sizes:
        total *= s
    # least significant first for decoding; skip size-1 children in the arithmetic.
    # Scalar leaves are indexed directly (their decoder is tuple.__getitem__).
    varying = [(k, s, dec) for k, (s, dec, _) in zip(keys, parts) if s > 1][::-1]
    fixed = [(k, dec) for k, (s, dec, _) in zip(keys, parts) if s == 1]
    direct = [(k, s, getattr(dec, "__self__", ())) for k, s, dec in varying if _is_getitem(dec)]
    if len(direct) == len(varying) and not fixed:

        def decode_direct(i: int) -> Any:
            values = {}
            for key, size, points in direct:
                i, digit = divmod(i, size)
                values[key] = points[digit]
            return {key: values[key] for key in keys}

        return total, decode_direct, _group_encoder(parts)

    def decode(i: int) -> Any:
        out = dict.fromkeys(keys)
        for key, size, dec in varying:
            i, digit = divmod(i, size)
            out[key] = dec(digit)
        for key, dec in fixed:
            out[key] = dec(0)
        return out

    return total, decode, _group_encoder(parts)


def _is_getitem(decoder: Decoder) -> bool:
    return isinstance(getattr(decoder, "__self__", None), tuple)


def _group_encoder(parts: list[tuple[int, Decoder, Encoder]]) -> Encoder:
    encoders = [(s, enc) for (s, _, enc) in parts]

    def encode(params: Mapping[str, Any]) -> int:
        index = 0
        for size, enc in encoders:
            index = index * size + enc(params)
        return index

    return encode


def _choice(node: Choice) -> tuple[int, Decoder, Encoder]:
    parts = [_plan(b) for b in node.branches]
    offsets = [0]
    for size, _, _ in parts:
        offsets.append(offsets[-1] + size)
    name = node.param.name

    def decode(i: int) -> Any:
        branch = bisect.bisect_right(offsets, i) - 1
        return parts[branch][1](i - offsets[branch])

    def encode(params: Mapping[str, Any]) -> int:
        branch: int = params[name]
        return offsets[branch] + parts[branch][2](params)

    return offsets[-1], decode, encode


def _plan(node: Node) -> tuple[int, Decoder, Encoder]:
    if isinstance(node, Leaf):
        return _leaf(node)
    if isinstance(node, Constant):
        return _constant(node)
    if isinstance(node, Group):
        return _group(node)
    return _choice(node)


class GridIndex:
    """Bijection between ``range(size)`` and the grid's configs.

    Parameters
    ----------
    tree : SpaceTree
        The compiled search space; every range needs ``n_bins``.

    Raises
    ------
    SearchSpaceError
        Naming the first range without ``n_bins``.
    """

    def __init__(self, tree: SpaceTree) -> None:
        self.tree = tree
        self.size = tree.grid_size()
        size, self._decode, self._encode = _plan(tree.root)
        if size != self.size:  # pragma: no cover - both count the same tree
            raise RuntimeError(f"grid size mismatch: {size} != {self.size}")

    def config(self, index: int) -> dict[str, Any]:
        """The config at ``index`` (``0 <= index < size``)."""
        if not 0 <= index < self.size:
            raise IndexError(f"grid index {index} outside range({self.size})")
        config: dict[str, Any] = self._decode(index)
        return config

    def index(self, config: Mapping[str, Any]) -> int:
        """The index of ``config``, matching floats up to round-off.

        Raises
        ------
        SearchSpaceError
            If ``config`` is not a point of the grid.
        """
        return self.index_of_params(self.tree.encode(config))

    def index_of_params(self, params: Mapping[str, Any]) -> int:
        """The index of a config given as encoded parameters (see ``SpaceTree.encode``)."""
        return int(self._encode(params))
