"""What nevergrad backends print: nothing a user cannot act on (no autouse quieting here)."""

from __future__ import annotations

import warnings

import pytest

from hposampler import TrialState, make_sampler

pytest.importorskip("nevergrad")


def test_ngopt_on_continuous_parameters_prints_no_scipy_cobyla_warning() -> None:
    space = {f"x{i}": {"value_range": [-5.0, 5.0]} for i in range(5)}
    sampler = make_sampler("auto", space, optim_metrics={"loss": "min"}, seed=0, budget=100)
    assert sampler.choice.backend == "nevergrad:ngopt"  # whose COBYLA stage warned
    with warnings.catch_warnings(record=True) as seen:  # the filters as a user has them
        for _ in range(100):
            trial_id, config, _ = sampler.eager_sample()
            sampler.unlock(drop=False)
            loss = sum(v * v for v in config.values())
            sampler.update_trial(trial_id, {"loss": loss}, TrialState.COMPLETE)
    assert [str(w.message) for w in seen if "RHOEND" in str(w.message)] == []
