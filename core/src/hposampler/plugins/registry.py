"""Plugin discovery and the registry of what plugins provide.

Plugins are found through the ``hposampler`` entry-point group, lazily (on first
use) and once per process. Each entry point is loaded on its own: one that fails
to import or to register is recorded as a :class:`PluginFailure` and the others
still load.

Every kind (samplers, pruners, executors, storages, commands) is kept the same
way, in one table per kind: the first registration of a name, alias or URL
scheme wins (the core first, then this project's distributions, then the others
by name); a later one is ignored and recorded as a :class:`Clash`, or raised
as :class:`~hposampler.errors.PluginError` in strict mode.

Environment variables
---------------------
``HPOSAMPLER_STRICT_PLUGINS=1``
    Re-raise plugin failures (as :class:`~hposampler.errors.PluginError`) instead
    of recording them.
``HPOSAMPLER_DISABLE_PLUGINS=a,b``
    Do not load these entry points (by entry-point or distribution name).
``HPOSAMPLER_PLUGINS=pkg.mod1,pkg.mod2``
    Also register these modules as plugins (handy while developing one).
"""

from __future__ import annotations

import difflib
import importlib
import os
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import attrs
import pluggy

from hposampler.errors import PluginError, UnknownPluginError
from hposampler.plugins import hookspecs
from hposampler.plugins.discovery import ENTRY_POINT_GROUP, canonical_name, find_entry_points
from hposampler.plugins.specs import (
    CommandSpec,
    ExecutorSpec,
    PrunerSpec,
    SamplerSpec,
    StorageSpec,
    SuiteSpec,
)

__all__ = [
    "BUNDLED",
    "ENTRY_POINT_GROUP",
    "KINDS",
    "Clash",
    "DisabledPlugin",
    "PluginFailure",
    "PluginInfo",
    "PluginRegistry",
    "get_plugin_manager",
    "get_registry",
    "reset_plugins",
]

ENV_STRICT = "HPOSAMPLER_STRICT_PLUGINS"
ENV_DISABLE = "HPOSAMPLER_DISABLE_PLUGINS"
ENV_EXTRA = "HPOSAMPLER_PLUGINS"

# Modules of the core that are plugins too (registered before entry points).
_BUILTIN_PLUGINS = (
    "hposampler.study.executors",
    "hposampler.storage",
    "hposampler.bench.hooks",
    "hposampler.randomsearch",
    "hposampler.auto",
)


@attrs.frozen
class PluginInfo:
    """A loaded plugin: where it came from."""

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    source: str = "entry-point"

    @property
    def label(self) -> str:
        """``name (distribution version)`` for messages."""
        if self.distribution:
            return f"{self.name} ({self.distribution} {self.version or '?'})"
        return f"{self.name} ({self.source})"


@attrs.frozen
class PluginFailure:
    """A plugin that could not be imported or could not register."""

    name: str
    distribution: str | None
    version: str | None
    stage: str
    error: str

    def __str__(self) -> str:
        dist = f" from {self.distribution} {self.version or '?'}" if self.distribution else ""
        return f"plugin {self.name!r}{dist} failed to {self.stage}: {self.error}"


#: Every plugin kind: its hook and the spec class ``register`` takes.
KINDS: dict[str, tuple[str, type[Any]]] = {
    "sampler": ("register_samplers", SamplerSpec),
    "pruner": ("register_pruners", PrunerSpec),
    "executor": ("register_executors", ExecutorSpec),
    "storage": ("register_storages", StorageSpec),
    "command": ("register_commands", CommandSpec),
    "suite": ("register_suites", SuiteSpec),
}


def _keys(spec: Any) -> tuple[str, tuple[str, ...]]:
    """A spec's name (a storage's URL scheme) and its aliases."""
    if isinstance(spec, StorageSpec):
        return spec.scheme, tuple(spec.aliases)
    return spec.name, tuple(getattr(spec, "aliases", ()))


#: A kind's table: specs by name (with their plugin), and alias -> name.
Table = tuple[dict[str, tuple[Any, "PluginInfo"]], dict[str, str]]


