"""What a plugin registers: one spec per plugin kind, and the options they take.

:class:`SamplerSpec`, :class:`PrunerSpec`, :class:`ExecutorSpec`,
:class:`StorageSpec`, :class:`CommandSpec` and :class:`SuiteSpec` are what the
``register_*`` hooks receive;
:class:`OptionSpec` describes one option of a factory (:func:`infer_options`
reads them from its signature) and :func:`check_options` validates given options.

The specs sit beneath the hook specifications and the registry: this module
imports the sampler and pruner contracts (the types factories return) and nothing
that looks plugins up.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from hposampler.errors import SamplerOptionsError
from hposampler.pruning import BasePruner
from hposampler.samplers.base import BaseSampler

__all__ = [
    "CAPABILITIES",
    "CommandSpec",
    "ExecutorSpec",
    "OptionSpec",
    "PrunerSpec",
    "PythonObject",
    "SamplerSpec",
    "StorageSpec",
    "SuiteSpec",
    "check_options",
    "infer_options",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*:[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)?$")
_ALIAS = re.compile(r"^[a-z0-9][a-z0-9_.:-]*$")

#: The capability flags of a :class:`SamplerSpec`, with what each promises.
CAPABILITIES: dict[str, str] = {
    "multi_objective": "accepts two or more optim_metrics",
    "conditional": "learns conditional spaces (subspaces) natively",
    "concurrent": "proposes distinct configs while earlier trials are still running",
    "exhaustive": "enumerates a finite space; stops or cycles when done",
    "deterministic": "the same seed gives the same sequence of configs",
    "needs_metrics": "needs optim_metrics (model-based: learns from results)",
    "constraints": "uses a study's constraints (values <= 0 feasible) when it samples",
}


class PythonObject:
    """Marks an option that takes a Python object (a sampler, an operator, an array).

    Plain data (text, numbers, booleans, lists, dicts: what a study file holds)
    is refused for it, so a string from a config file never stands in for code.
    """


def _type_names(types: tuple[Any, ...]) -> str:
    names = {type(None): "None", PythonObject: "a Python object", Callable: "a Python callable"}
    return " or ".join(names.get(t, getattr(t, "__name__", str(t))) for t in types)


_PLAIN_DATA = (str, int, float, bool, list, dict, tuple)


def _is_instance(value: Any, t: Any) -> bool:
    if t is type(None):
        return value is None
    if t is PythonObject:
        return value is not None and not isinstance(value, _PLAIN_DATA)
    if t is Callable:
        return callable(value) and not isinstance(value, type(None))
    if isinstance(value, bool) and t in (int, float):
        return False  # True is not a count
    if t is float:
        return isinstance(value, (int, float))
    return isinstance(value, t)


@attrs.frozen
class OptionSpec:
    """One backend option: its name, default, accepted types and documentation.

    Parameters
    ----------
    name : str
        Keyword passed to the factory.
    default : object
        The backend's default (for docs and ``hposampler list``); not passed.
    types : tuple of type, optional
        Accepted types; ``None`` accepts any value. An ``int`` is accepted where
        ``float`` is; ``bool`` is never taken for ``int``.
        ``collections.abc.Callable`` accepts callables and :class:`PythonObject`
        any object that is not plain data, so such options cannot be filled from
        a study file.
    doc : str
        One line of documentation.
    choices : tuple, optional
        The only allowed values.
    low, high : number, optional
        Inclusive bounds of a number (``low=1`` for a count, ``low=0, high=1`` for
        a fraction).
    validator : callable, optional
        ``validator(value)`` returns ``None`` for a good value, else one line
        saying what is wrong (``"must be odd"``); it runs after the type and bound
        checks.

    Notes
    -----
    All of them are checked before the factory is called, so a bad value is one
    :class:`~hposampler.errors.SamplerOptionsError` line naming the option, in
    every frontend, rather than the factory's ``ValueError`` blamed on the plugin.
    """

    name: str
    default: Any = None
    types: tuple[Any, ...] | None = None
    doc: str = ""
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    validator: Callable[[Any], str | None] | None = None

    def is_default(self, value: Any) -> bool:
        """Whether ``value`` is the declared default (the same object, or an equal
        value of the same type): passing it is the same as leaving the option out."""
        if value is self.default:
            return True
        if type(value) is not type(self.default):
            return False
        try:
            return bool(value == self.default)
        except Exception:  # an object whose == does not give a bool (an array)
            return False

    def check(self, value: Any, sampler: str) -> Any:
        """Return ``value`` if valid for this option, else raise ``SamplerOptionsError``.

        The declared default is always valid: passing it is the same as leaving
        the option out.
        """
        if self.is_default(value):
            return value
        if self.choices is not None:
            if value not in self.choices:
                raise SamplerOptionsError(
                    f"option {self.name!r} of sampler {sampler!r} must be one of "
                    f"{', '.join(map(repr, self.choices))}; got {value!r}"
                )
            return value
        if self.types is None:
            return self._check_value(value, sampler)
        if not any(_is_instance(value, t) for t in self.types):
            code = any(t in (Callable, PythonObject) for t in self.types)
            hint = (
                " (options taking code or objects can only be given from Python, "
                "not from a study file)"
                if code
                else ""
            )
            raise SamplerOptionsError(
                f"option {self.name!r} of sampler {sampler!r} must be "
                f"{_type_names(self.types)}; got {type(value).__name__} {value!r}{hint}"
            )
        return self._check_value(value, sampler)

    def _check_value(self, value: Any, sampler: str) -> Any:
        """The bounds and the validator (after the type check)."""
        where = f"option {self.name!r} of sampler {sampler!r}"
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if number and self.low is not None and value < self.low:
            raise SamplerOptionsError(f"{where} must be >= {self.low}; got {value!r}")
        if number and self.high is not None and value > self.high:
            raise SamplerOptionsError(f"{where} must be <= {self.high}; got {value!r}")
        if self.validator is not None:
            problem = self.validator(value)
            if problem:
                raise SamplerOptionsError(f"{where} {problem}; got {value!r}")
        return value


def _check_name(_: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"sampler name {value!r} must look like 'family:algorithm' "
            "(lowercase letters, digits, '_', '.', '-')"
        )


def _check_aliases(_: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for alias in value:
        if not isinstance(alias, str) or not _ALIAS.match(alias):
            raise ValueError(f"alias {alias!r} must be lowercase letters, digits, '_.:-'")


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):  # a lone string is one name, not its characters
        return (value,)
    return tuple(value)


def _options_tuple(value: Any) -> tuple[OptionSpec, ...]:
    return tuple(value)


#: Keywords every factory receives from the core; never options.
STANDARD_KEYWORDS = frozenset(
    {"optim_metrics", "trials", "seed", "budget", "concurrency", "pruner", "constraints", "subname"}
)
_SIMPLE_TYPES = (bool, int, float, str, dict, list, tuple)


def _annotation_types(annotation: Any) -> tuple[type, ...] | None:
    """``int`` -> ``(int,)``; ``float | None`` -> ``(float, NoneType)``; else ``None`` (any)."""
    if annotation is inspect.Parameter.empty:
        return None
    if annotation is None or annotation is type(None):
        return (type(None),)
    if isinstance(annotation, type) and annotation in _SIMPLE_TYPES:
        return (annotation,)
    members = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if members and (origin is typing.Union or origin is types.UnionType):
        out: list[type] = []
        for member in members:
            sub = _annotation_types(member)
            if sub is None:
                return None
            out.extend(sub)
        return tuple(out)
    return None


def infer_options(factory: Callable[..., Any]) -> tuple[OptionSpec, ...]:
    """Options read from a factory's keyword parameters (as scikit-learn reads ``__init__``).

    Every parameter after the search space that has a default, other than the
    keywords the core passes itself (``optim_metrics``, ``trials``, ``seed``,
    ``budget``, ``concurrency``), becomes an :class:`OptionSpec` with that default;
    simple annotations (``int``, ``float | None``, ...) give its accepted types.
    ``**kwargs`` accepts nothing more: declare such options explicitly.
    """
    target = factory.__init__ if isinstance(factory, type) else factory  # type: ignore[misc]
    try:
        signature = inspect.signature(target, eval_str=True)
    except (TypeError, ValueError, NameError):
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):
            return ()
    params = list(signature.parameters.values())
    if isinstance(factory, type) and params:
        params = params[1:]  # self
    out = []
    for param in params[1:]:  # the first one is the search space
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name in STANDARD_KEYWORDS or param.default is param.empty:
            continue
        out.append(OptionSpec(param.name, param.default, _annotation_types(param.annotation)))
    return tuple(out)


def _default_options(spec: Any) -> tuple[OptionSpec, ...]:
    return infer_options(spec.factory)


@attrs.frozen
class SamplerSpec:
    """A sampler backend as a plugin registers it.

    Parameters
    ----------
    name : str
        Unique name, ``"family:algorithm"`` (e.g. ``"optuna:tpe"``).
    factory : callable
        Called as ``factory(search_space, optim_metrics=..., trials=..., seed=...,
        **options)``; returns a :class:`~hposampler.BaseSampler`. A ``BaseSampler``
        subclass is its own factory.
    aliases : tuple of str
        Short names (``"tpe"``); must not clash with other samplers.
    description : str
        One line for ``hposampler list`` and the docs.
    options : tuple of OptionSpec, optional
        The options the factory accepts; anything else is refused. When not
        given they are inferred from the factory's keyword parameters
        (:func:`infer_options`); ``()`` declares that it takes none.
    multi_objective, conditional, concurrent, exhaustive, deterministic : bool
        Capability flags, see :data:`CAPABILITIES`. The core checks a request
        against them before calling the factory.
    needs_metrics : bool, optional
        ``True``: learns from results (a study without metrics is refused);
        ``False``: ignores results by design (random, quasi-random). Not given
        (``None``): treated as ``False`` by the core, but the conformance kit
        runs its learning checks, so a model-based sampler whose author forgot
        the flag cannot pass while ignoring results; a result-blind sampler
        declares ``False``.
    constraints : bool
        The backend uses a study's constraints: its factory takes a
        ``constraints`` keyword (the names of the constraint values, each
        feasible when ``<= 0``) and its sampler reads their values from the
        metrics it is told (see :attr:`BaseSampler.constraints`). A study with
        constraints is refused by a backend without this flag.
    max_pending : int, optional
        The most trials that may be pending (sampled, not yet finished) at once;
        ``1`` for a sequential backend. The study runner never has more in flight,
        whatever its ``concurrency``. ``None``: no limit.
    requires : tuple of str
        Modules that must be importable to build the sampler (checked without
        importing them); ``install_hint`` says how to get them.
    install_hint : str
        Shown when a module of ``requires`` is missing.
    resumes_from_configs : bool
        The backend resumes exactly from the trials' configs and results alone
        (Optuna's samplers rebuild their study from them), so no internal state
        needs storing beside them; ``compat.ablator`` then keeps only ablator's
        own internal keys.
    subnames : bool
        The name stands for a family of samplers named ``<name>/<subname>``
        (``"optunahub:samplers/auto_sampler"``): looking such a name up gives
        this spec with the full name, and the factory is called with
        ``subname=<subname>``. Its ``subname`` keyword is not an option.
    """

    name: str = attrs.field(validator=_check_name)
    factory: Callable[..., BaseSampler] = attrs.field(validator=attrs.validators.is_callable())
    aliases: tuple[str, ...] = attrs.field(
        default=(), converter=_str_tuple, validator=_check_aliases
    )
    description: str = ""
    options: tuple[OptionSpec, ...] = attrs.field(
        default=attrs.Factory(_default_options, takes_self=True), converter=_options_tuple
    )
    multi_objective: bool = False
    conditional: bool = True
    concurrent: bool = True
    exhaustive: bool = False
    deterministic: bool = True
    needs_metrics: bool | None = None
    constraints: bool = False
    max_pending: int | None = attrs.field(default=None)
    requires: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    install_hint: str = ""
    resumes_from_configs: bool = False
    subnames: bool = False

    @max_pending.validator
    def _check_max_pending(self, attribute: Any, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):  # fmt: skip
            raise ValueError(f"max_pending must be a positive int or None, got {value!r}")

    @property
    def capabilities(self) -> dict[str, bool]:
        """The capability flags by name."""
        return {flag: bool(getattr(self, flag)) for flag in CAPABILITIES}

    def check_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Validate options against :attr:`options`; return them unchanged.

        Raises
        ------
        SamplerOptionsError
            For an unknown name (with close matches and the valid names) or a
            value of the wrong type.
        """
        return check_options("sampler", self.name, self.options, options)

    def specialise(self, subname: str) -> SamplerSpec:
        """The spec of ``<name>/<subname>`` for a spec with :attr:`subnames`: its
        factory is called with ``subname=<subname>``.

        Raises
        ------
        ValueError
            For a spec without :attr:`subnames`.
        """
        if not self.subnames:
            raise ValueError(f"sampler {self.name!r} takes no '/<name>' after its name")
        return attrs.evolve(
            self,
            name=f"{self.name}/{subname}",
            factory=functools.partial(self.factory, subname=subname),
            aliases=(),
            options=self.options,
            subnames=False,
        )


@attrs.frozen
class ExecutorSpec:
    """A way to run objectives (threads, processes, a Ray cluster, ...).

    Parameters
    ----------
    name : str
        Unique name used by ``Study.optimize(executor=...)``.
    factory : callable
        Called as ``factory(max_workers=..., **options)``; returns a
        :class:`~hposampler.study.executors.Executor` (or a plain
        :class:`concurrent.futures.Executor`, which gets default capabilities).
    description : str
        One line for ``hposampler list``.
    options : tuple of OptionSpec
        Options accepted by the factory.
    run_flags : tuple of str
        Options that ``hposampler run`` offers as flags of their own,
        ``--<executor>-<option>`` (the Ray plugin's ``address`` is
        ``--ray-address``); giving one also picks this executor.
    """

    name: str
    factory: Callable[..., Any] = attrs.field(validator=attrs.validators.is_callable())
    description: str = ""
    options: tuple[OptionSpec, ...] = attrs.field(default=(), converter=_options_tuple)
    run_flags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)

    @run_flags.validator
    def _check_run_flags(self, attribute: Any, value: tuple[str, ...]) -> None:
        names = [o.name for o in self.options]
        for flag in value:
            if flag not in names:
                raise ValueError(
                    f"executor {self.name!r}: run flag {flag!r} is not one of its options "
                    f"({', '.join(names) or 'none'})"
                )

    def flag(self, option: str) -> str:
        """The ``hposampler run`` flag of an option in :attr:`run_flags` (``--ray-address``)."""
        return f"--{self.name}-{option}".replace("_", "-")

    def check_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Validate options; see :meth:`SamplerSpec.check_options`."""
        return check_options("executor", self.name, self.options, options)


def check_options(
    kind: str, owner: str, specs: tuple[OptionSpec, ...], options: Mapping[str, Any]
) -> dict[str, Any]:
    """Check ``options`` against ``specs`` for the ``kind`` (sampler/executor) ``owner``."""
    valid = [o.name for o in specs]
    out = {}
    for key, value in options.items():
        spec = next((o for o in specs if o.name == key), None)
        if spec is None:
            close = difflib.get_close_matches(key, valid, n=2)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            listing = ", ".join(valid) if valid else f"none (this {kind} takes no options)"
            raise SamplerOptionsError(
                f"{kind} {owner!r} has no option {key!r}.{hint} Valid options: {listing}."
            )
        out[key] = spec.check(value, owner)
    return out


@attrs.frozen
class PrunerSpec:
    """A pruner as a plugin registers it.

    Parameters
    ----------
    name : str
        Unique name, ``"family:algorithm"`` (e.g. ``"optuna:median"``).
    factory : callable
        Called as ``factory(optim_metrics=..., **options)``; returns a
        :class:`BasePruner`.
    aliases : tuple of str
        Short names (``"median"``); must not clash with other pruners.
    description : str
        One line for ``hposampler list`` and the docs.
    options : tuple of OptionSpec, optional
        The options the factory accepts (inferred from its keyword parameters
        when not given, as for samplers).
    """

    name: str = attrs.field(validator=_check_name)
    factory: Callable[..., BasePruner] = attrs.field(validator=attrs.validators.is_callable())
    aliases: tuple[str, ...] = attrs.field(
        default=(), converter=_str_tuple, validator=_check_aliases
    )
    description: str = ""
    options: tuple[OptionSpec, ...] = attrs.field(
        default=attrs.Factory(_default_options, takes_self=True), converter=_options_tuple
    )

    def check_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Validate options against :attr:`options` (see :meth:`SamplerSpec.check_options`)."""
        return check_options("pruner", self.name, self.options, options)


