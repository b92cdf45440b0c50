"""hposampler-hyperopt: fmin's own sequence, resume, pending trials, options, states."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from hposampler import SamplerOptionsError, Trial, TrialState, make_sampler
from hposampler.testing import space_violation

pytest.importorskip("hyperopt")

from hyperopt import Trials, anneal, fmin, hp, rand, tpe

SPACE = {
    "x": {"value_range": [-5.0, 10.0], "value_type": "float"},
    "lr": {"value_range": [1e-4, 1e-1], "value_type": "float", "log": True},
    "n": {"value_range": [1, 40], "value_type": "int"},
    "act": {"categorical_values": ["relu", "tanh", "gelu"]},
}
ACTS = ["relu", "tanh", "gelu"]
SUGGEST = {"tpe": tpe.suggest, "anneal": anneal.suggest, "random": rand.suggest}


def loss(config: dict[str, Any]) -> float:
    act = {"relu": 0.0, "tanh": 0.5, "gelu": 1.0}[config["act"]]
    return (config["x"] - 2.0) ** 2 + (math.log10(config["lr"]) + 2) ** 2 + config["n"] / 40 + act


def ours(name: str, n: int, seed: int, trials: list[Trial] | None = None,
         **options: Any) -> tuple[list[dict[str, Any]], list[Trial]]:  # fmt: skip
    sampler = make_sampler(name, SPACE, optim_metrics={"loss": "min"}, trials=trials, seed=seed,
                           **options)  # fmt: skip
    configs, done = [], []
    for _ in range(n):
        trial_id, config, internal = sampler.eager_sample()
        sampler.unlock(drop=False)
        metrics = {"loss": loss(config)}
        sampler.update_trial(trial_id, metrics, TrialState.COMPLETE)
        configs.append(config)
        done.append(Trial(trial_id, config, TrialState.COMPLETE, [metrics], internal))
    return configs, done


def native(algorithm: str, n: int, seed: int, **options: Any) -> list[dict[str, Any]]:
    import functools

    space = {"x": hp.uniform("x", -5.0, 10.0),
             "lr": hp.loguniform("lr", math.log(1e-4), math.log(1e-1)),
             "n": hp.uniformint("n", 1, 40),
             "act": hp.choice("act", [0, 1, 2])}  # fmt: skip

    def objective(point: dict[str, Any]) -> float:
        return loss({**point, "n": int(point["n"]), "act": ACTS[point["act"]]})

    history = Trials()
    algo = SUGGEST[algorithm]
    fmin(objective, space, algo=functools.partial(algo, **options) if options else algo,
         max_evals=n, trials=history, rstate=np.random.default_rng(seed),
         show_progressbar=False)  # fmt: skip
    out = []
    for doc in history.trials:
        vals = {k: v[0] for k, v in doc["misc"]["vals"].items()}
        out.append({"x": vals["x"], "lr": vals["lr"], "n": int(vals["n"]),
                    "act": ACTS[vals["act"]]})  # fmt: skip
    return out


@pytest.mark.parametrize("algorithm", ["tpe", "anneal", "random"])
def test_same_seed_and_results_give_fmins_own_sequence(algorithm: str) -> None:
    options = {"n_startup_jobs": 8} if algorithm == "tpe" else {}
    mine, _ = ours(f"hyperopt:{algorithm}", 25, seed=3, **options)
    assert mine == native(algorithm, 25, seed=3, **options)


@pytest.mark.parametrize("algorithm", ["tpe", "anneal", "random"])
def test_resume_continues_exactly_as_the_uninterrupted_run(algorithm: str) -> None:
    name = f"hyperopt:{algorithm}"
    straight, _ = ours(name, 20, seed=9, n_startup_jobs=5) if algorithm == "tpe" else \
        ours(name, 20, seed=9)  # fmt: skip
    options = {"n_startup_jobs": 5} if algorithm == "tpe" else {}
    first, done = ours(name, 8, seed=9, **options)
    stored = [Trial.from_dict(d) for d in json.loads(json.dumps([t.to_dict() for t in done]))]
    second, _ = ours(name, 12, seed=9, trials=stored, **options)
    assert first + second == straight


def test_pending_trials_are_new_jobs_and_concurrent_samples_differ() -> None:
    sampler = make_sampler("hyperopt:tpe", SPACE, optim_metrics={"loss": "min"}, seed=0,
                           n_startup_jobs=4)  # fmt: skip
    for _ in range(6):
        trial_id, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(trial_id, {"loss": loss(config)}, TrialState.COMPLETE)
    pending = []
    for _ in range(4):
        trial_id, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        assert space_violation(SPACE, config) is None
        pending.append(json.dumps(config, sort_keys=True))
    assert len(set(pending)) == 4
    states = [doc["state"] for doc in sampler.history.trials]  # type: ignore[attr-defined]
    assert states.count(0) == 4  # hyperopt's JOB_STATE_NEW


def test_failures_none_and_max_are_told_as_hyperopt_expects() -> None:
    sampler = make_sampler("hyperopt:tpe", SPACE, optim_metrics={"acc": "max"}, seed=0)
    for state, metrics in [
        (TrialState.FAIL, None),
        (TrialState.COMPLETE, {"acc": None}),
        (TrialState.COMPLETE, {"acc": 0.75}),
        (TrialState.PRUNED, None),
    ]:
        trial_id, _, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(trial_id, metrics, state)
    results = [doc["result"] for doc in sampler.history.trials]  # type: ignore[attr-defined]
    assert results == [{"status": "fail"}, {"status": "fail"},
                       {"status": "ok", "loss": -0.75}, {"status": "fail"}]  # fmt: skip


def test_a_dropped_sample_leaves_hyperopts_history() -> None:
    sampler = make_sampler("hyperopt:random", SPACE, optim_metrics={"loss": "min"}, seed=0)
    sampler.eager_sample()
    sampler.unlock(drop=True)
    trial_id, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    assert trial_id == 0
    assert len(sampler.history.trials) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("hyperopt:tpe", {"gamma": 1.5}, "gamma must be in"),
        ("hyperopt:tpe", {"n_startup_jobs": -1}, "n_startup_jobs must be"),
        ("hyperopt:tpe", {"n_startup_job": 3}, "n_startup_jobs"),
        ("hyperopt:anneal", {"shrink_coef": 0.0}, "shrink_coef must be"),
        ("hyperopt:random", {"gamma": 0.2}, "takes no options"),
        ("hyperopt:tpe", {"n_EI_candidates": "24"}, "n_EI_candidates"),
    ],
)
def test_bad_options_are_one_clear_error(name: str, options: dict[str, Any], match: str) -> None:
    with pytest.raises(SamplerOptionsError, match=match):
        make_sampler(name, SPACE, optim_metrics={"loss": "min"}, **options)
