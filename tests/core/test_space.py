"""Search spaces: validation, paths in errors, cattrs/JSON round-trip, contains."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hposampler import SearchSpace, SearchSpaceError, compile_space, parse_search_space
from hposampler._convert import converter
from hposampler.space import dump_search_space, grid_points, search_space_paths
from hposampler.testing.strategies import draw_params, search_spaces

ABLATOR_OPTIMIZERS = {
    "train_config.optimizer_config": {
        "subspaces": [
            {
                "sub_configuration": {
                    "name": "sgd",
                    "arguments": {
                        "lr": {"value_range": ["0.001", "0.1"], "value_type": "float"},
                        "momentum": 0.9,
                    },
                }
            },
            {
                "sub_configuration": {
                    "name": "adam",
                    "arguments": {
                        "lr": {"value_range": [1e-4, 1e-2], "value_type": "float", "log": True},
                        "betas": {"categorical_values": [[0.9, 0.99], [0.5, 0.9]]},
                    },
                }
            },
        ]
    },
    "model_config.layers": {"value_range": ["1", "8"], "value_type": "int"},
}


def test_ablator_space_parses_with_string_bounds() -> None:
    space = parse_search_space(ABLATOR_OPTIMIZERS)
    layers = space["model_config.layers"]
    assert layers.value_range == (1, 8)
    assert all(isinstance(b, int) for b in layers.value_range)
    opt = space["train_config.optimizer_config"]
    assert opt.kind == "subspaces"
    sgd_lr = opt.subspaces[0].sub_configuration["arguments"]["lr"]
    assert sgd_lr.value_range == (0.001, 0.1)


def test_paths_name_every_tunable_parameter() -> None:
    assert search_space_paths(ABLATOR_OPTIMIZERS) == [
        "train_config.optimizer_config",
        "train_config.optimizer_config.subspaces[0].arguments.lr",
        "train_config.optimizer_config.subspaces[1].arguments.lr",
        "train_config.optimizer_config.subspaces[1].arguments.betas",
        "model_config.layers",
    ]


@pytest.mark.parametrize(
    ("space", "path", "fragment"),
    [
        (
            {
                "opt": {
                    "subspaces": [
                        {"value_range": [0, 1], "value_type": "float"},
                        {
                            "sub_configuration": {
                                "arguments": {"lr": {"value_range": [1, 0], "value_type": "float"}}
                            }
                        },
                    ]
                }
            },
            "opt.subspaces[1].arguments.lr",
            "value_range low 1.0 > high 0.0",
        ),
        (
            {"x": {"value_range": [0, 1], "value_type": "complex"}},
            "x",
            "value_type must be 'int' or 'float'",
        ),
        ({"x": {"value_range": [0, 1], "value_type": "float", "log": True}}, "x", "log needs"),
        ({"x": {"categorical_values": [1, 2], "value_type": "int"}}, "x", "value_type only"),
        ({"x": {"value_range": [0, 1], "value_type": "float", "n_bins": 0}}, "x", "n_bins must be"),
        ({"x": {"subspaces": [{"categorical_values": [1]}], "n_bins": 3}}, "x", "n_bins only"),
        ({"x": {"categorical_values": []}}, "x", "must not be empty"),
        ({"x": {"categorical_values": [1, 1]}}, "x", "twice"),
        ({"x": {"value_rnge": [0, 1], "value_type": "float"}}, "x", "did you mean 'value_range'"),
        ({"x": {"value_range": ["a", 1], "value_type": "float"}}, "x", "not a number"),
        ({"x": {"value_range": [0.5, 2], "value_type": "int"}}, "x", "not an integer"),
        (
            {"x": {"value_range": [0, 1], "categorical_values": [1], "value_type": "int"}},
            "x",
            "exactly one of",
        ),
        ({"x": {"subspaces": []}}, "x", "must not be empty"),
        (
            {"a": {"b": {"c": {"categorical_values": [object()]}}}},
            "a.b.c.categorical_values[0]",
            "not JSON data",
        ),
        ({"x": {"value_range": [0, float("inf")], "value_type": "float"}}, "x", "not finite"),
    ],
)
def test_malformed_spaces_name_the_path(space: dict[str, Any], path: str, fragment: str) -> None:
    with pytest.raises(SearchSpaceError) as info:
        parse_search_space(space)
    assert info.value.path == path
    assert fragment in str(info.value)
    assert str(info.value).startswith(path)
    assert isinstance(info.value, ValueError)


def test_empty_and_non_mapping_spaces_are_refused() -> None:
    with pytest.raises(SearchSpaceError, match="empty"):
        parse_search_space({})
    with pytest.raises(SearchSpaceError, match="must be a dict"):
        parse_search_space([("x", 1)])  # type: ignore[arg-type]


def test_categorical_values_keep_their_types() -> None:
    space = SearchSpace(categorical_values=[1, "1", 1.5, True, None, [1, 2]])
    assert space.categorical_values == (1, "1", 1.5, True, None, [1, 2])
    assert space.contains(1) and space.contains("1") and space.contains(True)
    assert not space.contains(2) and not space.contains("1.5")
    assert not SearchSpace(categorical_values=[1, 2]).contains(True)


def test_contains_checks_grid_bounds_and_types() -> None:
    grid = SearchSpace(value_range=(1e-3, 1e-1), value_type="float", log=True, n_bins=3)
    assert grid.grid() == (1e-3, pytest.approx(1e-2), 1e-1)
    assert grid.contains(0.01000000000001) and not grid.contains(0.05)
    ints = SearchSpace(value_range=(0, 10), value_type="int")
    assert ints.contains(3) and not ints.contains(3.0) and not ints.contains(11)
    assert not ints.contains(True)
    sub = SearchSpace(sub_configuration={"a": {"categorical_values": ["x"]}, "b": 2})
    assert sub.contains({"a": "x", "b": 2})
    assert not sub.contains({"a": "x", "b": 3}) and not sub.contains({"a": "x"})


def test_grid_points_linspace_geomspace_and_int_dedup() -> None:
    assert grid_points(0, 1, 5) == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert grid_points(1, 1000, 4, log=True) == pytest.approx((1, 10, 100, 1000))
    assert grid_points(1, 4, 10, integer=True) == (1, 2, 3, 4)
    assert grid_points(3, 3, 4) == (3.0,)


@given(search_spaces())
def test_random_valid_spaces_round_trip_through_cattrs_and_json(raw: dict[str, Any]) -> None:
    parsed = parse_search_space(raw)
    dumped = dump_search_space(parsed)
    again = parse_search_space(json.loads(json.dumps(dumped)))
    assert again == parsed
    assert dump_search_space(again) == dumped
    for value in parsed.values():
        if isinstance(value, SearchSpace):
            unstructured = converter.unstructure(value)
            assert converter.structure(unstructured, SearchSpace) == value


@given(st.data())
def test_decoded_configs_from_random_params_are_contained(data: st.DataObject) -> None:
    raw = data.draw(search_spaces())
    tree = compile_space(raw)
    params, config = draw_params(data.draw, tree)
    assert tree.decode(params) == config
    for key, value in tree.search_space.items():
        if isinstance(value, SearchSpace):
            assert value.contains(config[key]), (key, config[key])
    assert tree.decode(tree.encode(config)) == config


_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "value_range",
                    "categorical_values",
                    "subspaces",
                    "sub_configuration",
                    "value_type",
                    "n_bins",
                    "log",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(min_size=1, max_size=3), _junk, min_size=1, max_size=3))
def test_malformed_input_raises_only_search_space_error(raw: dict[str, Any]) -> None:
    try:
        parse_search_space(raw)
    except SearchSpaceError:
        pass
