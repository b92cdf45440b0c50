"""hposampler plugin: registers nevergrad's optimizers (imported when one is built).

The study's budget and concurrency reach every factory from the runner
(``budget``, ``concurrency`` keywords), so users never repeat them as options.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hposampler import OptionSpec, SamplerOptionsError, SamplerSpec, Trial, hookimpl

#: (algorithm, nevergrad registry name, aliases, description)
BACKENDS = [
    ("ngopt", "NGOpt", ("ngopt",),
     "nevergrad's meta-optimizer: picks an algorithm from budget, workers and space"),
    ("de", "TwoPointsDE", (), "differential evolution (two-points crossover)"),
    ("oneplusone", "OnePlusOne", (), "(1+1) evolution strategy with one-fifth rule"),
    ("cma", "CMA", (), "covariance matrix adaptation evolution strategy (pycma)"),
    ("pso", "PSO", (), "particle swarm optimisation"),
    ("random", "RandomSearch", (), "uniform random search through nevergrad"),
]  # fmt: skip

_ANY_OPTIONS = (
    OptionSpec(
        "optimizer", "NGOpt", (str,), "any name in nevergrad.optimizers.registry, e.g. 'NGOpt39'"
    ),
)


def build(
    search_space: Any,
    *,
    optimizer: str = "NGOpt",
    optim_metrics: Mapping[str, Any] | None = None,
    trials: Iterable[Trial | Mapping[str, Any]] | None = None,
    seed: int | None = None,
    budget: int | None = None,
    concurrency: int | None = None,
) -> Any:
    """A :class:`~hposampler_nevergrad.sampler.NevergradSampler` on the registry's
    ``optimizer`` (``nevergrad:any`` takes it as an option; the others fix it)."""
    from nevergrad.optimization import registry

    from .sampler import NevergradSampler

    if optimizer not in registry:
        close = difflib.get_close_matches(optimizer, list(registry), n=3)
        hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
        raise SamplerOptionsError(
            f"nevergrad:any: optimizer {optimizer!r} is not in nevergrad's registry; {hint}"
            "list them with: python -c 'import nevergrad as ng; "
            "print(sorted(ng.optimizers.registry))'"
        )
    return NevergradSampler(
        search_space, optimizer=optimizer, optim_metrics=optim_metrics, trials=trials,
        seed=seed, budget=budget, concurrency=concurrency,
    )  # fmt: skip


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register ``nevergrad:ngopt`` (alias ``ngopt``), ``:de``, ``:oneplusone``, ``:cma``,
    ``:pso``, ``:random`` and ``:any`` (any optimizer in nevergrad's registry)."""
    common: dict[str, Any] = {
        "multi_objective": False,
        "requires": ("nevergrad",),
        "install_hint": "pip install 'nevergrad>=1.0'",
    }
    for algorithm, registry_name, aliases, description in BACKENDS:
        register(
            SamplerSpec(
                f"nevergrad:{algorithm}",
                functools.partial(build, optimizer=registry_name),
                aliases=aliases,
                description=description,
                options=(),
                needs_metrics=algorithm != "random",
                # a (1+1) strategy mutates one parent: once its step size has grown,
                # pending trials clipped to the bounds can be the same config
                concurrent=algorithm != "oneplusone",
                **common,
            )
        )
    register(
        SamplerSpec(
            "nevergrad:any",
            build,
            description="any optimizer of nevergrad's registry, named by the 'optimizer' option",
            options=_ANY_OPTIONS,
            needs_metrics=True,
            **common,
        )
    )
