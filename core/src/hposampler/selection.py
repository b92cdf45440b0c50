"""Building samplers and pruners by name from the installed plugins.

:func:`make_sampler` (and :class:`SamplerConfig`, the same choice as data) and
:func:`make_pruner` look a backend up in the plugin registry, check its options
against its spec and build it. This module sits above the plugin registry and the
sampler and pruner contracts; studies, the kit and the ablator layer build on it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import cattrs

from hposampler._convert import converter, describe, leaves
from hposampler.errors import (
    MetricsError,
    MissingDependencyError,
    PluginError,
    SamplerOptionsError,
    SearchSpaceError,
    StudyError,
)
from hposampler.plugins.registry import PluginInfo, get_registry
from hposampler.plugins.specs import PrunerSpec, SamplerSpec
from hposampler.pruning import BasePruner
from hposampler.samplers.base import (
    BaseSampler,
    check_constraints,
    check_seed,
    normalize_optim_metrics,
)
from hposampler.samplers.trial import Trial
from hposampler.space.model import dump_search_space, parse_search_space
from hposampler.space.tree import compile_space

__all__ = [
    "SamplerConfig",
    "available_pruners",
    "available_samplers",
    "check_requirements",
    "get_pruner_spec",
    "get_sampler_spec",
    "make_pruner",
    "make_sampler",
    "sampler_plugin",
]


def available_samplers() -> list[SamplerSpec]:
    """Every installed sampler's spec, sorted by name."""
    return [spec for _, (spec, _) in sorted(get_registry().samplers().items())]


def _resolve(name: str) -> tuple[SamplerSpec, PluginInfo]:
    spec, info = get_registry().lookup("sampler", name)
    return spec, info


def get_sampler_spec(name: str) -> SamplerSpec:
    """The spec of the sampler called ``name`` (exact name first, then alias).

    Raises
    ------
    UnknownSamplerError
        With close matches and the installed names.
    """
    return _resolve(name)[0]


def sampler_plugin(name: str) -> PluginInfo:
    """The plugin that provides the sampler called ``name``."""
    return _resolve(name)[1]


def _check_capabilities(
    spec: SamplerSpec, metrics: Mapping[str, str], search_space: Mapping[str, Any]
) -> None:
    if len(metrics) > 1 and not spec.multi_objective:
        multi = [s.name for s in available_samplers() if s.multi_objective]
        raise MetricsError(
            f"sampler {spec.name!r} optimises a single metric but {len(metrics)} were given "
            f"({', '.join(metrics)}); keep one metric or use a multi-objective sampler"
            + (f": {', '.join(multi)}" if multi else "")
        )
    if spec.needs_metrics and not metrics:
        raise MetricsError(
            f"sampler {spec.name!r} learns from results and needs optim_metrics, e.g. "
            'optim_metrics={"loss": "min"}'
        )
    if spec.exhaustive:
        compile_space(search_space).grid_size()  # names a range without n_bins


def accepts_keyword(factory: Any, name: str) -> bool:
    """Whether ``factory`` names the keyword parameter ``name`` (``**kwargs`` does not count)."""
    import inspect

    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    param = parameters.get(name)
    return param is not None and param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD)


def check_requirements(spec: SamplerSpec) -> None:
    """Raise :class:`MissingDependencyError` naming what to install when a module
    ``spec`` requires is missing."""
    for module in spec.requires:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            hint = spec.install_hint or f"pip install {module}"
            raise MissingDependencyError(
                f"sampler {spec.name!r} needs the {module!r} module, which is not installed; "
                f"install it with `{hint}`"
            )