@attrs.frozen
class StorageSpec:
    """A kind of storage as a plugin registers it, chosen by URL scheme.

    Parameters
    ----------
    scheme : str
        The URL scheme (``"postgresql"`` for ``postgresql://user@host/db``).
    factory : callable
        ``factory(url)``, returning an object that follows the
        :class:`~hposampler.storage.Storage` protocol; raises :class:`~hposampler.errors.StudyError`
        or :class:`~hposampler.errors.StorageError` with a clear message.
    aliases : tuple of str
        Other schemes meaning the same (``"postgres"``).
    description : str
        One line for ``hposampler list``.
    """

    scheme: str
    factory: Callable[[str], Any] = attrs.field(validator=attrs.validators.is_callable())
    aliases: tuple[str, ...] = ()
    description: str = ""


_COMMAND = re.compile(r"^[a-z][a-z0-9-]*$")


@attrs.frozen
class CommandSpec:
    """A command of the ``hposampler`` command line, as a plugin registers it.

    Parameters
    ----------
    name : str
        The command's name (``hposampler NAME ...``): lower-case letters, digits
        and dashes. The core's own commands (``run``, ``show``, ...) come first;
        a plugin's command of the same name is ignored (a clash ``hposampler list``
        shows).
    factory : callable
        ``factory()`` returns the :class:`click.Command`; called only when the
        command runs or its help is shown, so import heavy libraries inside it.
    description : str
        One line for ``hposampler --help``.
    """

    name: str = attrs.field()
    factory: Callable[[], Any] = attrs.field(validator=attrs.validators.is_callable())
    description: str = ""

    @name.validator
    def _check_command_name(self, attribute: Any, value: str) -> None:
        if not isinstance(value, str) or not _COMMAND.match(value):
            raise ValueError(
                f"command name {value!r} must be lower-case letters, digits and dashes, "
                "starting with a letter"
            )


