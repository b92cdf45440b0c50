"""hposampler.compat.ablator follows ablator 0.0.1b3's observable behaviour, row by row.

Each test names the behaviour (docs/ablator.md has the same table). The spaces
are built from ``ablator_shapes`` objects, as ablator's code passes them.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from ablator_shapes import FieldType, SearchSpace, TrialRow
from hposampler import Trial, TrialState
from hposampler.compat.ablator import GridSampler, OptunaSampler
from hposampler.errors import (
    MetricsError,
    SearchSpaceError,
    UnknownSamplerError,
    UnknownTrialError,
)

optuna = pytest.importorskip("optuna")


def nested_space(n_bins: int | None = 10) -> dict[str, Any]:
    """ablator's grid_search_space shape: nested subspaces, overlapping branches."""
    d = {"value_range": (0, 1), "n_bins": n_bins}
    return {
        "a": SearchSpace(subspaces=[
            {"sub_configuration": {"d": d, "c": 0.9}},
            {"sub_configuration": {"d": d, "c": {"subspaces": [
                {"sub_configuration": {"i": d}}, {"sub_configuration": {"i": d}},
            ]}}},
        ]),
        "b": SearchSpace(value_range=(-10, 10), n_bins=n_bins),
    }  # fmt: skip


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def sample(sampler: Any, n: int, loss: Any = None) -> list[tuple[int, dict[str, Any], Any]]:
    out = []
    for _ in range(n):
        trial_id, config, internal = sampler.eager_sample()
        sampler.unlock(drop=False)
        if loss is not None:
            sampler.update_trial(trial_id, {"loss": loss(config)}, TrialState.COMPLETE)
        out.append((trial_id, config, internal))
    return out


# -- 2. the stored _opt_* encoding ---------------------------------------------------------


@pytest.mark.parametrize("algo", ["tpe", "random"])
def test_opt_params_are_named_and_valued_as_ablator_stores_them(algo: str) -> None:
    sampler = OptunaSampler(algo, nested_space(), {"loss": "min"}, trials=[], seed=2)
    names = set()
    for _, config, internal in sample(sampler, 30):
        flat = flatten(config)
        for name, value in internal["_opt_params"].items():
            names.add(name)
            # ablator's own check: drop the branch suffixes and find the config's value
            assert flat[name.replace("_0", "").replace("_1", "")] == value
        assert set(internal) == {
            "_opt_params", "_opt_distributions_kwargs", "_opt_distributions_types"
        }  # fmt: skip
        assert set(internal["_opt_params"]) == set(internal["_opt_distributions_types"])
        json.dumps(internal)
    assert names <= {"a_0.d", "a_1.d", "a_1.c_0.i", "a_1.c_1.i", "b"}
    assert {"a_0.d", "a_1.d", "b"} <= names


def test_opt_distributions_are_ablators_optuna_distributions() -> None:
    space = {
        "f": SearchSpace(value_range=(0, 2), n_bins=3),  # step 2/3: Optuna moves the top
        "g": SearchSpace(value_range=("1e-3", "1"), log=True),
        "k": SearchSpace(value_range=(0, 10), value_type=FieldType.discrete, n_bins=3),
        "n": SearchSpace(value_range=(1, 64), value_type=FieldType.discrete, log=True),
        "c": SearchSpace(categorical_values=["x", "y"]),
    }
    sampler = OptunaSampler("tpe", space, {"loss": "min"}, seed=0)
    _, config, internal = sampler.eager_sample()
    expected = {
        "f": optuna.distributions.FloatDistribution(0.0, 2.0, step=2 / 3),
        "g": optuna.distributions.FloatDistribution(1e-3, 1.0, log=True),
        "k": optuna.distributions.IntDistribution(0, 10, step=3),
        "n": optuna.distributions.IntDistribution(1, 64, log=True),
        "c": optuna.distributions.CategoricalDistribution(["x", "y"]),
    }
    for name, dist in expected.items():
        assert internal["_opt_distributions_types"][name] == type(dist).__name__
        assert internal["_opt_distributions_kwargs"][name] == dist.__dict__
        # what ablator does when it resumes (by eval of the type name; here by lookup)
        rebuilt = getattr(optuna.distributions, type(dist).__name__)(
            **internal["_opt_distributions_kwargs"][name]
        )
        assert rebuilt == dist
        value = internal["_opt_params"][name]
        assert rebuilt._contains(rebuilt.to_internal_repr(value))
        assert config[name] == value


