"""hposampler-optuna: every backend behind the contract, on a real optuna.Study."""

from __future__ import annotations

import importlib.util
import json
import math
from typing import Any

import optuna
import pytest

from hposampler import (
    MetricsError,
    MissingDependencyError,
    SamplerOptionsError,
    Trial,
    TrialState,
    available_samplers,
    make_sampler,
)
from hposampler.testing import space_violation
from hposampler_optuna.plugin import installed_supports

FLAT = {
    "lr": {"value_range": [1e-5, 1e-1], "value_type": "float", "log": True},
    "dropout": {"value_range": [0, 0.5], "value_type": "float", "n_bins": 6},
    "layers": {"value_range": [1, 64], "value_type": "int", "log": True},
    "width": {"value_range": [16, 256], "value_type": "int", "n_bins": 4},
    "act": {"categorical_values": ["relu", 1, None, True, 2.5]},
}
NESTED = {
    "train_config.optimizer_config": {
        "subspaces": [
            {
                "sub_configuration": {
                    "name": "sgd",
                    "arguments": {
                        "lr": {"value_range": [1e-3, 1e-1], "value_type": "float"},
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
                            "n_bins": 5,
                        },
                        "betas": {"categorical_values": [[0.9, 0.99], [0.5, 0.9]]},
                    },
                }
            },
        ]
    },
    "batch": {"value_range": [8, 64], "value_type": "int", "n_bins": 3},
}
FINITE = {
    "a": {"categorical_values": [1, 2, 3]},
    "b": {"value_range": [0, 1], "value_type": "float", "n_bins": 2},
}

BACKENDS = [
    "optuna:tpe",
    "optuna:random",
    "optuna:cmaes",
    "optuna:qmc",
    "optuna:nsga2",
]
# NSGA-III arrived in Optuna 3.2; the plugin supports 3.1.1 (ablator's pin) and later
if installed_supports("NSGAIIISampler"):
    BACKENDS.append("optuna:nsga3")
if importlib.util.find_spec("torch") is not None:  # pragma: no cover - torch not in CI
    BACKENDS.append("optuna:gp")


def contained(space: dict[str, Any], config: dict[str, Any]) -> bool:
    return space_violation(space, config) is None


def loss_of(config: dict[str, Any]) -> float:
    return float(len(json.dumps(config, sort_keys=True)) % 7)


def ablator_loop(sampler: Any, n: int, metric: str = "loss") -> list[tuple[int, dict[str, Any]]]:
    out = []
    for _ in range(n):
        trial_id, config, internal = sampler.eager_sample()
        json.dumps(internal)
        sampler.unlock(drop=False)
        sampler.update_trial(trial_id, {metric: loss_of(config)}, TrialState.COMPLETE)
        out.append((trial_id, config))
    return out


def test_every_backend_is_registered_with_aliases() -> None:
    names = {s.name for s in available_samplers()}
    assert {
        "optuna:tpe",
        "optuna:random",
        "optuna:cmaes",
        "optuna:qmc",
        "optuna:nsga2",
        "optuna:nsga3",
        "optuna:gp",
        "optuna:bruteforce",
    } <= names
    from hposampler import get_sampler_spec

    assert get_sampler_spec("tpe").name == "optuna:tpe"
    assert get_sampler_spec("optuna:random").aliases == ()  # `random` is the core's own


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("space", [FLAT, NESTED], ids=["flat", "nested"])
def test_ablator_loop_keeps_configs_inside_the_space(name: str, space: dict[str, Any]) -> None:
    sampler = make_sampler(name, space, optim_metrics={"loss": "min"}, seed=1)
    trials = ablator_loop(sampler, 14)
    assert [t for t, _ in trials] == list(range(14))
    for _, config in trials:
        assert contained(space, config), config
    if name == "optuna:random":  # draws straight from RandomSampler: no in-memory trials
        assert sampler.study.trials == []
        return
    assert len(sampler.study.trials) == 14
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in sampler.study.trials)


