"""Every built-in backend passes the conformance kit."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from hposampler.testing import parametrize_with_checks

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


@parametrize_with_checks(BUILTIN)
def test_builtin_sampler_conforms(sampler: str, check: Callable[[str], None]) -> None:
    check(sampler)
