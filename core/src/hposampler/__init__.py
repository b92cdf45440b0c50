"""hposampler: pluggable hyperparameter samplers behind ablator's sampler contract.

The packages, from the bottom layer up (each imports only those beneath it;
``lint-imports`` checks it, and docs/architecture.md draws it): ``errors``;
``space`` (search spaces, the compiled tree); ``samplers`` (the sampler
contract); ``pruning`` (the pruner contract); ``plugins`` (specs, hooks,
discovery); ``storage``, ``selection`` and ``problems``; ``study``
(studies and the runner); ``viz``, ``testing`` and ``compat``;
``bench``; ``cli``.

>>> from hposampler import make_sampler, TrialState
>>> sampler = make_sampler("grid", {"lr": {"categorical_values": [0.1, 0.01]}}, seed=1)
>>> trial_id, config, internal = sampler.eager_sample()
>>> sampler.unlock(drop=False)
>>> sampler.update_trial(trial_id, {"loss": 0.5}, TrialState.COMPLETE)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hposampler import _moved
from hposampler.errors import (
    HposamplerError,
    MetricsError,
    MissingDependencyError,
    PluginError,
    SamplerLockedError,
    SamplerOptionsError,
    SearchSpaceError,
    UnknownPluginError,
    UnknownSamplerError,
    UnknownTrialError,
)
from hposampler.plugins.hookspecs import hookimpl
from hposampler.plugins.specs import ExecutorSpec, OptionSpec, PrunerSpec, SamplerSpec
from hposampler.pruning import BasePruner, TrialPruned
from hposampler.samplers.base import BaseSampler
from hposampler.samplers.trial import Trial, TrialState
from hposampler.space.model import SearchSpace, parse_search_space
from hposampler.space.tree import SpaceTree, compile_space

if TYPE_CHECKING:
    from hposampler.selection import (
        SamplerConfig,
        available_samplers,
        get_sampler_spec,
        make_sampler,
    )
    from hposampler.study import delete_study
    from hposampler.study.study import Study

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
    "UnknownPluginError",
    "UnknownSamplerError",
    "UnknownTrialError",
    "__version__",
    "available_pruners",
    "available_samplers",
    "compile_space",
    "delete_study",
    "get_sampler_spec",
    "hookimpl",
    "make_pruner",
    "make_sampler",
    "parse_search_space",
]


_moved.install()

# Names whose modules load on first use: the plugin registry (selection) and the
# study runner (sqlite3, executors). Importing the contract loads neither.
_LAZY = {
    "SamplerConfig": "selection",
    "available_pruners": "selection",
    "make_pruner": "selection",
    "available_samplers": "selection",
    "get_sampler_spec": "selection",
    "make_sampler": "selection",
    "Study": "study",
    "delete_study": "study",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hposampler' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
