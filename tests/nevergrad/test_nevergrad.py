"""hposampler-nevergrad: native identity, resume, budget/workers, the NumPy 2 repair, safety."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hposampler import SamplerOptionsError, Study, Trial, TrialState, make_sampler
from hposampler.testing import space_violation

pytest.importorskip("nevergrad")

import nevergrad as ng

SPACE = {
    "x": {"value_range": [-5.0, 10.0], "value_type": "float"},
    "n": {"value_range": [1, 40], "value_type": "int"},
    "act": {"categorical_values": ["relu", "tanh", "gelu"]},
}
NESTED = {
    "opt": {"subspaces": [
        {"sub_configuration": {"name": "sgd", "lr": {"value_range": [1e-3, 1.0],
                                                     "value_type": "float", "log": True}}},
        {"sub_configuration": {"name": "adam", "lr": {"value_range": [1e-5, 1e-2],
                                                      "value_type": "float", "log": True},
                               "beta": {"categorical_values": [0.9, 0.99]}}},
    ]},
    "width": {"value_range": [16, 256], "value_type": "int", "n_bins": 4},
}  # fmt: skip
ALGOS = {"ngopt": "NGOpt", "de": "TwoPointsDE", "oneplusone": "OnePlusOne", "cma": "CMA",
         "pso": "PSO", "random": "RandomSearch"}  # fmt: skip


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nevergrad/cma/scipy chatter about tiny budgets
        yield


def loss(config: dict[str, Any]) -> float:
    act = {"relu": 0.0, "tanh": 0.5, "gelu": 1.0}[config["act"]]
    return (config["x"] - 2.0) ** 2 + 0.1 * (config["n"] - 17) ** 2 / 40 + act


def ours(name: str, n: int, seed: int, budget: int, trials: list[Trial] | None = None,
         start: int = 0) -> tuple[list[dict[str, Any]], list[Trial]]:  # fmt: skip
    sampler = make_sampler(name, SPACE, optim_metrics={"loss": "min"}, trials=trials, seed=seed,
                           budget=budget, concurrency=1)  # fmt: skip
    configs, done = [], []
    for _ in range(n):
        trial_id, config, internal = sampler.eager_sample()
        sampler.unlock(drop=False)
        metrics = {"loss": loss(config)}
        sampler.update_trial(trial_id, metrics, TrialState.COMPLETE)
        configs.append(config)
        done.append(Trial(trial_id, config, TrialState.COMPLETE, [metrics], internal))
    return configs, done


def native(algo: str, n: int, seed: int, budget: int) -> list[dict[str, Any]]:
    acts = ["relu", "tanh", "gelu"]
    param = ng.p.Dict(x=ng.p.Scalar(lower=-5.0, upper=10.0),
                      n=ng.p.Scalar(lower=1, upper=40).set_integer_casting(),
                      act=ng.p.Choice([0, 1, 2]))  # fmt: skip
    param.random_state.seed(seed)
    optimizer = ng.optimizers.registry[algo](parametrization=param, budget=budget, num_workers=1)
    configs = []
    for _ in range(n):
        candidate = optimizer.ask()
        value = candidate.value
        config = {"x": float(value["x"]), "n": int(value["n"]), "act": acts[int(value["act"])]}
        optimizer.tell(candidate, loss(config))
        configs.append(config)
    return configs


@pytest.mark.parametrize("algorithm", sorted(ALGOS))
def test_same_seed_and_results_give_nevergrads_own_sequence(algorithm: str) -> None:
    mine, _ = ours(f"nevergrad:{algorithm}", 30, seed=5, budget=30)
    assert mine == native(ALGOS[algorithm], 30, seed=5, budget=30)


@pytest.mark.parametrize("algorithm", ["ngopt", "de", "oneplusone", "cma", "pso", "random"])
def test_resume_continues_exactly_as_the_uninterrupted_run(algorithm: str) -> None:
    name = f"nevergrad:{algorithm}"
    straight, _ = ours(name, 24, seed=11, budget=24)
    first, done = ours(name, 10, seed=11, budget=24)
    stored = [Trial.from_dict(d) for d in json.loads(json.dumps([t.to_dict() for t in done]))]
    second, _ = ours(name, 14, seed=11, budget=24, trials=stored)
    assert first + second == straight


def test_conditional_space_every_config_inside() -> None:
    sampler = make_sampler(
        "ngopt", NESTED, optim_metrics={"loss": "min"}, seed=0, budget=40, concurrency=2
    )
    seen = set()
    for i in range(40):
        trial_id, config, internal = sampler.eager_sample()
        sampler.unlock(drop=False)
        assert space_violation(NESTED, config) is None
        json.dumps(internal)
        seen.add(config["opt"]["name"])
        sampler.update_trial(trial_id, {"loss": math.log(config["opt"]["lr"]) + i % 3},
                             TrialState.COMPLETE)  # fmt: skip
    assert seen == {"sgd", "adam"}


def test_budget_and_workers_reach_nevergrad_from_the_study(tmp_path: Path) -> None:
    study = Study.create(tmp_path / "s.db", "s", "ngopt", SPACE, {"loss": "min"}, seed=1)
    seen: list[Any] = []
    from hposampler_nevergrad.sampler import NevergradSampler

    init = NevergradSampler.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        seen.append((self.optimizer.budget, self.optimizer.num_workers))

    NevergradSampler.__init__ = spy  # type: ignore[method-assign]
    try:
        study.optimize(loss, n_trials=12, concurrency=3)
    finally:
        NevergradSampler.__init__ = init  # type: ignore[method-assign]
    assert seen == [(12, 3)]
    assert sum(r.trial.state == TrialState.COMPLETE for r in study.records()) == 12


def test_ngopt_metamodel_works_on_numpy_2() -> None:
    # NGOpt picks its metamodel here (2 workers, budget 60); unrepaired it fails on
    # NumPy 2.x with "only 0-dimensional arrays can be converted to Python scalars"
    space = {"x": {"value_range": [-5.0, 10.0], "value_type": "float"},
             "y": {"value_range": [0.0, 15.0], "value_type": "float"}}  # fmt: skip
    sampler = make_sampler(
        "ngopt", space, optim_metrics={"loss": "min"}, seed=0, budget=60, concurrency=2
    )
    assert type(sampler.optimizer.optim).__name__ == "_MetaModel"  # type: ignore[attr-defined]
    for _ in range(60):
        trial_id, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        value = (config["x"] - 3) ** 2 + (config["y"] - 2) ** 2
        sampler.update_trial(trial_id, {"loss": value}, TrialState.COMPLETE)


def test_scalar_float_repair_is_exact() -> None:
    from hposampler_nevergrad.shims import scalar_float

    assert scalar_float(np.array([2.5])) == 2.5
    assert scalar_float(np.float64(1.5)) == 1.5
    assert scalar_float(3) == 3.0
    with pytest.raises(TypeError):
        scalar_float(np.array([1.0, 2.0]))


def test_sequential_optimizer_never_blocks_on_a_second_pending_ask() -> None:
    # one worker, small budget: NGOpt picks scipy's COBYLA, which would block forever
    # on a second ask() before a tell(); a run in a subprocess proves it returns
    space = {"x": {"value_range": [-5.0, 10.0], "value_type": "float"},
             "y": {"value_range": [0.0, 15.0], "value_type": "float"}}  # fmt: skip
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from hposampler import make_sampler\n"
        f"s = make_sampler('ngopt', {space!r}, optim_metrics={{'loss': 'min'}}, seed=0, budget=20)\n"
        "print(type(s.optimizer.optim).__name__, s.optimizer.optim.no_parallelization)\n"
        "ids = []\n"
        "for _ in range(3):\n"
        "    tid, config, _ = s.eager_sample(); s.unlock(drop=False); ids.append(tid)\n"
        "for tid in ids: s.update_trial(tid, {'loss': float(tid)}, 1)\n"
        "print('done', ids)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout  # fmt: skip
    assert "True" in out.splitlines()[0]
    assert out.splitlines()[-1] == "done [0, 1, 2]"


def test_failed_and_none_results_are_told_as_the_worst() -> None:
    sampler = make_sampler("nevergrad:de", SPACE, optim_metrics={"acc": "max"}, seed=0, budget=20)
    told: list[float] = []
    tell = sampler.optimizer.tell  # type: ignore[attr-defined]
    sampler.optimizer.tell = lambda c, y: (told.append(y), tell(c, y))  # type: ignore[attr-defined]
    results = [("FAIL", None), ("COMPLETE", {"acc": None}), ("COMPLETE", {"acc": 0.5}),
               ("COMPLETE", {"acc": 0.25}), ("PRUNED", None)]  # fmt: skip
    for state, metrics in results:
        trial_id, _, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(trial_id, metrics, TrialState[state])
    # the first two wait for a known loss, then get the worst (max: negated)
    assert told == [-0.5, -0.5, -0.5, -0.25, -0.25]


def test_any_takes_a_registry_name_and_refuses_unknown_ones() -> None:
    sampler = make_sampler(
        "nevergrad:any", SPACE, optim_metrics={"loss": "min"}, optimizer="NGOpt39", seed=0
    )
    assert type(sampler.optimizer).__name__ == "NGOpt39"  # type: ignore[attr-defined]
    with pytest.raises(SamplerOptionsError, match="'NGOpt39'"):
        make_sampler("nevergrad:any", SPACE, optim_metrics={"loss": "min"}, optimizer="NGopt39")
    with pytest.raises(SamplerOptionsError, match="takes no options"):
        make_sampler("ngopt", SPACE, optim_metrics={"loss": "min"}, popsize=3)


def test_ngopt_study_file_at_concurrency_4_runs_through_the_cli(tmp_path: Path) -> None:
    import shutil

    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "ngopt.toml"
    study_file = tmp_path / "ngopt.toml"
    shutil.copy(example, study_file)
    hposampler = Path(sys.executable).with_name("hposampler")
    run = subprocess.run([str(hposampler), "run", str(study_file)], capture_output=True,
                         text=True, timeout=300, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    study = Study.load(tmp_path / "ngopt.db", "ngopt")
    states = [r.trial.state for r in study.records()]
    assert states == [TrialState.COMPLETE] * 60
    shown = subprocess.run([str(hposampler), "show", "ngopt", "--storage",
                            str(tmp_path / "ngopt.db")], capture_output=True, text=True,
                           timeout=60, check=True)  # fmt: skip
    assert "Study ngopt (ngopt)" in shown.stdout


NAN_FIRST = """
from hposampler import make_sampler
from hposampler_ray import HposamplerSearch
space = {"x": {"value_range": [0.0, 1.0]}, "y": {"value_range": [0.0, 1.0]}}
loss = lambda c: (c["x"] - 0.3) ** 2 + (c["y"] - 0.6) ** 2
if FRONTEND == "core":
    s = make_sampler("nevergrad:ngopt", space, optim_metrics={"loss": "min"}, seed=0)
    for i in range(8):
        tid, config, _ = s.eager_sample()
        s.unlock(drop=False)
        s.update_trial(tid, {"loss": float("nan") if i < 2 else loss(config)}, 1)
