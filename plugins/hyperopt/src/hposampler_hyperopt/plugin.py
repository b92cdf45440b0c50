"""hposampler plugin: registers hyperopt's algorithms (imported when one is built)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hposampler import OptionSpec, SamplerSpec, Trial, hookimpl

_TPE_OPTIONS = (
    OptionSpec("n_startup_jobs", 20, (int,), "random trials before TPE's model is used"),
    OptionSpec("n_EI_candidates", 24, (int,), "candidates scored per sample"),
    OptionSpec("gamma", 0.25, (float,), "fraction of trials modelled as good"),
    OptionSpec("prior_weight", 1.0, (float,), "weight of the prior against observations"),
)
_ANNEAL_OPTIONS = (
    OptionSpec("avg_best_idx", 2.0, (float,), "mean rank of the trial explored around"),
    OptionSpec("shrink_coef", 0.1, (float,), "how fast the neighbourhood shrinks"),
)

#: (algorithm, hyperopt module, description, options)
BACKENDS = [
    ("tpe", "tpe", "hyperopt's Tree-structured Parzen Estimator", _TPE_OPTIONS),
    ("anneal", "anneal", "hyperopt's simulated annealing around the best trials", _ANNEAL_OPTIONS),
    ("random", "rand", "uniform random search through hyperopt", ()),
]


def _positive(name: str, value: Any, *, upper: float | None = None) -> None:
    from hposampler import SamplerOptionsError

    if value <= 0 or (upper is not None and value > upper):
        bound = f"in (0, {upper}]" if upper is not None else "positive"
        raise SamplerOptionsError(f"hyperopt option {name} must be {bound}, got {value!r}")


def _factory(module: str) -> Callable[..., Any]:
    def build(
        search_space: Any,
        *,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> Any:
        import importlib

        from .sampler import HyperoptSampler

        for name, value in options.items():
            if name == "n_startup_jobs":
                if value < 0:
                    _positive(name, value)
            else:
                _positive(name, value, upper=1.0 if name == "gamma" else None)
        suggest = importlib.import_module(f"hyperopt.{module}").suggest
        algo = functools.partial(suggest, **options) if options else suggest
        return HyperoptSampler(
            search_space, algo=algo, optim_metrics=optim_metrics, trials=trials, seed=seed
        )

    build.__name__ = f"hyperopt_{module}"
    return build


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register ``hyperopt:tpe``, ``hyperopt:anneal`` and ``hyperopt:random``."""
    for algorithm, module, description, options in BACKENDS:
        register(
            SamplerSpec(
                f"hyperopt:{algorithm}",
                _factory(module),
                description=description,
                options=options,
                multi_objective=False,
                needs_metrics=algorithm != "random",
                requires=("hyperopt",),
                install_hint="pip install 'hyperopt>=0.2.7'",
            )
        )