@pytest.mark.parametrize("name", ["optuna:tpe", "optuna:random", "optuna:cmaes"])
def test_same_seed_same_sequence(name: str) -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        sampler = make_sampler(name, NESTED, optim_metrics={"loss": "min"}, seed=seed)
        return [c for _, c in ablator_loop(sampler, 15)]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_subspace_choice_is_a_real_categorical_parameter() -> None:
    sampler = make_sampler("tpe", NESTED, optim_metrics={"loss": "min"}, seed=0)
    trial_id, config, internal = sampler.eager_sample()
    dist = optuna.distributions.json_to_distribution(
        internal["distributions"]["train_config.optimizer_config"]
    )
    assert isinstance(dist, optuna.distributions.CategoricalDistribution)
    assert dist.choices == (0, 1)
    branch = internal["params"]["train_config.optimizer_config"]
    name = config["train_config.optimizer_config"]["name"]
    assert name == ["sgd", "adam"][branch]
    # the other branch's parameters are not asked
    assert not any(f"subspaces[{1 - branch}]" in p for p in internal["params"])


def test_log_and_linear_n_bins_both_become_an_ordered_index() -> None:
    sampler = make_sampler(
        "optuna:random",
        {
            "lr": {"value_range": [1e-4, 1e-1], "value_type": "float", "log": True, "n_bins": 4},
            "d": {"value_range": [0, 1], "value_type": "float", "n_bins": 5},
        },
        seed=0,
    )
    seen = set()
    for _ in range(40):
        _, config, internal = sampler.eager_sample()
        sampler.unlock(drop=False)
        seen.add(config["lr"])
        assert config["d"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert sorted(seen) == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])
    dists = internal["distributions"]
    assert "IntDistribution" in dists["lr"] and "IntDistribution" in dists["d"]


@pytest.mark.parametrize("name", ["random", "optuna:random", "tpe", "optuna:qmc"])
def test_every_float_grid_point_is_reachable(name: str) -> None:
    space = {"b": {"value_range": [-10, 10], "n_bins": 10, "value_type": "float"}}
    sampler = make_sampler(name, space, optim_metrics={"loss": "min"}, seed=0)
    seen = set()
    for _ in range(120):
        tid, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(tid, {"loss": abs(config["b"] - 3)}, TrialState.COMPLETE)
        seen.add(config["b"])
    assert sorted(seen) == pytest.approx([-10 + 20 * i / 9 for i in range(10)])


def test_none_metric_is_the_worst_value_for_its_direction() -> None:
    sampler = make_sampler("tpe", FLAT, optim_metrics={"acc": "max", "loss": "min"}, seed=0)
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    sampler.update_trial(tid, {"acc": None, "loss": None}, TrialState.COMPLETE)
    assert sampler.study.trials[0].values == [-math.inf, math.inf]
    assert sampler.study.directions == [
        optuna.study.StudyDirection.MAXIMIZE,
        optuna.study.StudyDirection.MINIMIZE,
    ]


@pytest.mark.parametrize(
    "name", [n for n in BACKENDS if n in ("optuna:nsga2", "optuna:nsga3", "optuna:tpe")]
)
def test_multi_objective(name: str) -> None:
    sampler = make_sampler(name, FLAT, optim_metrics={"loss": "min", "time": "min"}, seed=0)
    for _ in range(8):
        tid, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(
            tid, {"loss": loss_of(config), "time": config["dropout"]}, TrialState.COMPLETE
        )
    assert len(sampler.study.best_trials) >= 1


def test_single_objective_backends_refuse_two_metrics() -> None:
    with pytest.raises(MetricsError, match="'optuna:cmaes' optimises a single metric"):
        make_sampler("optuna:cmaes", FLAT, optim_metrics={"a": "min", "b": "max"})


def test_drop_tells_fail_and_reuses_the_id() -> None:
    sampler = make_sampler("tpe", FLAT, optim_metrics={"loss": "min"}, seed=0)
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=True)
    tid2, _, internal = sampler.eager_sample()
    sampler.unlock(drop=False)
    assert tid == tid2 == 0
    assert [t.state for t in sampler.study.trials] == [
        optuna.trial.TrialState.FAIL,
        optuna.trial.TrialState.RUNNING,
    ]
    assert internal["number"] == 1