else:
    s = HposamplerSearch("nevergrad:ngopt", space=space, metric="loss", mode="min", seed=0)
    for i in range(8):
        config = s.suggest(str(i))
        s.on_trial_complete(str(i), {"loss": float("nan") if i < 2 else loss(config)})
print("went on")
"""


@pytest.mark.parametrize("frontend", ["core", "tune"])
def test_a_nan_first_result_never_blocks_the_next_proposal(frontend: str) -> None:
    """NGOpt picks a sequential optimizer that waits for a tell before its next ask; a
    NaN with no worst value known yet is told later, and meanwhile samples are drawn
    uniformly instead of blocking the driver forever."""
    import importlib.util
    import subprocess
    import sys

    if frontend == "tune" and importlib.util.find_spec("ray") is None:
        pytest.skip("needs ray[tune]")
    code = f"FRONTEND = {frontend!r}\n" + NAN_FIRST
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=1800)  # fmt: skip
    assert result.returncode == 0 and "went on" in result.stdout, result.stderr[-2000:]


def test_a_dropped_id_handed_out_again_is_told_its_result() -> None:
    from hposampler import make_sampler

    sampler = make_sampler("nevergrad:oneplusone", {"x": {"value_range": [0.0, 1.0]}},
                           optim_metrics={"loss": "min"}, seed=0)  # fmt: skip
    first, _, _ = sampler.eager_sample()
    sampler.unlock(drop=True)
    again, config, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    assert again == first
    told = sampler.optimizer.num_tell
    sampler.update_trial(again, {"loss": config["x"]}, 1)
    # its result, then the dropped candidate (deferred until a worst loss was known)
    assert sampler.optimizer.num_tell == told + 2


def test_cma_on_one_dimension_leaves_later_cma_studies_working() -> None:
    # nevergrad's CMA turns to the optional fcmaes package on one dimension, and it
    # did so by flipping a setting shared by every CMA of the process: a 1-D study
    # broke every later one with "Please install fcmaes".
    def run(space: dict[str, Any]) -> list[dict[str, Any]]:
        sampler = make_sampler("nevergrad:cma", space, optim_metrics={"loss": "min"}, seed=0)
        configs = []
        for _ in range(12):
            trial_id, config, _ = sampler.eager_sample()
            sampler.unlock(drop=False)
            sampler.update_trial(trial_id, {"loss": sum(config.values())}, TrialState.COMPLETE)
            configs.append(config)
        return configs

    one = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}
    two = {**one, "y": {"value_range": [-1.0, 1.0], "value_type": "float"}}
    assert all(0.0 <= c["x"] <= 1.0 for c in run(one))
    configs = run(two)
    assert all(-1.0 <= c["y"] <= 1.0 for c in configs)
    assert len({(c["x"], c["y"]) for c in configs}) > 6
