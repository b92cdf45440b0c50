"""HposamplerSearch: hposampler's samplers as Ray Tune searchers, in real Tuners."""

from __future__ import annotations

import importlib.util
import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")
tune = pytest.importorskip("ray.tune")

from ray.tune.schedulers import ASHAScheduler  # noqa: E402

from hposampler import (  # noqa: E402
    MetricsError,
    SamplerOptionsError,
    SearchSpaceError,
    TrialState,
    UnknownSamplerError,
    available_samplers,
)
from hposampler.errors import StorageError, StudyError  # noqa: E402
from hposampler_ray import HposamplerSearch, space_from_tune  # noqa: E402

pytestmark = pytest.mark.slow

SPACE = {
    "x": {"value_range": [0.0, 1.0], "value_type": "float"},
    "width": {"value_range": [8, 64], "value_type": "int"},
}
BACKENDS = ["tpe", "grid", "auto"]
if importlib.util.find_spec("hposampler_nevergrad") is not None:
    BACKENDS.append("nevergrad:ngopt")
if importlib.util.find_spec("hposampler_hyperopt") is not None:
    BACKENDS.append("hyperopt:tpe")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False)  # fmt: skip
    yield
    ray.shutdown()


def once(config: dict[str, Any]) -> None:
    tune.report({"loss": (config["x"] - 0.3) ** 2 + config["width"] / 1000})


def epochs(config: dict[str, Any]) -> None:  # a learning curve that ASHA can cut
    for i in range(8):
        tune.report({"loss": (config["x"] - 0.3) ** 2 + 1.0 / (i + 1)})


def fit(trainable: Any, search: HposamplerSearch, tmp: Path, n: int, **config: Any) -> Any:
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=search, num_samples=n, **config),
        run_config=tune.RunConfig(storage_path=str(tmp), verbose=0),
    )
    return tuner.fit()


def grid_space() -> dict[str, Any]:
    return {"x": {"value_range": [0.0, 1.0], "value_type": "float", "n_bins": 3},
            "width": {"categorical_values": [8, 16]}}  # fmt: skip


@pytest.mark.parametrize("name", BACKENDS)
def test_a_backend_drives_a_tuner(name: str, tmp_path: Path, local_ray: None) -> None:
    space = grid_space() if name == "grid" else SPACE
    search = HposamplerSearch(name, space=space, metric="loss", mode="min", seed=0)
    results = fit(once, search, tmp_path, 6, max_concurrent_trials=2)
    assert len(results) == 6 and not results.errors
    states = search._backend.trial_states
    assert sorted(states) == list(range(6))
    assert set(states.values()) == {TrialState.COMPLETE}
    if name == "grid":  # six distinct points of the six-point grid
        assert len({json.dumps(r.config, sort_keys=True) for r in results}) == 6


def test_asha_stops_reach_the_backend_as_pruned(tmp_path: Path, local_ray: None) -> None:
    search = HposamplerSearch("tpe", metric="loss", mode="min", seed=0)
    scheduler = ASHAScheduler(max_t=8, grace_period=1, reduction_factor=2)
    tuner = tune.Tuner(
        epochs,
        param_space={"x": tune.uniform(0, 1)},  # converted by the searcher
        tune_config=tune.TuneConfig(search_alg=search, num_samples=12, metric="loss",
                                    mode="min", scheduler=scheduler, max_concurrent_trials=2),
        run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
    )  # fmt: skip
    results = tuner.fit()
    assert len(results) == 12
    states = list(search._backend.trial_states.values())
    assert states.count(TrialState.PRUNED) >= 3 and states.count(TrialState.COMPLETE) >= 1
    lengths = {r.metrics["training_iteration"] for r in results}
    assert min(lengths) < 8 == max(lengths)
    for trial in search._trials.values():  # pruned trials carry their last result
        assert trial.metrics and trial.metrics[-1]["loss"] is not None


