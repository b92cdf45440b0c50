"""Pruning: objectives report as they train, pruners stop poor trials early.

An objective that takes a second argument gets a :class:`~hposampler.objective.TrialHandle`:
``trial.report(step, metrics)`` stores an intermediate result and
``trial.should_prune()`` asks the study's pruner whether to stop. Raising
:class:`TrialPruned` ends the trial as pruned.

Pruners are the second plugin kind. A plugin registers a :class:`PrunerSpec`
through the ``register_pruners`` hook; :func:`make_pruner` builds one by name.
A pruner is a :class:`BasePruner`: the study runner feeds it every trial's
reports and final states (its own, resumed ones and other workers') and asks it
about one running trial at a time, in the driver process, so its answer comes
from the driver's view of every trial whatever the executor.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .errors import MetricsError, SamplerOptionsError
from .spec import (
    OptionSpec,
    _check_aliases,
    _check_name,
    _default_options,
    _options_tuple,
    _str_tuple,
    check_options,
)
from .trial import TrialState, metric_value

__all__ = [
    "BasePruner",
    "PrunerSpec",
    "TrialPruned",
    "available_pruners",
    "check_report",
    "get_pruner_spec",
    "make_pruner",
]


class TrialPruned(Exception):
    """Raise in an objective to end its trial as pruned.

    The trial ends in ``PRUNED`` (``PRUNED_POOR_PERFORMANCE`` when the pruner
    decided it, i.e. after ``trial.should_prune()`` returned ``True``) and keeps
    its last reported metrics.
    """


class BasePruner:
    """Decides, from every trial's intermediate reports, whether a running trial should stop.

    Parameters
    ----------
    optim_metrics : dict
        The study's metric and direction (pruners need exactly one):
        ``{"loss": "min"}``.

    Notes
    -----
    The runner calls :meth:`report` for every stored report, :meth:`finish` when
    a trial ends and :meth:`prune` when an objective asks
    ``trial.should_prune()``. Values are the optimised metric as reported
    (``None`` for NaN); ``max`` metrics are not negated.
    """

    def __init__(self, optim_metrics: Mapping[str, str]) -> None:
        if len(optim_metrics) != 1:
            raise MetricsError(
                f"pruning needs exactly one optimised metric, got {len(optim_metrics)} "
                f"({', '.join(optim_metrics) or 'none'}); prune on one metric or drop the pruner"
            )
        self.metric, self.direction = next(iter(optim_metrics.items()))

    def report(self, trial_id: int, step: int, value: float | None) -> None:
        """Learn one intermediate report of a trial."""

    def finish(self, trial_id: int, state: TrialState, value: float | None) -> None:
        """Learn that a trial ended (``value``: its final metric, if any)."""

    def prune(self, trial_id: int) -> bool:
        """Whether the running trial ``trial_id`` should stop now."""
        return False


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


def available_pruners() -> list[PrunerSpec]:
    """Every installed pruner's spec, by name."""
    from .plugins import get_registry

    return [spec for _, (spec, _) in sorted(get_registry().pruners().items())]


def get_pruner_spec(name: str) -> PrunerSpec:
    """The spec of the pruner called ``name`` (or alias).

    Raises
    ------
    UnknownSamplerError
        With ``kind="pruner"``: close matches and the installed names.
    """
    from .plugins import get_registry

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
    from .sampler import normalize_optim_metrics

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
            "hposampler.pruning.BasePruner"
        )
    return pruner


def check_report(
    step: Any, metrics: Any, optim_metrics: Mapping[str, str], last_step: int | None
) -> tuple[int, dict[str, float | None]]:
    """Validate one ``trial.report(step, metrics)``; return the step and the metrics.

    Raises
    ------
    MetricsError
        For a step that is not an int or goes backwards, or metrics that are not
        a number (one metric) or a dict of exactly the optimised metrics.
    """
    if isinstance(step, bool) or not isinstance(step, int):
        raise MetricsError(f"report step must be an int, got {step!r}")
    if last_step is not None and step < last_step:
        raise MetricsError(
            f"report step {step} comes after step {last_step}; steps must not decrease"
        )
    names = list(optim_metrics)
    if not isinstance(metrics, Mapping):
        if len(names) != 1:
            raise MetricsError(
                f"report a dict of the optimised metrics ({', '.join(names)}), got {metrics!r}"
            )
        return step, {names[0]: metric_value(metrics, names[0])}
    unknown = sorted(set(map(str, metrics)) - set(names))
    if unknown:
        close = difflib.get_close_matches(unknown[0], names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise MetricsError(
            f"reported metric(s) {', '.join(map(repr, unknown))} are not optimised by this "
            f"study.{hint} optim_metrics are {', '.join(names)}"
        )
    missing = [n for n in names if n not in metrics]
    if missing:
        raise MetricsError(
            f"report lacks the optimised metric(s) {', '.join(missing)}; report every one "
            f"of {', '.join(names)}"
        )
    return step, {n: metric_value(metrics[n], n) for n in names}
