"""hposampler-grid: every point once per cycle, resume, seeds, drops, huge spaces."""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hposampler import (
    SamplerOptionsError,
    SearchSpace,
    SearchSpaceError,
    Trial,
    TrialState,
    compile_space,
    make_sampler,
    parse_search_space,
)
from hposampler.testing.strategies import search_spaces
from hposampler_grid import FeistelPermutation, GridIndex
from support import draw_all


def reference_grid(value: Any) -> list[Any]:
    """Independent, materialising enumeration (ablator's product/union semantics)."""
    if isinstance(value, SearchSpace):
        if value.subspaces is not None:
            return [c for branch in value.subspaces for c in reference_grid(branch)]
        if value.sub_configuration is not None:
            return reference_grid(value.sub_configuration)
        grid = value.grid()
        assert grid is not None
        return list(grid)
    if isinstance(value, dict):
        keys = list(value)
        return [
            dict(zip(keys, combo))
            for combo in itertools.product(*(reference_grid(value[k]) for k in keys))
        ]
    return [value]


def key(config: Any) -> str:
    return json.dumps(config, sort_keys=True)


small_finite_spaces = search_spaces(depth=2, finite=True, max_params=3).filter(
    lambda raw: compile_space(raw).grid_size() <= 200
)


@given(small_finite_spaces, st.integers(0, 2**32), st.sampled_from(["grid", "grid:ordered"]))
def test_each_cycle_visits_every_point_exactly_once(
    raw: dict[str, Any], seed: int, name: str
) -> None:
    expected = reference_grid(parse_search_space(raw))
    size = compile_space(raw).grid_size()
    assert size == len(expected)
    sampler = make_sampler(name, raw, seed=seed)
    first, second = draw_all(sampler, size), draw_all(sampler, size)
    assert sorted(map(key, first)) == sorted(map(key, expected))
    assert sorted(map(key, second)) == sorted(map(key, expected))
    space = sampler.search_space
    for config in first:
        for k, v in space.items():
            if isinstance(v, SearchSpace):
                assert v.contains(config[k])


@given(small_finite_spaces, st.integers(0, 2**16), st.data())
def test_resume_from_any_prefix_yields_exactly_the_rest(
    raw: dict[str, Any], seed: int, data: st.DataObject
) -> None:
    size = compile_space(raw).grid_size()
    full = make_sampler("grid", raw, seed=seed, exhausted="stop")
    sequence = draw_all(full, size)
    cut = data.draw(st.integers(0, size))
    trials = [
        Trial(i, json.loads(json.dumps(c)), TrialState.COMPLETE, internal=full.internal_repr(i))
        for i, c in enumerate(sequence[:cut])
    ]
    resumed = make_sampler("grid", raw, seed=seed, exhausted="stop", trials=trials)
    rest = draw_all(resumed, size - cut)
    assert rest == sequence[cut:]  # the same as continuing uninterrupted
    with pytest.raises(StopIteration):
        resumed.eager_sample()


@settings(max_examples=20)
@given(st.integers(1, 3000), st.integers(0, 2**64))
def test_feistel_permutation_is_a_bijection(n: int, seed: int) -> None:
    perm = FeistelPermutation(n, seed)
    assert sorted(perm(i) for i in range(n)) == list(range(n))


def test_resume_from_another_samplers_trials_matches_configs() -> None:
    space = {"a": {"categorical_values": list(range(6))}, "b": {"categorical_values": [0, 1]}}
    full = make_sampler("grid", space, seed=5, exhausted="stop")
    sequence = draw_all(full, 12)
    foreign = [
        Trial(i, c, TrialState.COMPLETE, internal={"x": 1}) for i, c in enumerate(sequence[:5])
    ]
    resumed = make_sampler("grid", space, seed=5, exhausted="stop", trials=foreign)
    assert draw_all(resumed, 7) == sequence[5:]


def test_seeds_reproduce_and_differ() -> None:
    space = {
        "a": {"value_range": [0, 9], "value_type": "int", "n_bins": 10},
        "b": {"categorical_values": list("abcdefghij")},
    }
    one = draw_all(make_sampler("grid", space, seed=7), 50)
    assert one == draw_all(make_sampler("grid", space, seed=7), 50)
    assert one != draw_all(make_sampler("grid", space, seed=8), 50)
    ordered = draw_all(make_sampler("grid:ordered", space, seed=7), 3)
    assert ordered == [{"a": 0, "b": "a"}, {"a": 0, "b": "b"}, {"a": 0, "b": "c"}]