def test_errors_are_fail_and_the_study_goes_on(tmp_path: Path, local_ray: None) -> None:
    def flaky(config: dict[str, Any]) -> None:
        if config["width"] % 2:  # seed 1 draws both parities
            raise ValueError("diverged")
        once(config)

    search = HposamplerSearch("random", space=SPACE, metric="loss", mode="min", seed=1)
    results = fit(flaky, search, tmp_path, 8, max_concurrent_trials=2)
    states = search._backend.trial_states
    failed = [t for t in search._trials.values() if t.config["width"] % 2]
    assert failed and all(states[t.trial_id] == TrialState.FAIL for t in failed)
    assert len(results) == 8


def test_a_restored_searcher_continues_without_reproposing(tmp_path: Path, local_ray: None) -> None:
    search = HposamplerSearch("tpe", space=SPACE, metric="loss", mode="min", seed=0)
    fit(once, search, tmp_path / "a", 5, max_concurrent_trials=1)
    path = tmp_path / "searcher.json"
    search.save(str(path))
    saved = json.loads(path.read_text())  # plain JSON, trials with their internal state
    assert saved["format"] == "hposampler-search/1" and len(saved["trials"]) == 5
    again = HposamplerSearch("tpe", space=SPACE, metric="loss", mode="min", seed=0)
    again.restore(str(path))
    fit(once, again, tmp_path / "b", 5, max_concurrent_trials=1)
    configs = [json.dumps(t.config, sort_keys=True) for t in again._trials.values()]
    assert sorted(again._trials) == list(range(10)) and len(set(configs)) == 10
    fresh = HposamplerSearch("tpe", space=SPACE, metric="loss", mode="min", seed=0)
    first = [fresh.suggest(f"f{i}") for i in range(6)]
    assert first[5] != again._trials[5].config  # continued, not replayed from seed 0


def test_tune_param_space_is_converted() -> None:
    param_space = {
        "lr": tune.loguniform(1e-5, 1e-1),
        "x": tune.uniform(-1, 1),
        "q": tune.quniform(0, 1, 0.25),
        "layers": tune.randint(1, 5),
        "width": tune.lograndint(8, 257),
        "batch": tune.qrandint(16, 64, 16),
        "act": tune.choice(["relu", "tanh"]),
        "nested": {"dropout": tune.uniform(0, 0.5), "fixed": 3},
    }
    assert space_from_tune(param_space) == {
        "lr": {"value_range": [1e-5, 1e-1], "value_type": "float", "log": True},
        "x": {"value_range": [-1.0, 1.0], "value_type": "float"},
        "q": {"value_range": [0.0, 1.0], "value_type": "float", "n_bins": 5},
        "layers": {"value_range": [1, 4], "value_type": "int"},
        "width": {"value_range": [8, 256], "value_type": "int", "log": True},
        "batch": {"value_range": [16, 64], "value_type": "int", "n_bins": 4},
        "act": {"categorical_values": ["relu", "tanh"]},
        "nested": {"dropout": {"value_range": [0.0, 0.5], "value_type": "float"}, "fixed": 3},
    }
    search = HposamplerSearch("random", seed=0)
    assert search.set_search_properties("loss", "min", param_space, num_samples=4)
    for i in range(20):
        config = search.suggest(str(i))
        assert 1 <= config["layers"] <= 4 and config["batch"] in (16, 32, 48, 64)
        assert config["q"] in (0.0, 0.25, 0.5, 0.75, 1.0) and config["nested"]["fixed"] == 3
        search.on_trial_complete(str(i), {"loss": config["x"] ** 2, "training_iteration": 1})
    for bad, match in ((tune.grid_search([1, 2]), "grid_search is expanded by Tune"),
                       (tune.sample_from(lambda spec: 1), "sample_from"),
                       (tune.randn(), "has no hposampler form"),
                       (tune.qloguniform(1e-3, 1, 1e-3), "quantized log")):  # fmt: skip
        with pytest.raises(SearchSpaceError, match=match):
            space_from_tune({"p": bad})