_SUITE = re.compile(r"^[a-z][a-z0-9_-]*$")


def _names_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class SuiteSpec:
    """A benchmark suite as a plugin registers it (see ``hposampler bench``).

    Parameters
    ----------
    name : str
        The suite's name (``--suite NAME``): lower-case letters, digits, ``_``
        and ``-``.
    factory : callable
        ``factory()`` returns the :class:`hposampler.bench.Suite`; called only
        when the suite is used, so import its data and libraries inside it.
    requires : tuple of str
        Modules the suite needs; when one is missing the bench says so and
        names ``install`` (nothing is downloaded at run time).
    install : str
        What to install when a required module is missing, e.g.
        ``"./plugins/bench[hpobench]"`` (a folder of a clone, as our own
        distributions are installed) or a package name.
    description : str
        One line for ``hposampler list`` and ``hposampler bench --list``.
    """

    name: str = attrs.field()
    factory: Callable[[], Any] = attrs.field(validator=attrs.validators.is_callable())
    requires: tuple[str, ...] = attrs.field(default=(), converter=_names_tuple)
    install: str = ""
    description: str = ""

    @name.validator
    def _check_suite_name(self, attribute: Any, value: str) -> None:
        if not isinstance(value, str) or not _SUITE.match(value):
            raise ValueError(
                f"suite name {value!r} must be lower-case letters, digits, '_' and '-', "
                "starting with a letter"
            )