# -- 3. n_bins under tpe and random: ablator's step ---------------------------------------------


@pytest.mark.parametrize("algo", ["tpe", "random", "optuna:cmaes"])
def test_n_bins_is_ablators_optuna_step_for_every_algorithm(algo: str) -> None:
    space = {
        "x": SearchSpace(value_range=(0, 1), n_bins=10),  # step 0.1: 11 points
        "k": SearchSpace(value_range=(0, 10), value_type=FieldType.discrete, n_bins=3),
    }
    sampler = OptunaSampler(algo, space, {"loss": "min"}, seed=1)
    seen = sample(sampler, 200, loss=lambda c: (c["x"] - 0.5) ** 2 + c["k"])
    xs = {round(c["x"], 9) for _, c, _ in seen}
    assert xs <= {round(i / 10, 9) for i in range(11)}
    if algo != "optuna:cmaes":  # CMA-ES converges; the others reach both ends
        assert {0.0, 1.0} <= xs and len(xs) >= 9
    assert {c["k"] for _, c, _ in seen} <= {0, 3, 6, 9}  # step (10 - 0) // 3 = 3; 10 dropped


def test_log_with_n_bins_is_refused_as_ablators_optuna_refuses_it() -> None:
    space = {"lr": SearchSpace(value_range=("1e-4", "1"), log=True, n_bins=5)}
    with pytest.raises(SearchSpaceError, match=r"^lr: log with n_bins is not supported"):
        OptunaSampler("tpe", space, {"loss": "min"})


# -- 4. grid values: NumPy's linspace with ablator's dtype ---------------------------------------


def test_int_grids_are_numpys_integer_linspace_and_float_grids_its_linspace() -> None:
    space = {"b": SearchSpace(value_range=(-10, 10), value_type=FieldType.discrete, n_bins=10)}
    sampler = GridSampler(space, seed=0)
    values = sorted(c["b"] for _, c, _ in sample(sampler, 10))
    assert values == sorted(set(np.linspace(-10, 10, 10, dtype=int).tolist()))
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":  # NumPy 2 floors, 1.x truncates
        assert values == [-10, -8, -6, -4, -2, 1, 3, 5, 7, 10]
    assert all(isinstance(v, int) for v in values)
    many = GridSampler({"b": SearchSpace(value_range=(-10, 10), value_type="int", n_bins=1000)})
    assert len(many.configs) == 21
    floats = sorted(c["b"] for _, c, _ in sample(GridSampler({"b": SearchSpace(
        value_range=(-10, 10), n_bins=10)}), 10))  # fmt: skip
    assert floats == np.linspace(-10, 10, 10).tolist()


def test_the_grid_counts_overlapping_branches_as_ablator_does() -> None:
    sampler = GridSampler(nested_space(), seed=0)
    assert len(sampler.configs) == 2100  # (10 + 10 * 20) * 10, duplicates included
    done = [c for _, c, _ in sample(sampler, 100)]
    again = GridSampler(nested_space(), configs=done, seed=0)
    assert len(again.configs) == len(sampler.configs) == 2000
    assert again.sampled_configs == done and len(sampler.sampled_configs) == 100


# -- 5. the search space as given --------------------------------------------------------------


def test_search_space_is_the_mapping_of_ablators_objects_given() -> None:
    space = nested_space()
    for sampler in (GridSampler(space), OptunaSampler("tpe", space, {"loss": "min"})):
        assert sampler.search_space is space
        assert all(isinstance(v, SearchSpace) for v in sampler.search_space.values())


# -- 6. errors and edge cases ---------------------------------------------------------------------


def test_an_unknown_search_algo_is_ablators_value_error_and_our_lookup_error() -> None:
    with pytest.raises(ValueError, match="'tpee' is not a valid SearchAlgo") as info:
        OptunaSampler("tpee", {}, {"loss": "min"})
    assert isinstance(info.value, UnknownSamplerError)
    assert "Did you mean 'tpe'" in str(info.value)