def test_concurrency_limits_and_direct_calls() -> None:
    search = HposamplerSearch("tpe", space=SPACE, metric="score", mode="max", seed=0)
    assert search.set_max_concurrency(2)
    a, b = search.suggest("a"), search.suggest("b")
    assert a and b and search.suggest("c") is None  # two pending: wait
    search.on_trial_result("a", {"score": 0.1, "training_iteration": 1})
    search.on_trial_complete("a", {"score": 0.5, "training_iteration": 1})
    assert search.suggest("c") is not None
    search.add_evaluated_point({"x": 0.3, "width": 16}, 0.9)
    assert search._backend.trial_states[3] == TrialState.COMPLETE
    clone = pickle.loads(pickle.dumps(search))  # as Tune checkpoints its searcher
    assert clone.get_state() == search.get_state() and clone.suggest("d") is None


def test_bad_input_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UnknownSamplerError, match="Did you mean 'tpe'"):
        HposamplerSearch("tpee")
    with pytest.raises(SamplerOptionsError, match="n_startup_trials"):
        HposamplerSearch("tpe", n_startup=2)
    with pytest.raises(MetricsError, match="mode must be 'min' or 'max'"):
        HposamplerSearch("tpe", mode="minimize")
    with pytest.raises(MetricsError, match="needs metric=.*with a param_space"):
        HposamplerSearch("tpe", space=SPACE).suggest("0")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "something else"}')
    with pytest.raises(StorageError, match="not an HposamplerSearch state"):
        HposamplerSearch("tpe", space=SPACE, metric="l", mode="min").restore(str(broken))


@pytest.mark.parametrize("bad", [[1, 2], "x", 3])
def test_a_space_that_is_not_a_dict_is_one_clear_error(bad: Any) -> None:
    with pytest.raises(SearchSpaceError, match="^space: expected a dict"):
        HposamplerSearch("tpe", space=bad, metric="loss", mode="min")


