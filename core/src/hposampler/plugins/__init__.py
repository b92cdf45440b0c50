"""The plugin system: what plugins register, the hooks they implement, and discovery.

:mod:`~hposampler.plugins.specs`
    One spec per plugin kind (:class:`SamplerSpec`, :class:`PrunerSpec`,
    :class:`ExecutorSpec`, :class:`StorageSpec`) and :class:`OptionSpec`.
:mod:`~hposampler.plugins.hookspecs`
    The hook specifications and the :data:`hookimpl` marker.
:mod:`~hposampler.plugins.registry`
    Discovery through the ``hposampler`` entry-point group, failures and clashes,
    and the process-wide :func:`get_registry`.

The specs sit beneath the hooks, and the hooks beneath the registry. This package
builds on the sampler and pruner contracts (:mod:`hposampler.samplers`,
:mod:`hposampler.pruning`), the types factories return. What looks plugins up by
name sits above it: :mod:`hposampler.selection` (samplers, pruners),
:mod:`hposampler.storage` (storages by URL scheme) and
:mod:`hposampler.study.executors`.
"""

from __future__ import annotations

from hposampler.plugins.hookspecs import hookimpl, hookspec
from hposampler.plugins.registry import (
    BUNDLED,
    ENTRY_POINT_GROUP,
    Clash,
    DisabledPlugin,
    PluginFailure,
    PluginInfo,
    PluginRegistry,
    get_plugin_manager,
    get_registry,
    reset_plugins,
)
from hposampler.plugins.specs import (
    ExecutorSpec,
    OptionSpec,
    PrunerSpec,
    PythonObject,
    SamplerSpec,
    StorageSpec,
    SuiteSpec,
    check_options,
    infer_options,
)

__all__ = [
    "BUNDLED",
    "ENTRY_POINT_GROUP",
    "Clash",
    "DisabledPlugin",
    "ExecutorSpec",
    "OptionSpec",
    "PluginFailure",
    "PluginInfo",
    "PluginRegistry",
    "PrunerSpec",
    "PythonObject",
    "SamplerSpec",
    "StorageSpec",
    "SuiteSpec",
    "check_options",
    "get_plugin_manager",
    "get_registry",
    "hookimpl",
    "hookspec",
    "infer_options",
    "reset_plugins",
]
