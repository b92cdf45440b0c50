"""hposampler plugin: registers scikit-optimize backends (imported when one is built)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hposampler import OptionSpec, SamplerSpec, hookimpl

OPTIONS = (
    OptionSpec("n_initial_points", 10, (int,), "random points before the model is used"),
    OptionSpec(
        "initial_point_generator",
        "random",
        doc="how initial points are drawn",
        choices=("random", "sobol", "halton", "hammersly", "lhs", "grid"),
    ),
    OptionSpec(
        "acq_func",
        "gp_hedge",
        doc="acquisition function",
        choices=("gp_hedge", "EI", "PI", "LCB", "EIps", "PIps"),
    ),
    OptionSpec(
        "acq_optimizer",
        "auto",
        doc="how the acquisition function is optimised",
        choices=("auto", "sampling", "lbfgs"),
    ),
    OptionSpec("acq_func_kwargs", None, (dict, type(None)), "e.g. {'xi': 0.01, 'kappa': 1.96}"),
    OptionSpec("acq_optimizer_kwargs", None, (dict, type(None)), "e.g. {'n_points': 10000}"),
    OptionSpec("n_jobs", 1, (int,), "parallel jobs for model fitting / acquisition"),
    OptionSpec("model_queue_size", None, (int, type(None)), "models kept in memory"),
    OptionSpec(
        "liar",
        "cl_min",
        doc="constant-liar value for pending trials",
        choices=("cl_min", "cl_mean", "cl_max"),
    ),
)

#: (algorithm, skopt base_estimator, description, model-based)
BACKENDS = [
    ("gp", "GP", "Gaussian-process Bayesian optimisation (scikit-optimize)", True),
    ("rf", "RF", "random-forest surrogate (scikit-optimize, SMAC-like)", True),
    ("et", "ET", "extra-trees surrogate (scikit-optimize)", True),
    ("gbrt", "GBRT", "gradient-boosted quantile-regression surrogate (scikit-optimize)", True),
    ("random", "dummy", "uniform random search through scikit-optimize's space", False),
]


def _factory(estimator: str) -> Callable[..., Any]:
    def build(search_space: Any, **kwargs: Any) -> Any:
        from .sampler import SkoptSampler

        return SkoptSampler(search_space, base_estimator=estimator, **kwargs)

    build.__name__ = f"skopt_{estimator.lower()}"
    return build


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register ``skopt:gp``, ``skopt:rf``, ``skopt:et``, ``skopt:gbrt`` and ``skopt:random``."""
    for algorithm, estimator, description, model_based in BACKENDS:
        register(
            SamplerSpec(
                f"skopt:{algorithm}",
                _factory(estimator),
                description=description,
                options=OPTIONS,
                multi_objective=False,
                conditional=model_based,
                needs_metrics=model_based,
            )
        )