def test_states_map_to_optuna() -> None:
    sampler = make_sampler("tpe", FLAT, optim_metrics={"loss": "min"}, seed=0)
    ids = []
    for _ in range(5):
        tid, _, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        ids.append(tid)
    sampler.update_trial(ids[0], {"loss": 0.5}, TrialState.RUNNING)
    sampler.update_trial(ids[0], {"loss": 0.4}, TrialState.RUNNING)
    sampler.update_trial(ids[0], {"loss": 0.3}, TrialState.PRUNED_POOR_PERFORMANCE)
    sampler.update_trial(ids[1], None, TrialState.FAIL)
    sampler.update_trial(ids[2], None, TrialState.WAITING)
    sampler.update_trial(ids[3], {"loss": 1.0}, TrialState.COMPLETE)
    sampler.update_trial(ids[4], None, TrialState.FAIL_RECOVERABLE)
    sampler.update_trial(ids[4], {"loss": 2.0}, TrialState.COMPLETE)  # the re-run succeeded
    states = [t.state.name for t in sampler.study.trials]
    assert states == ["PRUNED", "FAIL", "RUNNING", "COMPLETE", "FAIL", "COMPLETE"]
    assert sampler.study.trials[0].intermediate_values == {0: 0.5, 1: 0.4}
    assert sampler.study.trials[5].params == sampler.study.trials[4].params


def test_resume_from_json_continues_ids_and_rebuilds_the_study() -> None:
    first = make_sampler("tpe", NESTED, optim_metrics={"loss": "min"}, seed=0)
    stored = []
    for i in range(12):
        tid, config, internal = first.eager_sample()
        first.unlock(drop=False)
        state = TrialState.COMPLETE if i < 10 else TrialState.RUNNING
        metrics = {"loss": loss_of(config)} if i < 10 else None
        first.update_trial(tid, metrics, state)
        stored.append(Trial(tid, config, state, [metrics] if metrics else [], internal))
    records = json.loads(json.dumps([t.to_dict() for t in stored]))
    resumed = make_sampler("tpe", NESTED, optim_metrics={"loss": "min"}, seed=0, trials=records)
    assert [t.state.name for t in resumed.study.trials] == ["COMPLETE"] * 10 + ["RUNNING"] * 2
    assert [t.params for t in resumed.study.trials] == [t.params for t in first.study.trials]
    resumed.update_trial(10, {"loss": 0.0}, TrialState.COMPLETE)  # a pending trial finishes
    trials = ablator_loop(resumed, 5)
    assert [t for t, _ in trials] == [12, 13, 14, 15, 16]
    assert all(contained(NESTED, c) for _, c in trials)


def test_resume_from_another_samplers_trials() -> None:
    grid_space = {
        "x": {"value_range": [0, 1], "value_type": "float", "n_bins": 5},
        "c": {"categorical_values": ["a", "b"]},
    }
    grid = make_sampler("grid", grid_space, seed=0)
    trials = []
    for _ in range(6):
        tid, config, internal = grid.eager_sample()
        grid.unlock(drop=False)
        trials.append(Trial(tid, config, TrialState.COMPLETE, [{"loss": config["x"]}], internal))
    tpe = make_sampler("tpe", grid_space, optim_metrics={"loss": "min"}, seed=0, trials=trials)
    assert len(tpe.study.trials) == 6
    points = [0.0, 0.25, 0.5, 0.75, 1.0]  # Optuna holds a float grid point's index
    assert [points[t.params["x"]] for t in tpe.study.trials] == [t.config["x"] for t in trials]
    assert tpe.eager_sample()[0] == 6


@pytest.mark.skipif(not installed_supports("BruteForceSampler"), reason="Optuna < 3.2")
def test_bruteforce_enumerates_then_stops() -> None:
    sampler = make_sampler("optuna:bruteforce", FINITE, seed=0)
    configs = []
    with pytest.raises(StopIteration):
        for _ in range(10):
            tid, config, _ = sampler.eager_sample()
            sampler.unlock(drop=False)
            sampler.update_trial(tid, None, TrialState.COMPLETE)
            configs.append(config)
    assert sorted((c["a"], c["b"]) for c in configs) == [
        (a, b) for a in (1, 2, 3) for b in (0.0, 1.0)
    ]


