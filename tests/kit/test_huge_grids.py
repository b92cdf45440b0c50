"""Huge ``n_bins`` (issue 39, D5): every installed sampler samples at once, in little memory."""

from __future__ import annotations

import tracemalloc

import pytest

from hposampler import MissingDependencyError, SearchSpaceError, available_samplers, make_sampler

HUGE = {
    "x": {"value_range": [0, 1], "n_bins": 10**12},
    "k": {"value_range": [0, 10**12], "value_type": "int", "n_bins": 10**12},
    "k2": {"value_range": [0, 10**12], "value_type": "int", "n_bins": 10**7},
    "lr": {"value_range": [1e-6, 1.0], "log": True, "n_bins": 10**9},
}


@pytest.mark.parametrize(
    "name", sorted(s.name for s in available_samplers() if not s.subnames)
)  # a family of names (optunahub:samplers/<package>) is run in tests/optuna/test_optunahub.py
def test_every_sampler_samples_a_huge_grid_at_once_in_little_memory(name: str) -> None:
    if name == "optuna:bruteforce":  # lists every value at each trial: refused, in one line
        with pytest.raises(
            SearchSpaceError, match="^x: optuna:bruteforce lists all .* use the 'grid' sampler"
        ):
            make_sampler(name, HUGE, optim_metrics={"loss": "min"})
        return
    tracemalloc.start()
    try:
        try:
            sampler = make_sampler(name, HUGE, optim_metrics={"loss": "min"}, seed=0)
        except MissingDependencyError as exc:
            pytest.skip(str(exc))
        for _ in range(4):
            trial_id, config, _ = sampler.eager_sample()
            sampler.unlock(drop=False)
            sampler.update_trial(trial_id, {"loss": config["x"]}, 1)
            assert sampler.tree.violation(config) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 400e6, f"{name} took {peak / 1e6:.0f} MB: it listed a grid"
