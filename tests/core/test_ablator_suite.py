"""The behaviours ablator's own sampler test-suite asserts, through hposampler's API.

ablator 0.0.1b3's ``tests/sampler/test_sampler.py`` builds these spaces with its
``SearchSpace`` objects; here they come from ``ablator_shapes`` (same shapes).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from ablator_shapes import FieldType, SearchSpace
from hposampler import SearchSpaceError, TrialState, make_sampler
from hposampler.compat.ablator import GridSampler, OptunaSampler


def search_space(n_bins: int | None = None) -> dict[str, Any]:
    """ablator's ``search_space()``: constants, a categorical name and ranges without types."""
    adam = {"lr": {"value_range": (0, 1), "n_bins": n_bins}, "wd": 0.9}
    return {
        "train_config.optimizer_config": SearchSpace(subspaces=[
            {"sub_configuration": {"name": "sgd", "arguments": {"lr": 0.1}}},
            {"sub_configuration": {"name": "adam", "arguments": adam}},
            {"sub_configuration": {"name": {"categorical_values": ["adam", "sgd"]},
                                   "arguments": adam}},
        ]),
        "b": SearchSpace(value_range=(-10, 10), n_bins=n_bins),
    }  # fmt: skip


def grid_search_space(n_bins: int = 10) -> dict[str, Any]:
    """ablator's ``grid_search_space()``: nested subspaces, 21 000 points with 10 bins."""
    d = {"value_range": (0, 1), "n_bins": n_bins}
    return {
        "a": SearchSpace(subspaces=[
            {"sub_configuration": {"d": d, "c": 0.9}},
            {"sub_configuration": {"d": d, "c": {"subspaces": [
                {"sub_configuration": {"i": d}}, {"sub_configuration": {"i": d}},
            ]}}},
        ]),
        "b": SearchSpace(value_range=(-10, 10), n_bins=n_bins),
        "c": SearchSpace(value_range=(-10, 10), n_bins=n_bins),
    }  # fmt: skip


@pytest.mark.parametrize("algo", ["grid", "tpe", "random"])
def test_sampled_configs_have_ablators_shape_and_internal_state(algo: str) -> None:
    if algo == "grid":
        sampler: Any = GridSampler(search_space=search_space(n_bins=10), configs=[], seed=1)
    else:
        sampler = OptunaSampler(search_space=search_space(), optim_metrics={"loss": "min"},
                                search_algo=algo, trials=[], seed=1)  # fmt: skip
    for i in range(100):
        trial_id, config, kwargs = sampler.eager_sample()
        if algo == "grid":
            assert kwargs is None
        else:
            assert set(kwargs) == {"_opt_params", "_opt_distributions_kwargs",
                                   "_opt_distributions_types"}  # fmt: skip
        assert trial_id == i
        assert sampler.tree.violation(config) is None
        opt = config["train_config.optimizer_config"]
        assert opt["name"] in ("sgd", "adam") and set(opt) == {"name", "arguments"}
        assert opt["arguments"]["lr"] == 0.1 or 0 <= opt["arguments"]["lr"] <= 1
        sampler.unlock(drop=False)
        sampler.update_trial(trial_id, {"loss": config["b"] ** 2}, TrialState.COMPLETE)


def test_a_range_without_n_bins_is_refused_by_the_grid_with_ablators_message() -> None:
    with pytest.raises(SearchSpaceError) as info:
        GridSampler(search_space={"b": SearchSpace(value_range=(-10, 10))})
    assert str(info.value) == (
        "Invalid search space for b. `n_bins` must be specified for"
        " SearchSpace(value_range=(-10.0, 10.0), value_type='float')."
    )  # ablator's test_grid_sampler asserts exactly this
    assert isinstance(info.value, ValueError) and info.value.path == "b"
    nested = {"a": SearchSpace(subspaces=[{"sub_configuration": {"d": {"value_range": (0, 1)}}}])}
    with pytest.raises(SearchSpaceError, match=r"^Invalid search space for a\. Invalid search "
                       r"space for d\. `n_bins` must be specified"):  # fmt: skip
        GridSampler(search_space=nested)