def test_options_are_validated_and_passed() -> None:
    with pytest.raises(SamplerOptionsError, match="has no option 'n_startup'.*n_startup_trials"):
        make_sampler("tpe", FLAT, optim_metrics={"loss": "min"}, n_startup=3)
    with pytest.raises(SamplerOptionsError, match="must be int"):
        make_sampler("tpe", FLAT, optim_metrics={"loss": "min"}, n_startup_trials="3")
    sampler = make_sampler(
        "tpe", FLAT, optim_metrics={"loss": "min"}, n_startup_trials=3, multivariate=True
    )
    assert sampler.optuna_sampler._n_startup_trials == 3
    assert sampler.optuna_sampler._constant_liar is True  # our default on every Optuna version


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_gp_without_torch_says_how_to_install_it() -> None:
    with pytest.raises(MissingDependencyError, match=r"pip install torch scipy"):
        make_sampler("optuna:gp", FLAT, optim_metrics={"loss": "min"})


def test_concurrent_pending_trials_differ_with_constant_liar() -> None:
    sampler = make_sampler(
        "tpe",
        {"x": {"value_range": [0, 1], "value_type": "float"}},
        optim_metrics={"loss": "min"},
        seed=0,
        n_startup_trials=2,
    )
    for _ in range(4):
        tid, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(tid, {"loss": config["x"]}, TrialState.COMPLETE)
    pending = []
    for _ in range(4):
        _, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        pending.append(config["x"])
    assert len(set(pending)) == 4


def test_qmc_workers_syncing_each_other_never_repeat_a_point() -> None:
    space = {"x": {"value_range": [0, 1]}, "y": {"value_range": [0, 1]}}
    one, two = (make_sampler("optuna:qmc", space, optim_metrics={"loss": "min"}, seed=0)
                for _ in range(2))  # fmt: skip
    stored: dict[int, Trial] = {}
    seen = []
    for turn in range(16):  # uneven turns: one worker sometimes samples twice in a row
        sampler = one if turn % 3 else two
        sampler.sync_trials(list(stored.values()))
        tid, config, internal = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(tid, {"loss": config["x"]}, TrialState.COMPLETE)
        stored[tid] = Trial(tid, config, TrialState.COMPLETE, [{"loss": config["x"]}], internal)
        seen.append((config["x"], config["y"]))
    assert len(set(seen)) == 16


def test_a_synced_trial_without_qmc_state_never_rewinds_the_sequence() -> None:
    space = {"x": {"value_range": [0, 1]}, "y": {"value_range": [0, 1]}}
    first = make_sampler("optuna:qmc", space, optim_metrics={"loss": "min"}, seed=0)
    trials = []
    for _ in range(5):
        tid, config, internal = first.eager_sample()
        first.unlock(drop=False)
        first.update_trial(tid, {"loss": 0.5}, TrialState.COMPLETE)
        trials.append(Trial(tid, config, TrialState.COMPLETE, [{"loss": 0.5}], internal))
    worker = make_sampler("optuna:qmc", space, optim_metrics={"loss": "min"}, seed=0,
                          trials=trials)  # fmt: skip
    seen = {(t.config["x"], t.config["y"]) for t in trials}
    for turn in range(4):
        tid, config, _ = worker.eager_sample()
        worker.unlock(drop=False)
        worker.update_trial(tid, {"loss": 0.5}, TrialState.COMPLETE)
        assert (config["x"], config["y"]) not in seen
        seen.add((config["x"], config["y"]))
        if turn == 1:  # a trial another sampler added to the shared study, no QMC state
            foreign = Trial(tid + 1, {"x": 0.123, "y": 0.456}, TrialState.COMPLETE,
                            [{"loss": 0.9}])  # fmt: skip
            worker.sync_trials([foreign])


