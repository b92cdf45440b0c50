"""hposampler: pluggable hyperparameter samplers behind ablator's sampler contract.

>>> from hposampler import make_sampler, TrialState
>>> sampler = make_sampler("grid", {"lr": {"categorical_values": [0.1, 0.01]}}, seed=1)
>>> trial_id, config, internal = sampler.eager_sample()
>>> sampler.unlock(drop=False)
>>> sampler.update_trial(trial_id, {"loss": 0.5}, TrialState.COMPLETE)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    HposamplerError,
    MetricsError,
    MissingDependencyError,
    PluginError,
    SamplerLockedError,
    SamplerOptionsError,
    SearchSpaceError,
    UnknownSamplerError,
    UnknownTrialError,
)
from .hookspecs import hookimpl
from .sampler import BaseSampler
from .selection import SamplerConfig, available_samplers, get_sampler_spec, make_sampler
from .space import SearchSpace, parse_search_space
from .spec import ExecutorSpec, OptionSpec, SamplerSpec
from .tree import SpaceTree, compile_space
from .trial import Trial, TrialState

if TYPE_CHECKING:
    from .study import Study

__version__ = "0.1.0"

__all__ = [
    "BaseSampler",
    "ExecutorSpec",
    "HposamplerError",
    "MetricsError",
    "MissingDependencyError",
    "OptionSpec",
    "PluginError",
    "SamplerConfig",
    "SamplerLockedError",
    "SamplerOptionsError",
    "SamplerSpec",
    "SearchSpace",
    "SearchSpaceError",
    "SpaceTree",
    "Study",
    "Trial",
    "TrialState",
    "UnknownSamplerError",
    "UnknownTrialError",
    "__version__",
    "available_samplers",
    "compile_space",
    "get_sampler_spec",
    "hookimpl",
    "make_sampler",
    "parse_search_space",
]


def __getattr__(name: str) -> Any:
    # The study runner pulls in sqlite3 and the executors; import it on first use.
    if name == "Study":
        from .study import Study

        return Study
    raise AttributeError(f"module 'hposampler' has no attribute {name!r}")
