"""Every built-in backend passes the conformance kit."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pytest

from hposampler.testing import parametrize_with_checks

#: Checks a bundled backend is known to fail, and why (asserted: a fix shows up here).
KNOWN_FAILURES = {
    # nevergrad's own PSO, driven natively on the kit's bowl (seed 5, 160 evaluations),
    # ends with the same scattered swarm (median loss of the last 15 about 0.60): its
    # proposals do not gather near the optimum within the kit's budget
    ("nevergrad:pso", "check_learns_from_results"): "learns_from_results",
}

BUILTIN = [
    "grid:shuffled",
    "grid:ordered",
    "optuna:tpe",
    "optuna:random",
    "optuna:cmaes",
    "optuna:qmc",
    "optuna:nsga2",
]
if importlib.util.find_spec("hposampler_optuna") is not None:
    from hposampler_optuna.plugin import installed_supports

    # the plugin supports Optuna 3.1.1 (ablator's pin), which lacks these two as needed
    BUILTIN += [
        f"optuna:{name}"
        for name, cls in (("nsga3", "NSGAIIISampler"), ("bruteforce", "BruteForceSampler"))
        if installed_supports(cls)
    ]
if importlib.util.find_spec("torch") is not None:  # pragma: no cover - torch not in CI
    BUILTIN.append("optuna:gp")
if importlib.util.find_spec("hposampler_skopt") is not None:
    BUILTIN += ["skopt:gp", "skopt:rf", "skopt:et", "skopt:gbrt", "skopt:random"]

if importlib.util.find_spec("hposampler_nevergrad") is not None:
    BUILTIN += [f"nevergrad:{a}" for a in ("ngopt", "de", "oneplusone", "cma", "pso", "random")]
if importlib.util.find_spec("hposampler_hyperopt") is not None:
    BUILTIN += ["hyperopt:tpe", "hyperopt:anneal", "hyperopt:random"]
BUILTIN.append("hposampler:random")  # the core's own, as is auto
BUILTIN.append("hposampler:auto")  # it picks among the samplers above
if importlib.util.find_spec("hposampler_bench") is not None:
    BUILTIN.append("optuna-native:tpe")


@parametrize_with_checks(BUILTIN)
def test_builtin_sampler_conforms(sampler: str, check: Callable[[str], None]) -> None:
    known = KNOWN_FAILURES.get((sampler, check.__name__))
    if known is not None:
        with pytest.raises(AssertionError, match=rf"^\[{known}\]"):
            check(sampler)
        return
    check(sampler)
