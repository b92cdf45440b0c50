"""The ordered-values kind (``{"values": [16, 32, 64, 128]}``): model, errors, every backend."""

from __future__ import annotations

import importlib.util
import statistics
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hposampler import SearchSpace, SearchSpaceError, TrialState, make_sampler, parse_search_space
from hposampler.space.flat import FlatSpace
from hposampler.space.tree import FloatParam, IntParam, compile_space

BATCH = {"values": [16, 32, 64, 128]}
LR = {"values": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]}


def test_values_compile_to_an_ordered_int_or_float_parameter() -> None:
    tree = compile_space(parse_search_space({"bs": BATCH, "lr": LR, "w": {"values": [1.0, 2]}}))
    bs, lr, w = tree.params["bs"], tree.params["lr"], tree.params["w"]
    assert isinstance(bs, IntParam) and bs.grid() == (16, 32, 64, 128)
    assert isinstance(lr, FloatParam) and lr.grid() == (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
    assert isinstance(w, FloatParam) and w.grid() == (1.0, 2.0)  # mixed: floats
    assert bs.contains(64) and not bs.contains(48) and not bs.contains(64.0)
    assert lr.contains(1e-3) and not lr.contains(2e-3)
    assert [d.kind for d in FlatSpace(tree).dimensions] == ["ordinal", "ordinal", "ordinal"]


def test_values_round_trip_through_json_keeping_their_type() -> None:
    space = SearchSpace(values=[1.0, 2.0, 4.0])
    assert space.to_dict() == {"values": [1.0, 2.0, 4.0], "value_type": "float"}
    again = parse_search_space({"x": space.to_dict()})["x"]
    assert again == space and again.value_type == "float"
    assert SearchSpace(values=[16, 32]).to_dict() == {"values": [16, 32]}
    assert SearchSpace(values=[16, 32]).contains(16) and not SearchSpace(values=[16]).contains(17)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"values": [32, 16]}, "values must be increasing"),
        ({"values": [16, 16]}, "values must be increasing"),
        ({"values": []}, "must not be empty"),
        ({"values": ["a", "b"]}, "not a number"),
        ({"values": [True, 2]}, "not a number"),
        ({"values": [1, float("inf")]}, "must be finite"),
        ({"values": 3}, "values must be a list"),
        ({"values": [1, 2], "log": True}, "log does not apply"),
        ({"values": [1, 2], "n_bins": 2}, "n_bins only applies"),
        ({"values": [1.5, 2], "value_type": "int"}, "holds floats"),
        ({"values": [1, 2], "categorical_values": [1]}, "exactly one of"),
        ({"values": [2**60, 2**60 + 1], "value_type": "float"}, "same as floats"),
    ],
)
def test_bad_values_name_the_path_and_the_fix(entry: dict[str, Any], words: str) -> None:
    with pytest.raises(SearchSpaceError, match=words) as info:
        parse_search_space({"batch": entry})
    assert "batch" in str(info.value)


def test_a_group_may_still_hold_a_parameter_named_values() -> None:
    parsed = parse_search_space({"model": {"values": 3, "depth": {"values": [1, 2, 3]}}})
    assert parsed["model"]["values"] == 3
    assert parsed["model"]["depth"] == SearchSpace(values=[1, 2, 3])


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(not _installed(*mods), reason=f"needs {mods}"))
    for name, mods in [
        ("random", ()),
        ("tpe", ("optuna",)),
        ("optuna:cmaes", ("optuna",)),
        ("optuna:qmc", ("optuna",)),
        ("grid", ()),
        ("skopt:gp", ("skopt",)),
        ("nevergrad:ngopt", ("nevergrad",)),
        ("hyperopt:tpe", ("hyperopt",)),
    ]
]


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_samples_only_the_listed_values(name: str) -> None:
    sampler = make_sampler(name, {"bs": BATCH, "lr": LR}, optim_metrics={"loss": "min"}, seed=1)
    seen = set()
    for _ in range(20):
        trial_id, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        assert config["bs"] in BATCH["values"] and type(config["bs"]) is int
        assert config["lr"] in LR["values"] and type(config["lr"]) is float
        seen.add((config["bs"], config["lr"]))
        loss = abs(config["bs"] - 64) + abs(LR["values"].index(config["lr"]) - 2)
        sampler.update_trial(trial_id, {"loss": float(loss)}, TrialState.COMPLETE)
    assert len(seen) > 1


@pytest.mark.skipif(not _installed("optuna"), reason="needs optuna")
def test_optuna_sees_ordered_values_as_an_int_distribution_not_a_categorical() -> None:
    from optuna.distributions import IntDistribution

    from hposampler_optuna.distributions import mapping_for

    tree = compile_space(
        parse_search_space(
            {
                "bs": BATCH,
                "even": {"values": [8, 16, 24]},
                "lr": LR,
                "log": {"value_range": [1e-4, 1e-1], "log": True, "n_bins": 4},
            }
        )
    )
    dists = {name: mapping_for(p).distribution for name, p in tree.params.items()}
    assert dists["bs"] == IntDistribution(0, 3)  # an index: 16, 32, 64, 128
    assert dists["even"] == IntDistribution(8, 24, step=8)  # evenly stepped: the values
    assert dists["lr"] == IntDistribution(0, 4)
    assert dists["log"] == IntDistribution(0, 3)


@pytest.mark.skipif(not _installed("skopt", "nevergrad", "hyperopt"), reason="needs all three")
def test_array_backends_get_an_ordered_dimension() -> None:
    import nevergrad as ng
    from hposampler_hyperopt.space import HyperoptSpace
    from hposampler_nevergrad.space import NevergradSpace
    from skopt.space import Integer

    from hposampler_skopt.space import SkoptSpace

    tree = compile_space(parse_search_space({"bs": BATCH}))
    assert isinstance(SkoptSpace(tree).dimensions[0], Integer)
    entry = NevergradSpace(tree).parametrization["bs"]
    assert isinstance(entry, ng.p.TransitionChoice)
    label = HyperoptSpace(tree).space["bs"]
    assert "quniform" in str(label)


def _median_best(space_entry: dict[str, Any], name: str) -> float:
    """Median over seeds of the best loss after 30 trials on a smooth 1-D table."""
    values = list(range(60))
    bests = []
    for seed in range(5):
        sampler = make_sampler(name, {"x": space_entry}, optim_metrics={"loss": "min"}, seed=seed)
        best = float("inf")
        for _ in range(30):
            trial_id, config, _ = sampler.eager_sample()
            sampler.unlock(drop=False)
            loss = float((values.index(config["x"]) - 41) ** 2)
            sampler.update_trial(trial_id, {"loss": loss}, TrialState.COMPLETE)
            best = min(best, loss)
        bests.append(best)
    return statistics.median(bests)


@pytest.mark.skipif(not _installed("optuna"), reason="needs optuna")
def test_tpe_uses_the_order_of_values_where_a_categorical_cannot() -> None:
    ordered = _median_best({"values": list(range(60))}, "tpe")
    unordered = _median_best({"categorical_values": list(range(60))}, "tpe")
    assert ordered < unordered


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-(10**6), 10**6),
        min_size=1,
        max_size=12,
        unique=True,
    ),
    st.integers(0, 2**16),
)
def test_random_samples_are_always_listed_values(values: list[float], seed: int) -> None:
    ordered = sorted({float(v) for v in values})
    sampler = make_sampler("random", {"x": {"values": ordered}}, seed=seed)
    for _ in range(5):
        _, config, _ = sampler.eager_sample()
        sampler.unlock(drop=True)
        assert config["x"] in ordered