def test_cycles_use_a_fresh_order_and_stop_raises() -> None:
    space = {"a": {"categorical_values": list(range(20))}}
    sampler = make_sampler("grid", space, seed=1)
    first, second = draw_all(sampler, 20), draw_all(sampler, 20)
    assert first != second and sorted(map(key, first)) == sorted(map(key, second))
    assert sampler.internal_repr(39) == {"index": second[-1]["a"], "cycle": 1}
    stopping = make_sampler("grid", space, seed=1, exhausted="stop")
    draw_all(stopping, 20)
    with pytest.raises(StopIteration):
        stopping.eager_sample()


ABLATOR_OPTIMIZERS = {
    "train_config.optimizer_config": {
        "subspaces": [
            {
                "sub_configuration": {
                    "name": "sgd",
                    "arguments": {
                        "lr": {"value_range": ["0.001", "0.1"], "value_type": "float", "n_bins": 3},
                        "momentum": {"categorical_values": [0.0, 0.9]},
                    },
                }
            },
            {
                "sub_configuration": {
                    "name": "adam",
                    "arguments": {
                        "lr": {
                            "value_range": [1e-4, 1e-2],
                            "value_type": "float",
                            "log": True,
                            "n_bins": 3,
                        },
                        "weight_decay": 0.0,
                    },
                }
            },
        ]
    },
    "model_config.layers": {"value_range": [1, 3], "value_type": "int", "n_bins": 3},
}


def test_ablator_nested_optimizer_space_enumerates_correctly() -> None:
    sampler = make_sampler("grid:ordered", ABLATOR_OPTIMIZERS, exhausted="stop")
    assert sampler.size == (3 * 2 + 3) * 3
    configs = draw_all(sampler, sampler.size)
    sgd = [c for c in configs if c["train_config.optimizer_config"]["name"] == "sgd"]
    adam = [c for c in configs if c["train_config.optimizer_config"]["name"] == "adam"]
    assert len(sgd) == 18 and len(adam) == 9
    assert sorted(
        {c["train_config.optimizer_config"]["arguments"]["lr"] for c in adam}
    ) == pytest.approx([1e-4, 1e-3, 1e-2])  # geomspace, not linspace (ablator ignored log)
    assert configs[0] == {
        "train_config.optimizer_config": {
            "name": "sgd",
            "arguments": {"lr": 0.001, "momentum": 0.0},
        },
        "model_config.layers": 1,
    }
    assert all("momentum" not in c["train_config.optimizer_config"]["arguments"] for c in adam)


def test_a_dropped_point_leaves_its_cycle_and_running_trials_are_not_reissued() -> None:
    space = {"a": {"categorical_values": [1, 2, 3, 4]}}
    sampler = make_sampler("grid", space, seed=3, exhausted="stop")
    tid, dropped, _ = sampler.eager_sample()
    sampler.unlock(drop=True)
    rest = []
    for _ in range(3):
        rest.append(sampler.eager_sample()[:2])
        sampler.unlock(drop=False)
    assert [t for t, _ in rest] == [tid, tid + 1, tid + 2]  # the id is reused
    assert dropped not in [c for _, c in rest]  # the config is not
    assert sorted(c["a"] for _, c in [*rest, (tid, dropped)]) == [1, 2, 3, 4]
    with pytest.raises(StopIteration):
        sampler.eager_sample()
    running = [Trial(0, {"a": 2}, TrialState.RUNNING), Trial(1, {"a": 3}, TrialState.FAIL)]
    resumed = make_sampler("grid", space, seed=3, exhausted="stop", trials=running)
    assert sorted(c["a"] for c in draw_all(resumed, 2)) == [1, 4]


@given(small_finite_spaces, st.integers(0, 2**16), st.data())
def test_dropped_configs_never_return_within_their_cycle(
    space: dict[str, Any], seed: int, data: st.DataObject
) -> None:
    sampler = make_sampler("grid", space, seed=seed, exhausted="cycle")
    size = sampler.size
    kept, dropped = [], []
    for _ in range(size):  # one whole cycle, some points dropped
        _, _, internal = sampler.eager_sample()
        drop = data.draw(st.booleans())
        sampler.unlock(drop=drop)
        (dropped if drop else kept).append(internal["index"])
    assert sorted(kept + dropped) == list(range(size))  # each point once, dropped included
    assert sorted(sampler.trial_states) == list(range(len(kept)))  # dense ids
    _, config, _ = sampler.eager_sample()  # a new cycle may propose them again
    sampler.unlock(drop=False)


