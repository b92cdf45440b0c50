"""The hooks a plugin can implement.

A plugin is a module (named by an entry point in the ``hposampler`` group) with
functions decorated by :data:`hposampler.hookimpl` and named after these hooks.
Implement only the hooks you need; argument names must match, and a hook may
take a subset of the arguments.

Every hook here is documented in ``docs/plugins.md``; a test keeps the two in step.

Every ``register_*`` hook follows one clash policy: the first registration of a
name (or alias, or URL scheme) wins, the core's and this project's bundled
distributions first, then the others by distribution name; a later one is
ignored and recorded as a clash (``hposampler list`` shows it), and
``HPOSAMPLER_STRICT_PLUGINS=1`` turns a clash into a
:class:`~hposampler.errors.PluginError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

from hposampler.plugins.specs import (
    CommandSpec,
    ExecutorSpec,
    PrunerSpec,
    SamplerSpec,
    StorageSpec,
    SuiteSpec,
)
from hposampler.samplers.base import BaseSampler
from hposampler.samplers.trial import TrialState

__all__ = ["hookimpl", "hookspec"]

#: Marks the hook specifications below (for hposampler's own use).
hookspec = pluggy.HookspecMarker("hposampler")
#: Marks a plugin's hook implementations: ``@hookimpl def register_samplers(register): ...``
hookimpl = pluggy.HookimplMarker("hposampler")


@hookspec
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register the sampler backends this plugin provides.

    Called once, when samplers are first needed. Call ``register`` once per
    backend with a :class:`~hposampler.SamplerSpec`. Do not import heavy
    libraries here: the factory should import them when a sampler is built.

    Parameters
    ----------
    register : callable
        ``register(spec)``; a name or alias another plugin registered first is
        ignored (see the clash policy above).
    """


@hookspec
def register_executors(register: Callable[[ExecutorSpec], None]) -> None:
    """Register executors (ways to run objectives) this plugin provides.

    Called once, when executors are first needed. Call ``register`` once per
    executor with an :class:`~hposampler.plugins.specs.ExecutorSpec`. The core registers
    ``thread`` and ``process`` this way.

    Parameters
    ----------
    register : callable
        ``register(spec)``.
    """


@hookspec
def register_pruners(register: Callable[[PrunerSpec], None]) -> None:
    """Register pruners (early stopping of poor trials) this plugin provides.

    Called once, when pruners are first needed (a study with a pruner, or
    ``hposampler list``). Call ``register`` once per pruner with a
    :class:`~hposampler.PrunerSpec`; its factory returns a
    :class:`~hposampler.pruning.BasePruner`. Import heavy libraries in the
    factory, not here.

    Parameters
    ----------
    register : callable
        ``register(spec)``.
    """


@hookspec
def register_storages(register: Callable[[StorageSpec], None]) -> None:
    """Register storages (where studies live), each chosen by a URL scheme.

    Called once, when a storage URL with a scheme other than ``sqlite`` is first
    opened. Call ``register`` once per storage with a
    :class:`~hposampler.storage.StorageSpec`; its factory receives the whole URL
    and returns an object following the :class:`~hposampler.storage.Storage`
    protocol. The core registers ``sqlite`` this way. Import the database driver
    in the factory, not here.

    Parameters
    ----------
    register : callable
        ``register(spec)``; a scheme another plugin registered first is ignored.
    """


@hookspec
def register_commands(register: Callable[[CommandSpec], None]) -> None:
    """Register commands of the ``hposampler`` command line this plugin provides.

    Called once, when the command line lists or runs commands. Call ``register``
    once per command with a :class:`~hposampler.plugins.specs.CommandSpec`; its
    factory returns the :class:`click.Command` and is called only when the
    command runs or shows its help. The helpers the core's commands use
    (``hposampler.cli.base``: ``user_errors``, ``storage_option``,
    ``output_option``) are there for plugin commands too.

    Parameters
    ----------
    register : callable
        ``register(spec)``; a name the core or another plugin has is ignored.
    """


@hookspec
def register_suites(register: Callable[[SuiteSpec], None]) -> None:
    """Register benchmark suites this plugin provides (``hposampler bench --suite``).

    Called once, when the bench lists or runs suites. Call ``register`` once per
    suite with a :class:`~hposampler.plugins.specs.SuiteSpec`; its factory
    returns a :class:`hposampler.bench.Suite` (tasks with a search space, metrics,
    a reference optimum and an objective) and is called only when the suite is
    used, so load data and import libraries there.

    Parameters
    ----------
    register : callable
        ``register(spec)``; a name another plugin registered first is ignored.
    """


@hookspec
def trial_sampled(sampler: BaseSampler, trial_id: int, config: dict[str, Any]) -> None:
    """Called by every sampler after ``eager_sample`` produced a trial (still locked).

    Parameters
    ----------
    sampler : BaseSampler
        The sampler that produced the trial.
    trial_id : int
        The trial's id.
    config : dict
        The sampled configuration; treat it as read-only.
    """


@hookspec
def trial_unlocked(sampler: BaseSampler, trial_id: int, dropped: bool) -> None:
    """Called by every sampler after ``unlock`` accepted or dropped a trial.

    Parameters
    ----------
    sampler : BaseSampler
        The sampler.
    trial_id : int
        The trial's id (a dropped id will be handed out again).
    dropped : bool
        Whether the trial was dropped.
    """


@hookspec
def trial_updated(
    sampler: BaseSampler,
    trial_id: int,
    metrics: dict[str, float | None] | None,
    state: TrialState,
) -> None:
    """Called by every sampler after ``update_trial`` recorded metrics and a state.

    Parameters
    ----------
    sampler : BaseSampler
        The sampler.
    trial_id : int
        The trial's id.
    metrics : dict or None
        The validated metrics (``None`` values mean "worst").
    state : TrialState
        The new state.
    """