def test_optim_metrics_are_required_with_ablators_message() -> None:
    with pytest.raises(MetricsError, match=r"Need to specify 'optim_metrics' with sampler = `tpe`"):
        OptunaSampler("tpe", {}, {})


def test_an_empty_search_space_samples_empty_configs() -> None:
    sampler = OptunaSampler("tpe", {}, {"loss": "min"}, seed=0)
    trials = sample(sampler, 3, loss=lambda c: 1.0)
    assert [(t, c) for t, c, _ in trials] == [(0, {}), (1, {}), (2, {})]
    assert trials[0][2]["_opt_params"] == {}
    grid = GridSampler({})
    assert [c for _, c, _ in sample(grid, 2)] == [{}, {}]
    rows = [Trial(0, {}, TrialState.COMPLETE, [{"loss": 1.0}])]
    assert OptunaSampler("random", {}, {"loss": "min"}, rows).eager_sample()[:2] == (1, {})


def test_an_unknown_trial_is_ablators_runtime_error_with_its_message() -> None:
    sampler = OptunaSampler("tpe", nested_space(), {"loss": "min"})
    with pytest.raises(RuntimeError) as info:
        sampler.update_trial(0, {"loss": 1.0}, TrialState.COMPLETE)
    assert str(info.value) == "Trial 0 was not found."
    assert isinstance(info.value, UnknownTrialError)
    with pytest.raises(UnknownTrialError):
        sampler.internal_repr(7)


def test_metric_names_updates_and_drops_as_ablators_study_records_them() -> None:
    sampler = OptunaSampler("tpe", nested_space(), {"loss": "min"}, seed=0)
    sampler.eager_sample()
    with pytest.raises(Exception):
        sampler.eager_sample()  # still locked
    sampler.unlock(drop=True)
    assert len(sampler._study.trials) == 0
    for _ in range(2):
        trial_id, *_ = sampler.eager_sample()
        sampler.unlock(drop=False)
    assert trial_id == 1 and len(sampler._study.trials) == 2
    with pytest.raises(ValueError, match=r"metric keys \{'loss2'\} do not match optim_keys "
                       r"\{'loss'\}"):  # fmt: skip
        sampler.update_trial(trial_id, {"loss2": 0.01}, TrialState.COMPLETE)
    sampler.update_trial(trial_id, {"loss": 0.01}, TrialState.COMPLETE)
    assert sampler._study.trials[trial_id].values == [0.01]
    sampler.update_trial(trial_id, {"loss": None}, TrialState.COMPLETE)  # again, as ablator
    assert sampler._study.trials[trial_id].values == [math.inf]
    sampler.update_trial(trial_id, {"other": 1}, TrialState.PRUNED)  # not recorded: ignored
    two = OptunaSampler("tpe", nested_space(), {"l1": "min", "l2": "max"}, seed=0)
    tid, *_ = two.eager_sample()
    two.unlock(drop=False)
    two.update_trial(tid, {"l2": 2, "l1": 1}, TrialState.COMPLETE)
    assert two._study.trials[tid].values == [1, 2]  # in optim_metrics' order


def test_the_grid_ignores_updates_as_ablators_does() -> None:
    grid = GridSampler({"b": SearchSpace(value_range=(0, 1), n_bins=3)})
    grid.update_trial(42, {"anything": 1}, TrialState.COMPLETE)  # a no-op, no error
    assert grid.internal_repr(0) is None


# -- resume, both ways -------------------------------------------------------------------------


def ablator_rows(n: int) -> list[TrialRow]:
    """Rows as ablator's OptunaSampler writes them (names a_1.d, FloatDistribution steps)."""
    rows = []
    for i in range(n):
        d = round((i % 11) / 10, 10)
        branch = i % 2
        config: dict[str, Any] = {"a": {"d": d, "c": 0.9} if branch == 0 else
                                  {"d": d, "c": {"i": 0.5}}, "b": float(-10 + 2 * (i % 11))}  # fmt: skip
        row = TrialRow(i, config)
        step = {"step": 0.1, "low": 0.0, "high": 1.0, "log": False}
        params = {f"a_{branch}.d": d, "b": config["b"]}
        kwargs = {f"a_{branch}.d": step, "b": {"step": 2.0, "low": -10.0, "high": 10.0,
                                                 "log": False}}  # fmt: skip
        if branch:
            params["a_1.c_0.i"] = 0.5
            kwargs["a_1.c_0.i"] = step
        row._opt_params = params
        row._opt_distributions_kwargs = kwargs
        row._opt_distributions_types = dict.fromkeys(params, "FloatDistribution")
        row.metrics = [{"loss": abs(d - 0.3) + i / 100}]
        row.state = TrialState.COMPLETE
        rows.append(row)
    return rows


