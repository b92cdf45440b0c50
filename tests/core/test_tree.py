"""The compiled parameter tree: names, decode/encode, grid sizes."""

from __future__ import annotations

import pytest

from hposampler import SearchSpaceError, compile_space
from hposampler.space.tree import ChoiceParam, FloatParam, IntParam

SPACE = {
    "opt": {
        "subspaces": [
            {
                "sub_configuration": {
                    "name": "sgd",
                    "lr": {"value_range": [0, 1], "value_type": "float", "n_bins": 3},
                }
            },
            {
                "sub_configuration": {
                    "name": "adam",
                    "lr": {
                        "value_range": [1e-4, 1e-1],
                        "value_type": "float",
                        "log": True,
                        "n_bins": 4,
                    },
                    "beta": {"categorical_values": [0.9, 0.99]},
                }
            },
        ]
    },
    "layers": {"value_range": [1, 4], "value_type": "int", "n_bins": 10},
    "model": {"act": "relu", "width": {"categorical_values": [32, 64]}},
}


def test_parameter_names_are_paths_and_unique() -> None:
    tree = compile_space(SPACE)
    assert list(tree.params) == [
        "opt",
        "opt.subspaces[0].lr",
        "opt.subspaces[1].lr",
        "opt.subspaces[1].beta",
        "layers",
        "model.width",
    ]
    assert isinstance(tree.params["opt"], ChoiceParam)
    assert isinstance(tree.params["layers"], IntParam)
    assert tree.is_conditional and tree.is_finite


def test_grid_size_is_sum_over_choices_and_product_over_groups() -> None:
    tree = compile_space(SPACE)
    # opt: 3 + 4*2 = 11 ; layers: 4 distinct ints ; width: 2
    assert tree.grid_size() == 11 * 4 * 2


def test_grid_size_names_a_range_without_n_bins() -> None:
    tree = compile_space(
        {
            "a": {"categorical_values": [1]},
            "b": {"sub_configuration": {"c": {"value_range": [0, 1], "value_type": "float"}}},
        }
    )
    assert not tree.is_finite
    with pytest.raises(SearchSpaceError, match=r"^b\.c: value_range needs n_bins"):
        tree.grid_size()


def test_decode_builds_ablator_shape_and_encode_inverts_with_round_off() -> None:
    tree = compile_space(SPACE)
    params = {
        "opt": 1,
        "opt.subspaces[1].lr": tree.params["opt.subspaces[1].lr"].grid()[1],
        "opt.subspaces[1].beta": 0.99,
        "layers": 2,
        "model.width": 64,
        "opt.subspaces[0].lr": 0.5,
    }  # inactive: ignored
    config = tree.decode(params)
    assert config == {
        "opt": {"name": "adam", "lr": params["opt.subspaces[1].lr"], "beta": 0.99},
        "layers": 2,
        "model": {"act": "relu", "width": 64},
    }
    noisy = {**config, "opt": {**config["opt"], "lr": config["opt"]["lr"] * (1 + 1e-12)}}
    encoded = tree.encode(noisy)
    assert encoded["opt.subspaces[1].lr"] == params["opt.subspaces[1].lr"]
    assert "opt.subspaces[0].lr" not in encoded
    assert tree.active_params(encoded) == [
        "opt",
        "opt.subspaces[1].lr",
        "opt.subspaces[1].beta",
        "layers",
        "model.width",
    ]


def test_decode_and_encode_reject_values_outside_the_space() -> None:
    tree = compile_space(SPACE)
    with pytest.raises(SearchSpaceError, match="^opt.subspaces.0..lr: parameter missing"):
        tree.decode({"opt": 0, "layers": 1, "model.width": 32})
    with pytest.raises(SearchSpaceError, match="^layers: value 7 is outside"):
        tree.decode({"opt": 0, "opt.subspaces[0].lr": 0.0, "layers": 7, "model.width": 32})
    with pytest.raises(SearchSpaceError, match="matches none of the subspaces"):
        tree.encode(
            {
                "opt": {"name": "rmsprop", "lr": 0.5},
                "layers": 1,
                "model": {"act": "relu", "width": 32},
            }
        )
    with pytest.raises(SearchSpaceError, match="differs from the constant"):
        tree.encode(
            {"opt": {"name": "sgd", "lr": 0.5}, "layers": 1, "model": {"act": "gelu", "width": 32}}
        )


def test_log_int_param_and_float_param_contains() -> None:
    tree = compile_space(
        {
            "n": {"value_range": [1, 1000], "value_type": "int", "log": True},
            "f": {"value_range": [0, 1], "value_type": "float"},
        }
    )
    n, f = tree.params["n"], tree.params["f"]
    assert isinstance(n, IntParam) and n.log and n.grid() is None
    assert isinstance(f, FloatParam) and f.contains(1) and not f.contains(1.5)
    assert not f.contains("0.5") and not f.contains(True)


def test_overlapping_branches_encode_every_way_and_honour_a_preferred_branch() -> None:
    leaf = {"value_range": [0, 1], "value_type": "float", "n_bins": 3}
    space = {"a": {"subspaces": [
        {"sub_configuration": {"i": leaf}},
        {"sub_configuration": {"i": leaf}},
        {"sub_configuration": {"j": leaf}},
    ]}}  # fmt: skip
    tree = compile_space(space)
    config = {"a": {"i": 0.5}}
    assert tree.encode(config) == {"a": 0, "a.subspaces[0].i": 0.5}
    assert tree.encode(config, {"a": 1}) == {"a": 1, "a.subspaces[1].i": 0.5}
    assert tree.encode(config, {"a": 2}) == {"a": 0, "a.subspaces[0].i": 0.5}  # no match: first
    assert tree.encodings(config) == [
        {"a": 0, "a.subspaces[0].i": 0.5},
        {"a": 1, "a.subspaces[1].i": 0.5},
    ]
    assert tree.encodings(config, limit=1) == [tree.encode(config)]
    with pytest.raises(SearchSpaceError, match="matches none of the subspaces"):
        tree.encodings({"a": {"k": 1}})