def test_suggest_here_complete_in_another_process_and_go_on(tmp_path: Path) -> None:
    """Tune's ask/tell (suggest, on_trial_complete) split across two processes by its
    checkpoint: the trial asked here is told there, and the backend here learns it."""
    import subprocess
    import sys

    space = {"x": {"value_range": [0.0, 1.0]}}
    search = HposamplerSearch("tpe", space=space, metric="loss", mode="min", seed=0)
    asked = {tid: search.suggest(tid) for tid in ("a", "b", "c")}
    checkpoint = tmp_path / "searcher.json"
    search.save(str(checkpoint))
    code = f"""
import json
from hposampler_ray import HposamplerSearch
other = HposamplerSearch("tpe")
other.restore({str(checkpoint)!r})
for tid, config in json.loads({json.dumps(json.dumps(asked))}).items():
    if tid != "c":
        other.on_trial_complete(tid, {{"loss": (config["x"] - 0.3) ** 2}})
other.save({str(checkpoint)!r})
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=1800)
    here = HposamplerSearch("tpe")
    here.restore(str(checkpoint))
    here.on_trial_complete("c", {"loss": (asked["c"]["x"] - 0.3) ** 2})
    assert here.suggest("d") is not None
    states = here._backend.trial_states
    assert [states[i] for i in range(3)] == [TrialState.COMPLETE] * 3
    assert states[3] == TrialState.RUNNING


def test_tune_domains_given_as_space_are_converted_as_rays_own_searchers_do() -> None:
    space = {"x": tune.uniform(0, 1), "n": tune.randint(1, 5), "opt": tune.choice(["a", "b"]),
             "nested": {"lr": tune.loguniform(1e-4, 1e-1)}, "fixed": 3}  # fmt: skip
    search = HposamplerSearch("tpe", space=space, metric="loss", mode="min", seed=0)
    config = search.suggest("t")
    assert config is not None and 0 <= config["x"] <= 1 and config["n"] in range(1, 5)
    assert config["opt"] in ("a", "b") and 1e-4 <= config["nested"]["lr"] <= 1e-1
    assert config["fixed"] == 3


def test_several_metrics_and_modes_reach_a_multi_objective_backend() -> None:
    search = HposamplerSearch("optuna:nsga2", space={"x": {"value_range": [0.0, 1.0]}},
                              metric=["a", "b"], mode=["min", "max"], seed=0)  # fmt: skip
    for i in range(6):
        config = search.suggest(str(i))
        assert config is not None
        search.on_trial_complete(str(i), {"a": config["x"], "b": config["x"] ** 2})
    search.on_trial_complete("missing", {"a": 1.0})  # unknown id: ignored
    assert search._backend.optim_metrics == {"a": "min", "b": "max"}
    states = search._backend.trial_states
    assert list(states.values()) == [TrialState.COMPLETE] * 6
    incomplete = search.suggest("7")
    assert incomplete is not None
    search.on_trial_complete("7", {"a": 0.5})  # "b" missing: FAIL, not a crash
    assert search._backend.trial_states[6] == TrialState.FAIL
    with pytest.raises(MetricsError, match="differ in length"):
        HposamplerSearch("tpe", metric=["a", "b"], mode=["min"])
    single = [s.name for s in available_samplers() if s.multi_objective is False]
    if single:  # e.g. skopt:gp, nevergrad:ngopt
        with pytest.raises(MetricsError, match="optimises a single metric"):
            HposamplerSearch(single[0], space={"x": {"value_range": [0.0, 1.0]}}, seed=0,
                             metric=["a", "b"], mode=["min", "max"])  # fmt: skip


def test_warm_start_from_an_hposampler_study_without_running_tune(tmp_path: Path) -> None:
    import statistics

    from hposampler import Study

    space = {"x": {"value_range": [-5.0, 10.0]}, "y": {"value_range": [0.0, 15.0]}}

    def bowl(config: dict[str, Any]) -> float:
        return (config["x"] - 2.0) ** 2 + (config["y"] - 3.0) ** 2

    db = tmp_path / "w.db"
    Study.create(db, "src", "random", space, {"loss": "min"}, seed=0).optimize(bowl, n_trials=40)

    def median_of_first(warm: list[str]) -> float:
        search = HposamplerSearch("tpe", space=space, metric="loss", mode="min", seed=3,
                                  warm_start=warm)  # fmt: skip
        losses = []
        for i in range(6):
            config = search.suggest(f"t{i}")
            assert config is not None
            losses.append(bowl(config))
            search.on_trial_complete(f"t{i}", {"loss": losses[-1]})
        state = search.get_state()
        assert len(state["trials"]) == 6 and state["warm_start"] == warm  # only its own
        return statistics.median(losses)

    assert median_of_first([f"{db}:src"]) < median_of_first([])
    with pytest.raises(Exception, match="names no storage; write it as FILE.db:NAME"):
        HposamplerSearch("tpe", space=space, metric="loss", mode="min", warm_start=["src"])
    with pytest.raises(Exception, match="warm_start must be a list of studies"):
        HposamplerSearch("tpe", space=space, metric="loss", mode="min", warm_start="x.db:src")


def always_fails(config: dict[str, Any]) -> None:
    raise ValueError("diverged")


def test_a_tuner_whose_every_trial_errors_ends_with_an_error(
    tmp_path: Path, local_ray: None
) -> None:
    search = HposamplerSearch("random", seed=0)
    tuner = tune.Tuner(
        always_fails,
        param_space={"x": tune.uniform(0.0, 1.0)},  # Tune then passes num_samples
        tune_config=tune.TuneConfig(search_alg=search, metric="loss", mode="min", num_samples=3),
        run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
    )
    with pytest.raises(Exception, match=r"every trial of the tuner errored \(3\)"):
        tuner.fit()


def test_max_failure_rate_stops_the_tuner(tmp_path: Path, local_ray: None) -> None:
    def flaky(config: dict[str, Any]) -> None:
        if config["width"] % 2:
            raise ValueError("diverged")
        once(config)

    search = HposamplerSearch(
        "random", space=SPACE, metric="loss", mode="min", seed=1, max_failure_rate=0.0
    )
    with pytest.raises(Exception, match=r"more than max_failure_rate=0.0"):
        fit(flaky, search, tmp_path, 8, max_concurrent_trials=1)
    assert sum(t.state == TrialState.FAIL for t in search._trials.values()) == 1
    with pytest.raises(StudyError, match="max_failure_rate must be a number from 0.0 to 1.0"):
        HposamplerSearch("random", max_failure_rate=1.5)