@pytest.mark.parametrize("algo", ["tpe", "random"])
def test_a_study_stored_by_ablators_sampler_resumes_here(algo: str) -> None:
    rows = ablator_rows(12)
    sampler = OptunaSampler(algo, nested_space(), {"loss": "min"}, rows, seed=0)
    assert len(sampler._study.trials) == 12 and sampler._study.trials[3].values == [0.03]
    new = sample(sampler, 10, loss=lambda c: abs(c["a"]["d"] - 0.3))
    assert [t for t, _, _ in new] == list(range(12, 22))
    fresh = sample(OptunaSampler(algo, nested_space(), {"loss": "min"}, seed=0), 10)
    assert [c for _, c, _ in new] != [c for _, c, _ in fresh]  # continued, not replayed
    for _, _, internal in new:  # and every new trial is stored as ablator would
        assert set(internal["_opt_params"]) <= {"a_0.d", "a_1.d", "a_1.c_0.i", "a_1.c_1.i", "b"}


def test_a_study_stored_here_resumes_on_ablators_terms() -> None:
    # what ablator's _Trial does with our rows: rebuild each distribution from its type
    # name and attributes, and find every parameter's value inside it
    sampler = OptunaSampler("tpe", nested_space(), {"loss": "min"}, seed=4)
    rows = []
    for trial_id, config, internal in sample(sampler, 15, loss=lambda c: c["b"] ** 2):
        row = TrialRow(trial_id, config)
        row._opt_params = internal["_opt_params"]
        row._opt_distributions_kwargs = internal["_opt_distributions_kwargs"]
        row._opt_distributions_types = internal["_opt_distributions_types"]
        rows.append(row)
        for name, value in row._opt_params.items():
            cls = getattr(optuna.distributions, row._opt_distributions_types[name])
            dist = cls(**row._opt_distributions_kwargs[name])
            assert dist._contains(dist.to_internal_repr(value)), (name, value, dist)
    # and it resumes here too, continuing after the last id without replaying
    again = OptunaSampler("tpe", nested_space(), {"loss": "min"}, rows, seed=4)
    assert again.eager_sample()[0] == 15


def test_a_backend_that_is_not_optunas_keeps_its_own_state_through_ablators_rows() -> None:
    # ablator stores only the three _opt_* fields; another backend's own state (here the
    # grid's point index, which tells overlapping branches apart) rides in _opt_params
    space = nested_space(n_bins=2)  # ablator's step 0.5: 3 points a range, 63 in all
    sampler = OptunaSampler("grid", space, {"loss": "min"}, seed=0)
    rows = []
    for trial_id, config, internal in sample(sampler, 12, loss=lambda c: c["b"]):
        assert internal["_opt_params"]["__hposampler_internal__"]["index"] >= 0
        row = TrialRow(trial_id, config)
        row._opt_params = internal["_opt_params"]
        row._opt_distributions_kwargs = internal["_opt_distributions_kwargs"]
        row._opt_distributions_types = internal["_opt_distributions_types"]
        row.state = TrialState.COMPLETE
        rows.append(row)
    resumed = OptunaSampler("grid", space, {"loss": "min"}, rows, seed=0)
    indices = [r._opt_params["__hposampler_internal__"]["index"] for r in rows]
    assert [resumed._indices[r.trial_num][0] for r in rows] == indices  # the stored points
    rest = [i["_opt_params"]["__hposampler_internal__"]["index"] for _, _, i in sample(resumed, 8)]
    assert resumed.size == 63 and len(set(indices + rest)) == 20  # nothing repeats
    tpe = OptunaSampler("tpe", space, {"loss": "min"}, seed=0)
    assert "__hposampler_internal__" not in tpe.eager_sample()[2]["_opt_params"]