@attrs.frozen
class Clash:
    """A name, alias or scheme that two plugins registered; the later one is ignored."""

    kind: str  # "name" or "alias"
    value: str
    kept: str  # the sampler that keeps it
    kept_plugin: PluginInfo
    dropped: str  # the sampler whose name or alias is ignored
    dropped_plugin: PluginInfo
    what: str = "sampler"  # the plugin kind: sampler, pruner, executor, storage, command

    def __str__(self) -> str:
        what = (
            f"{self.what} {self.dropped!r}"
            if self.kind == "name"
            else (f"alias {self.value!r} of {self.what} {self.dropped!r}")
        )
        disable = self.dropped_plugin.distribution or self.dropped_plugin.name
        return (
            f"{what} from plugin {self.dropped_plugin.label} is ignored: {self.value!r} is "
            f"{self.kept!r} from plugin {self.kept_plugin.label}; disable one of them "
            f"({ENV_DISABLE}={disable})"
        )


#: Distributions of this project: their samplers win name and alias clashes.
BUNDLED = ("hposampler-grid", "hposampler-optuna", "hposampler-skopt", "hposampler-nevergrad",
           "hposampler-hyperopt", "hposampler-ray", "hposampler-postgresql")  # fmt: skip


@attrs.frozen
class DisabledPlugin:
    """An entry point skipped because of ``HPOSAMPLER_DISABLE_PLUGINS``."""

    name: str
    distribution: str | None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _split_env(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class PluginRegistry:
    """Everything the loaded plugins provide.

    Attributes
    ----------
    pm : pluggy.PluginManager
        The plugin manager (hooks are called through ``pm.hook``).
    plugins : dict of str to PluginInfo
        Loaded plugins by name.
    failures : list of PluginFailure
        Plugins that failed to import or register.
    disabled : list of DisabledPlugin
        Entry points skipped by ``HPOSAMPLER_DISABLE_PLUGINS``.
    """

    def __init__(self, pm: pluggy.PluginManager, strict: bool) -> None:
        self.pm = pm
        self.strict = strict
        self.plugins: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []
        self.disabled: list[DisabledPlugin] = []
        self.clashes: list[Clash] = []
        self._tables: dict[str, Table] = {}
        self._reserved: dict[str, list[tuple[Any, PluginInfo]]] = {}
        self._lock = threading.RLock()

    # -- loading ------------------------------------------------------------------

    def _fail(self, info: PluginInfo, stage: str, exc: BaseException) -> None:
        failure = PluginFailure(info.name, info.distribution, info.version, stage, _describe(exc))
        if self.strict:
            raise PluginError(f"{failure} (set {ENV_STRICT}=0 to skip broken plugins)") from exc
        self.failures.append(failure)

    def add(self, module: ModuleType | object, info: PluginInfo) -> None:
        """Register ``module`` as a plugin (a failure is recorded, or raised if strict)."""
        try:
            self.pm.register(module, name=info.name)
        except ValueError as exc:  # already registered (same name or object)
            other = self.plugins.get(info.name)
            where = f" as {other.label}" if other else ""
            self._fail(info, "register", PluginError(f"{exc}{where}"))
            return
        except pluggy.PluginValidationError as exc:
            self._fail(info, "register", exc)
            return
        self.plugins[info.name] = info

    def load(self) -> None:
        """Register built-in plugins, entry points and ``HPOSAMPLER_PLUGINS`` modules."""
        for modname in _BUILTIN_PLUGINS:
            self.add(
                importlib.import_module(modname), PluginInfo(modname, modname, source="builtin")
            )
        blocked = {canonical_name(n) for n in _split_env(ENV_DISABLE)}
        for ep in find_entry_points(BUNDLED):
            dist_name, version = ep.distribution, ep.version
            if canonical_name(ep.name) in blocked or (
                dist_name and canonical_name(dist_name) in blocked
            ):
                self.disabled.append(DisabledPlugin(ep.name, dist_name))
                self.pm.set_blocked(ep.name)
                continue
            info = PluginInfo(ep.name, ep.value, dist_name, version)
            if ep.name in self.plugins:
                self._fail(
                    info,
                    "register",
                    PluginError(
                        f"entry point name {ep.name!r} is already used by "
                        f"{self.plugins[ep.name].label}; rename one of them"
                    ),
                )
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not break the others
                self._fail(info, "import", exc)
                continue
            self.add(module, info)
        for modname in _split_env(ENV_EXTRA):
            info = PluginInfo(modname, modname, source=ENV_EXTRA)
            try:
                module = importlib.import_module(modname)
            except Exception as exc:
                self._fail(info, "import", exc)
                continue
            self.add(module, info)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            plugin = getattr(exc, "plugin", None)
            name = self.pm.get_name(plugin) if plugin is not None else "?"
            raise PluginError(
                f"plugin {name!r} implements a hook hposampler does not define: {exc}; "
                "check the function names against hposampler.plugins.hookspecs"
            ) from exc

    # -- collecting registrations ----------------------------------------------------

    def _collect(
        self, hook_name: str, kind: type[Any], check: Callable[[Any, PluginInfo], bool | None]
    ) -> Iterator[tuple[Any, PluginInfo]]:
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order (pluggy calls LIFO)
            info = self.plugins.get(impl.plugin_name) or PluginInfo(
                impl.plugin_name, impl.plugin_name, source="direct"
            )
            got: list[Any] = []

            def register(spec: Any, _got: list[Any] = got, _info: PluginInfo = info) -> None:
                if not isinstance(spec, kind):
                    raise TypeError(
                        f"plugin {_info.label} registered {spec!r}; expected a {kind.__name__}"
                    )
                if check(spec, _info) is not False:
                    _got.append(spec)

            kwargs = {"register": register}
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except PluginError:
                raise
            except Exception as exc:
                self._fail(info, hook_name, exc)
                continue
            for spec in got:
                yield spec, info

    def _claim(self, spec: Any, info: PluginInfo, table: Table, what: str) -> bool:
        """Put ``spec`` in ``table``; a name or alias another plugin has is ignored and
        recorded as a :class:`Clash` (raised in strict mode). ``False``: not kept."""
        named, aliases = table
        name, own_aliases = _keys(spec)
        clashes = []
        for key in (name, *own_aliases):
            owner = named.get(key) or named.get(aliases.get(key, ""))
            if owner is not None:
                kind = "name" if key == name else "alias"
                clashes.append(Clash(kind, key, _keys(owner[0])[0], owner[1], name, info, what))
        if clashes and self.strict:
            raise PluginError(f"{clashes[0]} (set {ENV_STRICT}=0 to keep the first one)")
        self.clashes += clashes
        if any(c.kind == "name" for c in clashes):
            return False
        taken = {c.value for c in clashes}
        named[name] = (spec, info)
        aliases.update({a: name for a in own_aliases if a not in taken})
        return True

    def reserve(self, kind: str, specs: list[Any], owner: PluginInfo) -> None:
        """Put the core's own ``specs`` of ``kind`` first in its table (the command line's
        commands): a plugin's spec of the same name is a clash, like any other."""
        with self._lock:
            pairs = [(spec, owner) for spec in specs]
            if [_keys(s) for s, _ in self._reserved.get(kind, [])] != [_keys(s) for s in specs]:
                self._reserved[kind] = pairs
                self._tables.pop(kind, None)

    def table(self, kind: str) -> Table:
        """Everything registered of one plugin ``kind`` (see :data:`KINDS`): specs by name
        with their plugins, and aliases; collected on first use."""
        hook, spec_class = KINDS[kind]
        with self._lock:
            if kind not in self._tables:
                table: Table = ({}, {})
                self.clashes = [c for c in self.clashes if c.what != kind]
                for spec, owner in self._reserved.get(kind, []):
                    self._claim(spec, owner, table, kind)

                def check(spec: Any, info: PluginInfo) -> bool:
                    return self._claim(spec, info, table, kind)

                for _ in self._collect(hook, spec_class, check):
                    pass
                self._tables[kind] = table
            return self._tables[kind]

    def samplers(self) -> dict[str, tuple[SamplerSpec, PluginInfo]]:
        """Registered samplers by name, with the plugin that registered each."""
        return self.table("sampler")[0]

    def aliases(self) -> dict[str, str]:
        """Alias -> sampler name."""
        return dict(self.table("sampler")[1])

    def executors(self) -> dict[str, tuple[ExecutorSpec, PluginInfo]]:
        """Registered executors by name, with the plugin that registered each."""
        return self.table("executor")[0]

    def pruners(self) -> dict[str, tuple[PrunerSpec, PluginInfo]]:
        """Registered pruners by name, with their plugins."""
        return self.table("pruner")[0]

    def pruner_aliases(self) -> dict[str, str]:
        """Pruner alias -> pruner name."""
        return dict(self.table("pruner")[1])

    def storages(self) -> dict[str, tuple[StorageSpec, PluginInfo]]:
        """Registered storages by URL scheme (aliases included), with their plugins."""
        named, aliases = self.table("storage")
        return {**named, **{alias: named[name] for alias, name in aliases.items()}}

    def commands(self) -> dict[str, tuple[CommandSpec, PluginInfo]]:
        """Commands plugins add to the ``hposampler`` command line, by name."""
        return self.table("command")[0]

    def suites(self) -> dict[str, tuple[SuiteSpec, PluginInfo]]:
        """Benchmark suites by name, with the plugin that registered each."""
        return self.table("suite")[0]

    def lookup(self, kind: str, name: Any) -> tuple[Any, PluginInfo]:
        """The ``kind`` (a key of :data:`KINDS`) called ``name`` (exact name, then alias),
        with its plugin.

        Raises
        ------
        UnknownPluginError
            With close matches (also on the algorithm part: ``"cmaes"`` suggests
            ``"optuna:cmaes"``), the installed names, and the plugins that failed or
            clashed, which may provide it.
        """
        named, aliases = self.table(kind)
        name = getattr(name, "value", name)  # an enum (ablator's SearchAlgo.tpe) by its value
        if not isinstance(name, str):
            raise UnknownPluginError(kind, repr(name), named)
        key = name.strip().lower()
        if key in named:
            return named[key]
        if key in aliases:
            return named[aliases[key]]
        base, slash, sub = key.partition("/")
        if slash and sub and base in named and getattr(named[base][0], "subnames", False):
            spec, info = named[base]
            return spec.specialise(sub), info  # "optunahub:samplers/auto_sampler"
        raise UnknownPluginError(
            kind, name, named, self._suggestions(key, named, aliases), note=self._why_missing(kind)
        )

    def _suggestions(self, key: str, named: dict[str, Any], aliases: dict[str, str]) -> list[str]:
        known = sorted(set(named) | set(aliases))
        suggestions = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
        suggestions += [n for n in named if n.partition(":")[2] == key and n not in suggestions]
        # an alias and the name it stands for are one suggestion: keep the first said
        meant = [aliases.get(s, s) for s in suggestions]
        return [s for i, s in enumerate(suggestions) if meant.index(meant[i]) == i]

    def _why_missing(self, kind: str) -> str:
        broken = [f.name for f in self.failures]
        broken += [c.dropped for c in self.clashes if c.what == kind]
        if not broken:
            return ""
        return (
            f"Plugins that failed to load or clashed ({', '.join(broken)}) may provide it: "
            "`hposampler list` shows why."
        )


_registry: PluginRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """The process-wide registry, discovering plugins on first call."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                pm = pluggy.PluginManager("hposampler")
                pm.add_hookspecs(hookspecs)
                registry = PluginRegistry(pm, strict=_truthy(os.environ.get(ENV_STRICT)))
                registry.load()
                _registry = registry
    return _registry


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide pluggy plugin manager (plugins loaded)."""
    return get_registry().pm


def reset_plugins(registry: PluginRegistry | None = None) -> None:
    """Forget loaded plugins so the next use discovers them again (for tests).

    Parameters
    ----------
    registry : PluginRegistry, optional
        Use this registry instead of discovering one.
    """
    global _registry
    with _registry_lock:
        _registry = registry