def make_sampler(
    name: str,
    search_space: Mapping[str, Any],
    *,
    optim_metrics: Mapping[str, Any] | None = None,
    trials: Iterable[Trial | Mapping[str, Any]] | None = None,
    seed: int | None = None,
    budget: int | None = None,
    concurrency: int | None = None,
    pruner: BasePruner | None = None,
    constraints: Iterable[str] | None = None,
    **options: Any,
) -> BaseSampler:
    """Build the sampler called ``name`` for a search space.

    Parameters
    ----------
    name : str
        A sampler name (``"optuna:tpe"``) or alias (``"tpe"``, ``"grid"``, ``"random"``).
    search_space : mapping
        ``{path: SearchSpace | ablator-style dict | nested dict | constant}``.
    optim_metrics : mapping, optional
        Ordered ``{metric: "min" | "max"}``; several metrics = multi-objective.
    trials : iterable of Trial or dict, optional
        Earlier trials to resume from.
    seed : int, optional
        Seed; the same seed gives the same sequence (for deterministic samplers).
    budget : int, optional
        The total number of trials the study will run, for factories that take a
        ``budget`` keyword (budget-aware optimisers); others never see it.
    concurrency : int, optional
        How many trials may be pending at once, for factories that take a
        ``concurrency`` keyword.
    pruner : BasePruner, optional
        The study's pruner, for factories that take a ``pruner`` keyword (Optuna's
        TPE samples per Hyperband bracket when the pruner is Optuna's Hyperband).
    constraints : iterable of str, optional
        Names of values the objective returns besides the metrics, each feasible
        when ``<= 0``; only samplers whose spec has ``constraints=True`` accept
        them (``hposampler list`` shows which). The metrics told to the sampler
        then carry these values too.
    **options
        Backend options, validated against the sampler's :class:`SamplerSpec`.

    Returns
    -------
    BaseSampler

    Raises
    ------
    UnknownSamplerError
        No such sampler; the message suggests close names.
    SamplerOptionsError
        An unknown option or a value of the wrong type; lists the valid options.
    MetricsError
        Metrics the sampler cannot handle (e.g. two metrics on a single-objective one).
    SearchSpaceError
        A malformed search space, or one the sampler cannot handle.
    MissingDependencyError
        The sampler needs an optional library that is not installed.
    PluginError
        The plugin's factory failed or returned something that is not a sampler.

    Examples
    --------
    >>> sampler = make_sampler("grid", {"x": {"categorical_values": [1, 2]}}, seed=0)
    >>> trial_id, config, _ = sampler.eager_sample()
    >>> sampler.unlock(drop=False)
    >>> trial_id, config in ({"x": 1}, {"x": 2})
    (0, True)
    """
    spec = get_sampler_spec(name)
    metrics = normalize_optim_metrics(optim_metrics)
    space = parse_search_space(search_space)
    checked = spec.check_options(options)
    _check_capabilities(spec, metrics, space)
    check_requirements(spec)
    extra: dict[str, Any] = {
        key: value
        for key, value in (("budget", budget), ("concurrency", concurrency), ("pruner", pruner))
        if value is not None and accepts_keyword(spec.factory, key)
    }
    names = check_constraints(constraints or (), metrics)
    if names:
        if not spec.constraints:
            able = [s.name for s in available_samplers() if s.constraints]
            raise SamplerOptionsError(
                f"sampler {spec.name!r} cannot use constraints ({', '.join(names)}); "
                + (f"samplers that can: {', '.join(able)}" if able else
                   "no installed sampler can")
                + ", or drop the constraints and filter the trials afterwards"
            )  # fmt: skip
        extra["constraints"] = names
    try:
        sampler = spec.factory(
            space, optim_metrics=metrics, trials=list(trials or []), seed=seed, **extra,
            **checked,
        )  # fmt: skip
    except (SearchSpaceError, MetricsError, SamplerOptionsError, MissingDependencyError):
        raise
    except Exception as exc:
        if getattr(exc, "__module__", "").startswith("hposampler"):
            raise
        info = sampler_plugin(spec.name)
        raise PluginError(
            f"sampler {spec.name!r} from plugin {info.label} failed to build: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(sampler, BaseSampler):
        info = sampler_plugin(spec.name)
        raise PluginError(
            f"the factory of sampler {spec.name!r} (plugin {info.label}) returned "
            f"{type(sampler).__name__}, not a hposampler.BaseSampler"
        )
    sampler.attach_hooks(get_registry().pm.hook)
    return sampler


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise MetricsError(
            f'constraints must be a list of result keys, e.g. ["c1", "c2"], got {value!r}'
        )
    return tuple(value)


def _sources(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
        raise StudyError(
            'warm_start must be a list of study names, e.g. ["study-a", "other.db:study-b"], '
            f"got {value!r}"
        )
    return tuple(value)


@attrs.frozen
class SamplerConfig:
    """A sampler choice as it appears in a config file (ablator's ``search_algo``).

    Parameters
    ----------
    sampler : str
        Sampler name or alias.
    search_space : dict
        The search-space mapping (validated on construction).
    optim_metrics : dict
        Ordered ``{metric: "min" | "max"}``.
    seed : int, optional
        Seed.
    options : dict
        Backend options (validated when the sampler is created).
    pruner : str, optional
        Pruner name or alias (``"median"``, ``"asha"``); ``None``: no pruning.
    pruner_options : dict
        The pruner's options (validated when it is built).
    constraints : tuple of str
        Result keys that must be ``<= 0`` for a trial to be feasible.
    warm_start : tuple of str
        Studies whose finished trials the sampler learns before its first
        proposal (``"name"`` or ``"other.db:name"``); see
        :mod:`hposampler.study.warmstart`.

    Examples
    --------
    >>> cfg = SamplerConfig.from_dict({
    ...     "sampler": "grid",
    ...     "search_space": {"x": {"categorical_values": ["a", "b"]}},
    ...     "options": {"exhausted": "stop"},
    ... })
    >>> sampler = cfg.create()
    """

    sampler: str
    search_space: dict[str, Any] = attrs.field(converter=parse_search_space)
    optim_metrics: dict[str, str] = attrs.field(factory=dict, converter=normalize_optim_metrics)
    seed: int | None = attrs.field(default=None, validator=lambda _, __, v: _seed(v))
    options: dict[str, Any] = attrs.field(factory=dict)
    pruner: str | None = None
    pruner_options: dict[str, Any] = attrs.field(factory=dict)
    constraints: tuple[str, ...] = attrs.field(default=(), converter=_names)
    warm_start: tuple[str, ...] = attrs.field(default=(), converter=_sources)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SamplerConfig:
        """Structure a JSON/TOML dict; unknown keys and wrong types are errors.

        Raises
        ------
        SamplerOptionsError
            For unknown keys or wrongly typed fields (naming them).
        SearchSpaceError, MetricsError
            For a malformed search space or metrics.
        """
        if not isinstance(data, Mapping):
            raise SamplerOptionsError(f"a sampler config must be a dict, got {data!r}")
        _seed(data.get("seed"))  # before cattrs, which would turn "0" or true into an int
        try:
            return converter.structure(dict(data), cls)
        except cattrs.BaseValidationError as exc:
            for sub in leaves(exc):
                if isinstance(
                    sub, (SearchSpaceError, MetricsError, SamplerOptionsError, StudyError)
                ):
                    raise sub from None
            raise SamplerOptionsError(
                f"invalid sampler config: {describe(exc)}; expected keys sampler, "
                "search_space, optim_metrics, seed, options, pruner, pruner_options, "
                "constraints, warm_start"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """JSON form; :meth:`from_dict` reads it back."""
        return {
            "sampler": self.sampler,
            "search_space": dump_search_space(self.search_space),
            "optim_metrics": dict(self.optim_metrics),
            "seed": self.seed,
            "options": dict(self.options),
            **(
                {"pruner": self.pruner, "pruner_options": dict(self.pruner_options)}
                if self.pruner is not None
                else {}
            ),
            **({"constraints": list(self.constraints)} if self.constraints else {}),
            **({"warm_start": list(self.warm_start)} if self.warm_start else {}),
        }

    def create_pruner(self) -> BasePruner | None:
        """Build the pruner (``None`` without one); see :func:`make_pruner`."""
        if self.pruner is None:
            return None
        return make_pruner(self.pruner, self.optim_metrics, **self.pruner_options)

    def create(
        self,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        budget: int | None = None,
        concurrency: int | None = None,
        pruner: BasePruner | None = None,
    ) -> BaseSampler:
        """Build the sampler (see :func:`make_sampler`)."""
        return make_sampler(
            self.sampler,
            self.search_space,
            optim_metrics=self.optim_metrics,
            trials=trials,
            seed=self.seed,
            budget=budget,
            concurrency=concurrency,
            pruner=pruner,
            constraints=self.constraints,
            **self.options,
        )


def _seed(seed: Any) -> None:
    check_seed(seed)


def available_pruners() -> list[PrunerSpec]:
    """Every installed pruner's spec, by name."""
    return [spec for _, (spec, _) in sorted(get_registry().pruners().items())]


def get_pruner_spec(name: str) -> PrunerSpec:
    """The spec of the pruner called ``name`` (or alias).

    Raises
    ------
    UnknownSamplerError
        With ``kind="pruner"``: close matches and the installed names.
    """
    spec: PrunerSpec = get_registry().lookup("pruner", name)[0]
    return spec


def make_pruner(
    name: str, optim_metrics: Mapping[str, str] | None = None, **options: Any
) -> BasePruner:
    """Build the pruner called ``name`` with validated ``options``.

    Parameters
    ----------
    name : str
        A pruner name or alias (``"median"``, ``"optuna:hyperband"``).
    optim_metrics : dict, optional
        The study's one metric and direction; default ``{"loss": "min"}``.
    **options
        The pruner's options (``hposampler list`` shows them).

    Raises
    ------
    UnknownSamplerError
        For an unknown name, with close matches.
    SamplerOptionsError
        For an unknown option or a value of the wrong type.
    MetricsError
        Unless there is exactly one metric.
    """
    spec = get_pruner_spec(name)
    checked = spec.check_options(options)
    metrics = normalize_optim_metrics(optim_metrics or {"loss": "min"})
    try:
        pruner = spec.factory(optim_metrics=metrics, **checked)
    except (MetricsError, SamplerOptionsError):
        raise
    except (TypeError, ValueError) as exc:  # the library refused an option's value
        raise SamplerOptionsError(f"pruner {spec.name!r}: {exc}") from None
    if not isinstance(pruner, BasePruner):
        raise SamplerOptionsError(
            f"pruner {spec.name!r}: its factory returned {type(pruner).__name__}, not a "
            "hposampler.BasePruner"
        )
    return pruner
