"""Optuna's own reusable sampler tests, run on every installed backend through
``HposamplerSampler``.

``optuna.testing.pytest_samplers`` is the suite Optuna's samplers (and OptunaHub
packages) run on. Here each installed hposampler sampler takes the place of
Optuna's sampler, as a user switching over would: the basic and relative cases for
every backend, the multi-objective cases for backends that optimise several
metrics, and Optuna's refusal contract for the single-metric ones.

What does not apply is left out, with the reason:

* an exhaustive backend (``grid``, ``optuna:bruteforce``) cannot enumerate a
  continuous range, so in ``sample_relative`` those ranges are not its to propose
  (they are sampled independently, as docs/frontends.md says); the relative cases
  with a continuous parameter are skipped for it.
* ``optuna:bruteforce`` stops the study when every combination was tried, as
  Optuna's own ``BruteForceSampler`` does; the two objective cases whose space has
  fewer points than their ten trials assert ten trials, which Optuna's sampler
  fails too. They are skipped for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")
pytest_samplers = pytest.importorskip("optuna.testing.pytest_samplers")

from optuna.distributions import FloatDistribution  # noqa: E402

import hposampler  # noqa: E402
from hposampler_optuna import HposamplerSampler  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")]

# Backends that need a library this environment may lack are skipped by name.
_NEEDS = {"optuna:gp": "torch"}
# Meta entries that are not samplers of their own here.
_LEAVE_OUT = {
    "nevergrad:any": "needs its 'optimizer' option; nevergrad's optimizers are covered by name",
    "optuna-native:tpe": "a bench row (Optuna's own TPESampler), not a frontend backend",
    "optunahub:samplers": "a family of names (a hub package); tests/optuna/test_optunahub.py",
}


def _installed(multi: bool | None = None) -> list[Any]:
    out = []
    for spec in hposampler.available_samplers():
        if spec.name in _LEAVE_OUT:
            continue
        if multi is not None and bool(spec.multi_objective) != multi:
            continue
        marks = []
        lib = _NEEDS.get(spec.name)
        if lib is not None:
            try:
                __import__(lib)
            except ImportError:
                marks.append(pytest.mark.skip(reason=f"{spec.name} needs {lib}"))
        out.append(pytest.param(spec.name, id=spec.name, marks=marks))
    return out


def _factory(name: str, **options: Any) -> Callable[[], HposamplerSampler]:
    return lambda: HposamplerSampler(name, seed=0, **options)


# ``optuna:*`` backends hand Optuna's own sampler the study, so they meet the relative
# cases as Optuna's suite runs them: the model-based ones without start-up trials; the
# ones Optuna samples independently (random, the genetic ones) are not relative samplers
# and Optuna's suite does not give them these cases either.
_RELATIVE_OPTIONS = {
    "optuna:tpe": {"n_startup_trials": 0},
    "optuna:cmaes": {"n_startup_trials": 0},
    "optuna:gp": {"n_startup_trials": 0},
}
_NOT_RELATIVE = {"optuna:random", "optuna:nsga2", "optuna:nsga3", "optuna:qmc"}


def _sampler(self: Any, request: pytest.FixtureRequest) -> Callable[[], HposamplerSampler]:
    backend = request.param
    spec = hposampler.get_sampler_spec(backend)
    if spec.exhaustive and request.node.originalname.startswith("test_sample_relative"):
        dists = [v for k, v in request.node.callspec.params.items() if k.endswith("distribution")]
        if any(isinstance(d, FloatDistribution) and d.step is None for d in dists):
            pytest.skip(f"{backend} enumerates its space: a continuous range is not its to propose")
    if backend == "optuna:bruteforce" and request.node.name in _STOPS_EARLY:
        pytest.skip("the space has fewer points than ten trials: brute force stops the study")
    if isinstance(self, TestRelative):
        if backend in _NOT_RELATIVE:
            pytest.skip(f"Optuna's sampler behind {backend} samples every parameter independently")
        return _factory(backend, **_RELATIVE_OPTIONS.get(backend, {}))
    return _factory(backend)


_STOPS_EARLY = {
    "test_single_parameter_objective[optuna:bruteforce-<lambda>2]",  # 3 categories
    "test_conditional_parameter_objective[optuna:bruteforce]",
}


class TestBasic(pytest_samplers.BasicSamplerTestCase):
    sampler = pytest.fixture(params=_installed())(_sampler)


class TestRelative(pytest_samplers.RelativeSamplerTestCase):
    sampler = pytest.fixture(params=_installed())(_sampler)


class TestMultiObjective(pytest_samplers.MultiObjectiveSamplerTestCase):
    sampler = pytest.fixture(params=_installed(multi=True))(_sampler)


class TestSingleOnly(pytest_samplers.SingleOnlySamplerTestCase):
    sampler = pytest.fixture(params=_installed(multi=False))(_sampler)