def test_the_grid_space_has_21000_points_and_resuming_skips_the_sampled() -> None:
    sampler = GridSampler(grid_search_space(), seed=0)
    assert sampler._inner.size == 21000  # type: ignore[attr-defined]
    cfgs = []
    for _ in range(100):
        _, cfg, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        cfgs.append(cfg)
    resumed = GridSampler(grid_search_space(), configs=cfgs, seed=0)
    rest = []
    for _ in range(20900):
        _, cfg, _ = resumed.eager_sample()
        resumed.unlock(drop=False)
        rest.append(json.dumps(cfg, sort_keys=True))
    # the two inner branches of "c" are alike, so 21 000 points give fewer distinct
    # dicts; as multisets, the 100 sampled plus the resumed 20 900 are one full cycle
    cycle = GridSampler(grid_search_space(), seed=5)
    full = Counter(json.dumps(cycle.eager_sample()[1], sort_keys=True)
                   for _ in range(21000) if cycle.unlock(drop=False) is None)  # fmt: skip
    assert Counter(json.dumps(c, sort_keys=True) for c in cfgs) + Counter(rest) == full


def test_a_dropped_grid_config_leaves_the_pool_and_its_id_is_reused() -> None:
    space = {"b": SearchSpace(value_range=(-10, 10), n_bins=20)}
    sampler = GridSampler(search_space=space, seed=0)
    assert len(sampler.configs) == 20
    first, *_ = sampler.eager_sample()
    sampler.unlock(drop=False)
    dropped_ids, dropped = [], []
    for _ in range(2):  # two invalid configs in a row, as ExperimentState drops them
        trial_id, cfg, _ = sampler.eager_sample()
        sampler.unlock(drop=True)
        dropped_ids.append(trial_id)
        dropped.append(cfg["b"])
    assert first == 0 and dropped_ids == [1, 1]
    assert len(sampler.configs) == 20 - 3 and len(sampler.sampled_configs) == 1
    rest = []
    for _ in range(17):
        trial_id, cfg, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        rest.append(cfg["b"])
    assert not set(dropped) & set(rest)  # never proposed again in this cycle
    assert len(sampler.configs) == 0
    sampler.eager_sample()  # a new cycle (ablator's reset)
    sampler.unlock(drop=False)
    assert len(sampler.configs) == 19 and len(sampler.sampled_configs) == 19


def test_experiment_state_skipping_invalid_grid_configs_reaches_the_valid_ones() -> None:
    # ExperimentState(ignore_invalid_params=True) drops a config it cannot build and asks
    # again, 20 times at most: the same invalid point must not come back each time
    space = {"b": SearchSpace(value_range=(0, 9), value_type=FieldType.discrete, n_bins=10)}
    sampler = GridSampler(search_space=space, seed=3)
    valid = []
    for _ in range(5):
        for _attempt in range(20):
            trial_id, cfg, _ = sampler.eager_sample()
            ok = cfg["b"] % 2 == 0  # odd values are "misconfigured"
            sampler.unlock(drop=not ok)
            if ok:
                valid.append((trial_id, cfg["b"]))
                break
        else:
            pytest.fail("reached the limit of misconfigured trials")
    assert [t for t, _ in valid] == list(range(5))
    assert sorted(b for _, b in valid) == [0, 2, 4, 6, 8]


def expand(space: dict[str, Any]) -> list[Any]:
    return list(make_sampler("grid:ordered", space, exhausted="stop").tree.params["b"].grid())


def test_hposampler_grid_expansions_round_where_ablator_follows_numpy() -> None:
    # make_sampler("grid") keeps its own choice (rounding); compat.ablator follows NumPy
    floats = expand({"b": SearchSpace(value_range=(-10, 10), n_bins=10)})
    assert len(floats) == 10 and floats[0] == -10 and floats[-1] == 10
    assert floats == pytest.approx([-10 + 20 * i / 9 for i in range(10)])  # linspace
    ints = expand({"b": SearchSpace(value_range=(-10, 10), value_type="int", n_bins=10)})
    assert len(ints) == 10 and ints[0] == -10 and ints[-1] == 10
    assert all(isinstance(v, int) for v in ints)
    assert not any(abs(f - i) < 1e-9 for f, i in zip(floats[1:-1], ints[1:-1]))  # rounded
    every = expand({"b": SearchSpace(value_range=(-10, 10), value_type="int", n_bins=1000)})
    assert every == list(range(-10, 11))  # more bins than ints: every int once
