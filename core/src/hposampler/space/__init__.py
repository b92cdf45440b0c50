"""Search spaces: the model users write, and the compiled tree backends sample.

Modules, from the bottom up (each imports only those above it in this list):

:mod:`~hposampler.space.values`
    JSON equality and grid points.
:mod:`~hposampler.space.params`
    The tunable parameters (float, int, categorical, branch choice), the nodes a
    space compiles into, and membership.
:mod:`~hposampler.space.model`
    :class:`SearchSpace` (ablator's model) and :func:`parse_search_space`; a
    space compiles itself into parameter nodes.
:mod:`~hposampler.space.tree`
    :class:`SpaceTree`, the whole compiled space: stable parameter names,
    define-by-run sampling, encoding and decoding.
:mod:`~hposampler.space.flat`
    :class:`FlatSpace`, the tree as flat dimensions for array-based backends.

This package imports only :mod:`hposampler.errors` and :mod:`hposampler._convert`
from the rest of hposampler; everything else builds on it.
"""

from __future__ import annotations

from hposampler.space.flat import Dimension, FlatSpace
from hposampler.space.model import (
    SearchSpace,
    SearchSpaceLike,
    dump_search_space,
    is_search_space_dict,
    parse_search_space,
    search_space_paths,
)
from hposampler.space.params import (
    CategoricalParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    Param,
)
from hposampler.space.tree import SpaceTree, compile_space, config_key
from hposampler.space.values import grid_points, json_equal

__all__ = [
    "CategoricalParam",
    "ChoiceParam",
    "Dimension",
    "FlatSpace",
    "FloatParam",
    "IntParam",
    "Param",
    "SearchSpace",
    "SearchSpaceLike",
    "SpaceTree",
    "compile_space",
    "config_key",
    "dump_search_space",
    "grid_points",
    "is_search_space_dict",
    "json_equal",
    "parse_search_space",
    "search_space_paths",
]