def test_resume_tolerates_float_round_off_and_logs_configs_off_the_grid(
    caplog: pytest.LogCaptureFixture,
) -> None:
    space = {"x": {"value_range": [0, 1], "value_type": "float", "n_bins": 4}}
    trials = [
        Trial(0, {"x": 1 / 3 + 1e-13}, TrialState.COMPLETE),
        Trial(1, {"x": 0.5}, TrialState.COMPLETE),
    ]
    with caplog.at_level(logging.WARNING, logger="hposampler.sampler"):
        sampler = make_sampler("grid", space, seed=0, trials=trials, exhausted="stop")
    assert "trial 1: config is not in the search space (x: value 0.5" in caplog.text
    rest = [c["x"] for c in draw_all(sampler, 3)]
    assert sorted(rest) == pytest.approx([0, 2 / 3, 1])
    assert sampler.eager_sample.__self__ is sampler
    with pytest.raises(StopIteration):
        sampler.eager_sample()


def test_resume_in_a_later_cycle_continues_that_cycle() -> None:
    space = {"a": {"categorical_values": list(range(5))}}
    full = make_sampler("grid", space, seed=11)
    sequence = draw_all(full, 13)
    trials = [Trial(i, c, TrialState.COMPLETE) for i, c in enumerate(sequence[:8])]
    resumed = make_sampler("grid", space, seed=11, trials=trials)
    assert draw_all(resumed, 5) == sequence[8:13]
    assert resumed.internal_repr(7) == {"index": sequence[7]["a"], "cycle": 1}


def test_options_and_spaces_are_validated() -> None:
    space = {"a": {"categorical_values": [1]}}
    with pytest.raises(SamplerOptionsError, match="'exhausted' of sampler 'grid:shuffled' must be"):
        make_sampler("grid", space, exhausted="never")
    with pytest.raises(SamplerOptionsError, match="has no option 'n_trials'"):
        make_sampler("grid", space, n_trials=3)
    with pytest.raises(SearchSpaceError, match=r"^m\.lr: value_range needs n_bins"):
        make_sampler("grid", {"m": {"lr": {"value_range": [0, 1], "value_type": "float"}}})


def test_huge_space_samples_lazily_without_repeats() -> None:
    space = {f"p{i}": {"value_range": [0, 9], "value_type": "int", "n_bins": 10} for i in range(12)}
    sampler = make_sampler("grid", space, seed=0)
    assert sampler.size == 10**12
    configs = draw_all(sampler, 2000)
    assert len({key(c) for c in configs}) == 2000
    index = GridIndex(compile_space(space))
    assert index.index(configs[-1]) == sampler.internal_repr(1999)["index"]


@settings(max_examples=25)
@given(
    st.integers(1, 5000) | st.integers(2**40, 2**61), st.integers(0, 2**64), st.integers(0, 3000)
)
def test_vectorised_blocks_equal_the_scalar_permutation(n: int, seed: int, start: int) -> None:
    perm = FeistelPermutation(n, seed)
    start = min(start, n - 1)
    assert perm.block(start, 300) == [perm(i) for i in range(start, min(start + 300, n))]


def test_huge_grids_beyond_the_vector_limit_use_python_ints() -> None:
    n = 10**30
    perm = FeistelPermutation(n, 7)
    block = perm.block(10**25, 50)
    assert block == [perm(i) for i in range(10**25, 10**25 + 50)]
    assert len(set(block)) == 50 and all(0 <= v < n for v in block)


@pytest.mark.parametrize("order", ["grid", "grid:ordered"])
def test_workers_syncing_each_other_share_one_cycle(order: str) -> None:
    space = {
        "a": {"categorical_values": [1, 2, 3, 4]},
        "b": {"categorical_values": ["x", "y", "z"]},
    }
    one = make_sampler(order, space, seed=4, exhausted="stop")
    two = make_sampler(order, space, seed=4, exhausted="stop")
    stored: dict[int, Trial] = {}
    seen = []
    for turn in range(12):  # the workers take turns, each learning the other's trials first
        sampler = (one, two)[turn % 2]
        sampler.sync_trials(list(stored.values()))
        tid, config, internal = sampler.eager_sample()
        sampler.unlock(drop=False)
        assert tid not in stored
        stored[tid] = Trial(tid, config, TrialState.COMPLETE, [], internal)
        seen.append((config["a"], config["b"]))
    assert len(set(seen)) == 12  # every point once, whichever worker sampled it
    two.sync_trials(list(stored.values()))
    with pytest.raises(StopIteration):
        two.eager_sample()
