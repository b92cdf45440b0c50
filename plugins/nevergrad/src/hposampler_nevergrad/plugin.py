"""hposampler plugin: registers nevergrad's optimizers (imported when one is built).

The study's budget and concurrency reach every factory from the runner
(``budget``, ``concurrency`` keywords), so users never repeat them as options.
"""

from __future__ import annotations

import difflib
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


def _factory(registry_name: str) -> Callable[..., Any]:
    def build(
        search_space: Any,
        *,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        budget: int | None = None,
        concurrency: int | None = None,
    ) -> Any:
        from .sampler import NevergradSampler

        return NevergradSampler(
            search_space, optimizer=registry_name, optim_metrics=optim_metrics,
            trials=trials, seed=seed, budget=budget, concurrency=concurrency,
        )  # fmt: skip

    build.__name__ = f"nevergrad_{registry_name.lower()}"
    return build


def build_any(
    search_space: Any,
    *,
    optimizer: str = "NGOpt",
    optim_metrics: Mapping[str, Any] | None = None,
    trials: Iterable[Trial | Mapping[str, Any]] | None = None,
    seed: int | None = None,
    budget: int | None = None,
    concurrency: int | None = None,
) -> Any:
    """``nevergrad:any``: the optimizer named by the ``optimizer`` option."""
    from nevergrad.optimization import registry

    if optimizer not in registry:
        close = difflib.get_close_matches(optimizer, list(registry), n=3)
        hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
        raise SamplerOptionsError(
            f"nevergrad:any: optimizer {optimizer!r} is not in nevergrad's registry; {hint}"
            "list them with: python -c 'import nevergrad as ng; "
            "print(sorted(ng.optimizers.registry))'"
        )
    return _factory(optimizer)(
        search_space, optim_metrics=optim_metrics, trials=trials, seed=seed,
        budget=budget, concurrency=concurrency,
    )  # fmt: skip


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register ``nevergrad:ngopt`` (alias ``ngopt``), ``:de``, ``:oneplusone``, ``:cma``,
    ``:pso``, ``:random`` and ``:any`` (any optimizer in nevergrad's registry)."""
    common: dict[str, Any] = {
        "multi_objective": False,
        "requires": ("nevergrad",),
        "install_hint": "pip install hposampler-nevergrad",
    }
    for algorithm, registry_name, aliases, description in BACKENDS:
        register(
            SamplerSpec(
                f"nevergrad:{algorithm}",
                _factory(registry_name),
                aliases=aliases,
                description=description,
                options=(),
                needs_metrics=algorithm != "random",
                **common,
            )
        )
    register(
        SamplerSpec(
            "nevergrad:any",
            build_any,
            description="any optimizer of nevergrad's registry, named by the 'optimizer' option",
            options=_ANY_OPTIONS,
            needs_metrics=True,
            **common,
        )
    )
