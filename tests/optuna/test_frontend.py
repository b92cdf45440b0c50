"""HposamplerSampler: hposampler's samplers driving Optuna's own ``study.optimize``."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import optuna
import pytest

from hposampler import SamplerOptionsError, SearchSpaceError, TrialState, UnknownSamplerError
from hposampler_optuna import HposamplerSampler, space_from_distributions

optuna.logging.set_verbosity(optuna.logging.WARNING)

MODEL_BASED = ["tpe", "optuna:cmaes"]
NATIVE = {"tpe", "optuna:cmaes"}  # Optuna's own sampler gets the study
if importlib.util.find_spec("hposampler_skopt") is not None:
    MODEL_BASED.append("skopt:et")
if importlib.util.find_spec("hposampler_nevergrad") is not None:
    MODEL_BASED.append("nevergrad:oneplusone")
if importlib.util.find_spec("hposampler_hyperopt") is not None:
    MODEL_BASED.append("hyperopt:tpe")


def quadratic(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_int("y", 0, 10)
    return (x - 1.0) ** 2 + (y - 3) ** 2


def configs(study: optuna.Study) -> list[tuple[Any, ...]]:
    return [tuple(sorted(t.params.items())) for t in study.trials]


@pytest.mark.parametrize("name", MODEL_BASED)
def test_a_backend_learns_in_optunas_own_optimize(name: str) -> None:
    sampler = HposamplerSampler(name, seed=0)
    study = optuna.create_study(sampler=sampler, direction="minimize")
    study.optimize(quadratic, n_trials=40)
    assert len(study.trials) == 40
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    if name in NATIVE:  # Optuna's own sampler is handed the study (the fast path)
        assert isinstance(sampler._native, optuna.samplers.BaseSampler)
        assert sampler._backend is None
    else:  # the backend proposed every trial after the first (the learned space is x, y)
        assert sampler._backend is not None and len(sampler._ids) == 40
    first_half = sorted(t.value for t in study.trials[:20])[0]
    assert study.best_value <= first_half


def test_same_seed_same_study_same_sequence() -> None:
    runs = []
    for _ in range(2):
        study = optuna.create_study(sampler=HposamplerSampler("tpe", seed=3))
        study.optimize(quadratic, n_trials=15)
        runs.append(configs(study))
    assert runs[0] == runs[1]
    other = optuna.create_study(sampler=HposamplerSampler("tpe", seed=4))
    other.optimize(quadratic, n_trials=15)
    assert configs(other) != runs[0]


def test_maximize_and_multi_objective_directions_come_from_the_study() -> None:
    study = optuna.create_study(sampler=HposamplerSampler("tpe", seed=0), direction="maximize")
    study.optimize(lambda t: -quadratic(t), n_trials=30)
    assert study.best_value > -2.0

    def two(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        return x, (1.0 - x) ** 2

    sampler = HposamplerSampler("optuna:nsga2", seed=0, population_size=8)
    multi = optuna.create_study(sampler=sampler, directions=["minimize", "minimize"])
    multi.optimize(two, n_trials=24)
    assert len(multi.best_trials) >= 2
    own = optuna.create_study(
        sampler=optuna.samplers.NSGAIISampler(seed=0, population_size=8),
        directions=["minimize", "minimize"],
    )
    own.optimize(two, n_trials=24)
    assert configs(multi) == configs(own)  # Optuna's own NSGA-II, trial for trial


@pytest.mark.skipif(importlib.util.find_spec("hposampler_skopt") is None, reason="no skopt")
def test_a_single_objective_backend_refuses_several_directions_clearly() -> None:
    study = optuna.create_study(
        sampler=HposamplerSampler("skopt:gp", seed=0), directions=["minimize", "maximize"]
    )

    def two(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        return x, x

    with pytest.raises(ValueError, match=r"'skopt:gp' optimises a single metric but the study "
                       r"has 2 directions; .* optuna:nsga2"):  # fmt: skip
        study.optimize(two, n_trials=3)  # at once, as Optuna's own samplers refuse
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]


def test_conditional_define_by_run_spaces() -> None:
    def objective(trial: optuna.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["linear", "tree"])
        if kind == "linear":
            c = trial.suggest_float("c", 1e-3, 1e2, log=True)
            return 0.1 * abs(math.log10(c))  # at most 0.3: the better branch
        depth = trial.suggest_int("depth", 1, 8)
        return abs(depth - 4) + 0.5

    sampler = HposamplerSampler("tpe", seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=40)
    # tpe is Optuna's own TPESampler on the study: its relative space is Optuna's
    own = optuna.samplers.TPESampler(seed=0, constant_liar=True)
    last = study.trials[-1]
    assert sampler.infer_relative_search_space(study, last) == own.infer_relative_search_space(
        study, last
    )
    kinds = [t.params["kind"] for t in study.trials]
    assert kinds[20:].count("linear") > kinds[20:].count("tree")  # learned the better branch
    for t in study.trials:  # branch parameters come from the independent sampler
        assert ("c" in t.params) == (t.params["kind"] == "linear")


def test_a_given_search_space_is_proposed_from_the_first_trial() -> None:
    space = {
        "x": {"value_range": [-5.0, 5.0], "value_type": "float"},
        "y": {"value_range": [0, 10], "value_type": "int"},
        "lr": {"value_range": [0.0, 1.0], "value_type": "float", "n_bins": 11},
        "act": {"categorical_values": ["relu", "tanh"]},
    }
    sampler = HposamplerSampler("random", search_space=space, seed=0)

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 0.0, 1.0, step=0.1)
        act = trial.suggest_categorical("act", ["relu", "tanh"])
        return quadratic(trial) + lr + (act == "tanh")

    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=10)
    assert sampler._ids.get(0) == 0  # the backend proposed trial 0 already
    lrs = {t.params["lr"] for t in study.trials}
    assert lrs <= {round(k / 10, 10) for k in range(11)} | {k * 0.1 for k in range(11)}
    dists = {"x": optuna.distributions.FloatDistribution(-5, 5)}
    assert space_from_distributions(dists) == {"x": {"value_range": [-5, 5], "value_type": "float"}}
    given = HposamplerSampler("tpe", search_space=dists, seed=0)
    assert given.infer_relative_search_space(study, study.trials[0]) == dists


def test_failed_and_pruned_trials_reach_the_backend_with_their_states() -> None:
    sampler = HposamplerSampler("grid:ordered", seed=0)  # an adapted (not Optuna's) backend

    def objective(trial: optuna.Trial) -> float:
        value = quadratic(trial)
        if trial.number % 5 == 3:
            raise ValueError("boom")
        if trial.number % 5 == 4:
            trial.report(value, 0)
            raise optuna.TrialPruned()
        return value

    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=20, catch=(ValueError,))
    sampler.sample_relative(study, study.ask(), sampler.infer_relative_search_space(study, None))  # type: ignore[arg-type]
    states = sampler._backend.trial_states
    from hposampler import TrialState

    by_number = {n: states[i] for n, i in sampler._ids.items() if n < 20}
    assert by_number[3] == TrialState.FAIL and by_number[4] == TrialState.PRUNED
    assert by_number[0] == TrialState.COMPLETE


def test_n_jobs_gives_the_backend_its_pending_trials() -> None:
    sampler = HposamplerSampler("tpe", seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(quadratic, n_trials=24, n_jobs=3)
    assert len(study.trials) == 24
    assert len(set(configs(study))) == 24  # the constant liar kept concurrent trials apart


def test_an_rdb_study_resumed_in_another_process_continues(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    script = textwrap.dedent(f"""
        import optuna, sys
        from hposampler_optuna import HposamplerSampler
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(study_name="s", storage={url!r}, load_if_exists=True,
                                    sampler=HposamplerSampler("tpe", seed=0))
        def objective(t):
            return (t.suggest_float("x", -5, 5) - 1) ** 2 + t.suggest_int("y", 0, 10)
        study.optimize(objective, n_trials=int(sys.argv[1]))
    """)
    for n in (12, 12):
        subprocess.run([sys.executable, "-c", script, str(n)], check=True, timeout=600)
    study = optuna.load_study(study_name="s", storage=url)
    assert len(study.trials) == 24
    assert len(set(configs(study))) == 24  # the second process never replayed the first
    # and it learned from it: a fresh, unseeded-from-history run would repeat trial 1
    fresh = optuna.create_study(sampler=HposamplerSampler("tpe", seed=0))
    fresh.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2 + t.suggest_int("y", 0, 10),
                   n_trials=13)  # fmt: skip
    assert configs(fresh)[12] != configs(study)[12]


def test_names_and_options_are_validated_when_built() -> None:
    with pytest.raises(UnknownSamplerError, match="Did you mean 'tpe'"):
        HposamplerSampler("tpee")
    with pytest.raises(SamplerOptionsError, match="n_startup_trials"):
        HposamplerSampler("tpe", n_startup=3)
    with pytest.raises(SearchSpaceError, match="without subspaces"):
        HposamplerSampler("tpe", search_space={"a": {"subspaces": [
            {"value_range": [0, 1]}, {"value_range": [2, 3]}]}})  # fmt: skip


def test_a_huge_grid_reaches_optuna_stepped_never_listed() -> None:
    space = {
        "x": {"value_range": [0, 1], "n_bins": 10**12},
        "k": {"value_range": [0, 10**12], "value_type": "int", "n_bins": 10**12 + 1},
    }
    sampler = HposamplerSampler("tpe", search_space=space, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(
        lambda t: (
            t.suggest_float("x", 0, 1, step=1 / (10**12 - 1)) + 0 * t.suggest_int("k", 0, 10**12)
        ),
        n_trials=4,
    )
    assert len(study.trials) == 4
    assert all(0 <= t.params["k"] <= 10**12 for t in study.trials)
    with pytest.raises(SearchSpaceError, match="^lr: n_bins=1000000000 is too many points"):
        HposamplerSampler("tpe", search_space={
            "lr": {"value_range": [1e-6, 1.0], "log": True, "n_bins": 10**9}})  # fmt: skip


@pytest.mark.parametrize("bad", [[1, 2], "x", 3])
def test_a_search_space_that_is_not_a_dict_is_one_clear_error(bad: Any) -> None:
    with pytest.raises(SearchSpaceError, match="^search_space: expected a dict"):
        HposamplerSampler("tpe", search_space=bad)


@pytest.mark.skipif(
    tuple(int(p) for p in optuna.__version__.split(".")[:2]) < (3, 2),
    reason="Optuna 3.1's cached RDB storage keeps showing its own asked trials RUNNING "
    "after another process told them (a fresh load_study sees them COMPLETE)",
)
def test_optunas_ask_and_tell_across_two_processes_reach_the_backend(tmp_path: Path) -> None:
    """Optuna's own ask/tell with an hposampler backend: asked here, told by another
    process on the shared RDB storage, learnt here before the next proposal."""
    from optuna.distributions import FloatDistribution

    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    space = {"x": FloatDistribution(0.0, 1.0)}
    sampler = HposamplerSampler("tpe", search_space=space, seed=0)
    study = optuna.create_study(study_name="s", storage=url, sampler=sampler)
    asked = [study.ask(space) for _ in range(3)]
    values = {t.number: (t.params["x"] - 0.3) ** 2 for t in asked}
    code = textwrap.dedent(f"""
        import optuna
        study = optuna.load_study(study_name="s", storage={url!r})
        for number, value in {values!r}.items():
            study.tell(number, value)
        """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=1800)
    after = study.ask(space)
    backend = sampler._backend
    told = [s for s in backend.trial_states.values() if s == TrialState.COMPLETE]
    assert len(told) == 3  # the other process's tells reached the backend
    assert after.number == 3 and 0.0 <= after.params["x"] <= 1.0
    study.tell(after, 0.5)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 4


def test_the_grid_enumerates_optunas_int_ranges_and_leaves_floats_independent() -> None:
    sampler = HposamplerSampler("grid:ordered", seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_int("k", 0, 10) + t.suggest_float("x", 0, 1), n_trials=12)
    assert len(study.trials) == 12  # the study was not ended early
    # trial 0 is sampled independently (nothing learnt yet); the grid counts its k as tried
    # and lists the others in order: the first 11 trials hold each int once
    ks = [t.params["k"] for t in study.trials]
    assert sorted(ks[:11]) == list(range(11))
    assert ks[1:11] == [k for k in range(11) if k != ks[0]]
    assert set(sampler._backend.search_space) == {"k"}  # x: independent, never on the grid
    with pytest.raises(SearchSpaceError, match="^x: sampler 'grid:shuffled' enumerates"):
        HposamplerSampler("grid", search_space={"x": {"value_range": [0.0, 1.0]}})


def test_a_backends_internal_state_is_kept_with_the_trial_and_given_back(tmp_path: Path) -> None:
    from hposampler_optuna.frontend import INTERNAL_KEY

    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    space = {"k": {"value_range": [0, 9], "value_type": "int", "n_bins": 10}}

    def run(n: int) -> HposamplerSampler:
        sampler = HposamplerSampler("grid:shuffled", search_space=space, seed=0)
        study = optuna.create_study(study_name="s", storage=url, sampler=sampler,
                                    load_if_exists=True)  # fmt: skip
        study.optimize(lambda t: t.suggest_int("k", 0, 9), n_trials=n)
        return sampler

    run(4)  # a first process
    stored = optuna.load_study(study_name="s", storage=url).trials
    assert all(isinstance(t.system_attrs.get(INTERNAL_KEY), dict) for t in stored)
    again = run(6)  # resumed: the backend is built with every stored internal state
    given = {t.trial_id: t.internal for t in again._backend.trials}
    assert len(given) == 4 and all(isinstance(v, dict) for v in given.values())
    ks = [t.params["k"] for t in optuna.load_study(study_name="s", storage=url).trials]
    assert sorted(ks) == list(range(10))  # one shuffled cycle across both runs


def test_warm_start_from_an_earlier_optuna_study() -> None:
    import statistics

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -5.0, 10.0)
        y = trial.suggest_float("y", 0.0, 15.0)
        return (x - 2.0) ** 2 + (y - 3.0) ** 2

    earlier = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    earlier.optimize(objective, n_trials=40)

    def median_of_first(warm: list[optuna.Study]) -> float:
        sampler = HposamplerSampler("tpe", seed=3, warm_start=warm)
        study = optuna.create_study(sampler=sampler)
        study.optimize(objective, n_trials=8)
        assert len(study.trials) == 8  # the earlier trials are not this study's
        return statistics.median(t.value for t in study.trials[1:])

    assert median_of_first([earlier]) < median_of_first([])
    maximising = optuna.create_study(direction="maximize")
    with pytest.raises(ValueError, match="has directions \\['MAXIMIZE'\\], this study"):
        optuna.create_study(sampler=HposamplerSampler("tpe", warm_start=[maximising])).optimize(
            objective, n_trials=2
        )
    with pytest.raises(ValueError, match="warm_start must be a list of optuna.Study"):
        HposamplerSampler("tpe", warm_start=earlier)


@pytest.mark.parametrize("name", ["tpe", "grid:ordered"])
def test_a_new_sampler_on_the_study_continues_where_the_first_left_off(name: str) -> None:
    # what a sampler knows is kept in the study (params, values, system attributes), so a
    # new HposamplerSampler on it continues; the sampler object itself is never saved
    def objective(trial: optuna.Trial) -> float:
        return (trial.suggest_int("k", 0, 9) - 4) ** 2 + trial.suggest_int("j", 0, 1)

    study = optuna.create_study(sampler=HposamplerSampler(name, seed=0))
    study.optimize(objective, n_trials=8)
    again = optuna.create_study(sampler=HposamplerSampler(name, seed=0))
    for frozen in study.trials:
        again.add_trial(frozen)
    again.optimize(objective, n_trials=12)
    assert len(again.trials) == 20
    if name == "grid:ordered":  # 20 points: each once, none re-proposed by the new sampler
        assert len(set(configs(again))) == 20
