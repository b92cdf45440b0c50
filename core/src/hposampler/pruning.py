"""Pruning: objectives report as they train, pruners stop poor trials early.

An objective that takes a second argument gets a :class:`~hposampler.study.objective.TrialHandle`:
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
from collections.abc import Mapping
from typing import Any

from hposampler.errors import MetricsError
from hposampler.samplers.trial import TrialState, metric_value

__all__ = ["BasePruner", "TrialPruned", "check_report"]


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
