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
from .pruning import BasePruner, PrunerSpec, TrialPruned, available_pruners, make_pruner
from .sampler import BaseSampler
from .space import SearchSpace, parse_search_space
from .spec import ExecutorSpec, OptionSpec, SamplerSpec
from .tree import SpaceTree, compile_space
from .trial import Trial, TrialState

if TYPE_CHECKING:
    from .selection import SamplerConfig, available_samplers, get_sampler_spec, make_sampler
    from .study import Study

__version__ = "0.1.0"

__all__ = [
    "BasePruner",
    "BaseSampler",
    "ExecutorSpec",
    "HposamplerError",
    "MetricsError",
    "MissingDependencyError",
    "OptionSpec",
    "PluginError",
    "PrunerSpec",
    "SamplerConfig",
    "SamplerLockedError",
    "SamplerOptionsError",
    "SamplerSpec",
    "SearchSpace",
    "SearchSpaceError",
    "SpaceTree",
    "Study",
    "Trial",
    "TrialPruned",
    "TrialState",
    "UnknownSamplerError",
    "UnknownTrialError",
    "__version__",
    "available_pruners",
    "available_samplers",
    "compile_space",
    "get_sampler_spec",
    "hookimpl",
    "make_pruner",
    "make_sampler",
    "parse_search_space",
]


# Names whose modules load on first use: the plugin registry (selection) and the
# study runner (sqlite3, executors). ``import hposampler.sampler`` loads neither.
_LAZY = {
    "SamplerConfig": "selection",
    "available_samplers": "selection",
    "get_sampler_spec": "selection",
    "make_sampler": "selection",
    "Study": "study",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hposampler' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