@pytest.mark.parametrize(
    ("name", "module", "class_name", "since"),
    [
        ("optuna:nsga3", optuna.samplers, "NSGAIIISampler", "3.2"),
        ("optuna:bruteforce", optuna.samplers, "BruteForceSampler", "3.2"),
        # optuna:gp (3.6) asks for torch first, which CI does not install
    ],
)
def test_a_sampler_the_installed_optuna_lacks_is_listed_and_refused_naming_the_release(
    monkeypatch: pytest.MonkeyPatch, name: str, module: Any, class_name: str, since: str
) -> None:
    from hposampler import MissingDependencyError

    monkeypatch.delattr(module, class_name, raising=False)  # as on Optuna 3.1.1
    assert name in {s.name for s in available_samplers()}
    space = {"x": {"categorical_values": [1, 2]}}  # finite, for the brute-force sampler
    with pytest.raises(MissingDependencyError) as info:
        make_sampler(name, space, optim_metrics={"loss": "min", "t": "min"}, seed=0)
    message = str(info.value)
    assert f"needs optuna >= {since}" in message and optuna.__version__ in message
    assert f"pip install 'optuna>={since}'" in message and "\n" not in message


def test_an_option_of_a_newer_optuna_is_dropped_at_its_default_and_refused_otherwise() -> None:
    # e.g. CmaEsSampler's lr_adapt on Optuna 3.1: passing the declared default is the
    # same as leaving the option out; asking for anything else names the installed Optuna
    from hposampler import OptionSpec
    from hposampler_optuna.plugin import _configured

    future = (OptionSpec("from_a_newer_optuna", False, (bool,), "not in this Optuna"),)
    cls, kwargs = _configured("cmaes", "CmaEsSampler", future, {"from_a_newer_optuna": False})
    assert cls is optuna.samplers.CmaEsSampler and "from_a_newer_optuna" not in kwargs
    with pytest.raises(SamplerOptionsError, match="'from_a_newer_optuna' of sampler "
                       "'optuna:cmaes' is not accepted by the installed optuna"):  # fmt: skip
        _configured("cmaes", "CmaEsSampler", future, {"from_a_newer_optuna": True})


def _random_run(cls: Any, space: dict[str, Any], n: int, trials: Any = None) -> list[Any]:
    sampler = cls(space, make_sampler=lambda seed: optuna.samplers.RandomSampler(seed=seed),
                  optim_metrics={"loss": "min"}, seed=3, trials=trials)  # fmt: skip
    out = []
    for _ in range(n):
        trial_id, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(trial_id, {"loss": 1.0}, TrialState.COMPLETE)
        out.append((trial_id, config, sampler.internal_repr(trial_id)))
    return out


@pytest.mark.parametrize("space", [FLAT, NESTED], ids=["flat", "nested"])
def test_random_draws_without_an_optuna_trial_are_the_in_memory_studys(
    space: dict[str, Any],
) -> None:
    from hposampler_optuna.sampler import IndependentDraws, OptunaSampler

    plain = _random_run(OptunaSampler, space, 40)
    direct = _random_run(IndependentDraws, space, 40)
    assert [c for _, c, _ in direct] == [c for _, c, _ in plain]
    assert [i for _, _, i in direct] == [{k: v for k, v in i.items() if k != "number"}
                                         for _, _, i in plain]  # fmt: skip
    # either path resumes from the other's stored trials and continues the stream
    history = [Trial(t, c, TrialState.COMPLETE, [{"loss": 1.0}], internal=i)
               for t, c, i in plain[:13]]  # fmt: skip
    resumed = _random_run(IndependentDraws, space, 10, history)
    assert [(t, c) for t, c, _ in resumed] == [(t, c) for t, c, _ in plain[13:23]]
    back = [Trial(t, c, TrialState.COMPLETE, [{"loss": 1.0}], internal=i) for t, c, i in direct[:7]]
    assert [c for _, c, _ in _random_run(OptunaSampler, space, 5, back)] == [
        c for _, c, _ in plain[7:12]
    ]
    assert type(make_sampler("optuna:random", space, seed=0)) is IndependentDraws
