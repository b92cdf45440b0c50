"""hposampler.space.flat: the tree as flat dimensions, for array-based backends."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hposampler.space.flat import FlatSpace
from hposampler.space.tree import compile_space
from hposampler.testing import space_violation

SPACE = {
    "lr": {"value_range": [1e-5, 1e-1], "value_type": "float", "log": True},
    "layers": {"value_range": [1, 8], "value_type": "int"},
    "width": {"value_range": [16, 256], "value_type": "int", "n_bins": 4},
    "fixed": {"value_range": [3, 3], "value_type": "int"},
    "act": {"categorical_values": ["relu", 1, None, [1, 2]]},
    "opt": {"subspaces": [
        {"sub_configuration": {"name": "sgd", "m": {"value_range": [0.0, 0.9],
                                                    "value_type": "float"}}},
        {"sub_configuration": {"name": "adam", "b": {"categorical_values": [0.9, 0.99]}}},
    ]},
}  # fmt: skip
FLAT = FlatSpace(compile_space(SPACE))


def test_dimensions_have_the_right_kinds_and_single_values_are_fixed() -> None:
    kinds = {d.name: d.kind for d in FLAT.dimensions}
    assert kinds["lr"] == "float" and kinds["layers"] == "int"
    assert kinds["width"] == "ordinal" and kinds["act"] == "choice"
    assert kinds["opt"] == "choice"  # the branch is a categorical dimension
    assert "fixed" not in kinds and FLAT.fixed["fixed"] == 3
    assert next(d for d in FLAT.dimensions if d.name == "lr").log


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_points_round_trip_every_config_and_stay_json(seed: int) -> None:
    rng = random.Random(seed)
    params, config = FLAT.tree.sample(lambda p: p.from_unit(rng.random()))
    point = FLAT.to_point(params)
    assert FLAT.valid(json.loads(json.dumps(point)))
    decoded = FLAT.tree.decode(FLAT.to_params(point))
    assert decoded == config
    assert space_violation(SPACE, decoded) is None


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(FLAT.names), st.floats(-1e3, 1e3), min_size=0))
def test_raw_backend_values_are_clipped_into_the_space(raw: dict[str, Any]) -> None:
    point = FLAT.to_point({})  # fillers everywhere
    for dim in FLAT.dimensions:
        if dim.name in raw:
            value = raw[dim.name]
            point[dim.name] = int(min(max(value, 0), dim.size - 1)) if dim.discrete else value
    params = FLAT.to_params(point)
    config = FLAT.tree.decode(params)
    assert space_violation(SPACE, config) is None


def test_invalid_points_are_refused() -> None:
    good = FLAT.to_point({})
    assert FLAT.valid(good)
    assert not FLAT.valid({**good, "act": 9})
    assert not FLAT.valid({**good, "act": 1.0})
    assert not FLAT.valid({**good, "lr": 5.0})
    assert not FLAT.valid({k: v for k, v in good.items() if k != "lr"})
    assert not FLAT.valid({**good, "layers": True})
    assert not FLAT.valid([good])
