"""Trials and their states (ablator-compatible)."""

from __future__ import annotations

import decimal
import enum
import math
import numbers
from collections.abc import Mapping
from typing import Any

import attrs
import cattrs

from hposampler._convert import converter, describe
from hposampler.errors import MetricsError, StorageError

__all__ = ["Trial", "TrialState"]


class TrialState(enum.IntEnum):
    """State of a trial; the values are ablator's, exactly."""

    RUNNING = 0
    COMPLETE = 1
    PRUNED = 2
    FAIL = 3
    WAITING = 4
    PRUNED_INVALID = 5
    PRUNED_DUPLICATE = 6
    PRUNED_POOR_PERFORMANCE = 7
    FAIL_RECOVERABLE = 8

    @property
    def is_finished(self) -> bool:
        """Whether the trial will not run again (COMPLETE, any PRUNED, FAIL)."""
        return not self.is_pending

    @property
    def is_pruned(self) -> bool:
        """Whether the state is PRUNED or one of its refinements."""
        return self in (
            TrialState.PRUNED,
            TrialState.PRUNED_INVALID,
            TrialState.PRUNED_DUPLICATE,
            TrialState.PRUNED_POOR_PERFORMANCE,
        )

    @property
    def is_pending(self) -> bool:
        """Whether the trial may still run (RUNNING, WAITING, FAIL_RECOVERABLE)."""
        return self in (TrialState.RUNNING, TrialState.WAITING, TrialState.FAIL_RECOVERABLE)

    @property
    def is_failed(self) -> bool:
        """Whether the state is FAIL or FAIL_RECOVERABLE."""
        return self in (TrialState.FAIL, TrialState.FAIL_RECOVERABLE)


def metric_value(value: Any, name: str | None = None) -> float | None:
    """A metric as stored: a float, or ``None`` for missing / NaN (the worst value).

    The one check of "a number or None" used everywhere a metric enters: any real
    number is accepted (``int``, ``float``, NumPy scalars and 0-d arrays,
    ``fractions.Fraction``, ``decimal.Decimal``); ``bool`` is not a number here.

    Raises
    ------
    MetricsError
        Naming the metric (when ``name`` is given) and the value.
    """
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    number: float | None = None
    try:
        if isinstance(value, (numbers.Real, decimal.Decimal)) and not isinstance(value, bool):
            number = float(value)
        elif getattr(value, "shape", None) == () and hasattr(value, "dtype"):  # 0-d array
            kind = getattr(value.dtype, "kind", "")
            if kind in "iuf":
                number = float(value)
    except OverflowError:
        what = f"metric {name!r}" if name is not None else "a metric"
        raise MetricsError(
            f"{what} is too large for a float: {short_repr(value)}; report a float"
        ) from None
    if number is None:
        what = (
            f"metric {name!r} must be a number"
            if name is not None
            else "metric values must be numbers"
        )
        raise MetricsError(f"{what} or None (any real number), got {short_repr(value)}")
    return None if math.isnan(number) else number


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters; a placeholder when it cannot be made
    (an int of more digits than Python prints, a structure nested too deep)."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _metrics_history(value: Any) -> list[dict[str, float | None]]:
    if isinstance(value, Mapping):  # a single dict of final metrics
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"metrics must be a list of dicts, got {value!r}")
    out = []
    for entry in value:
        if not isinstance(entry, Mapping):
            raise TypeError(f"each metrics entry must be a dict, got {entry!r}")
        out.append({str(k): metric_value(v) for k, v in entry.items()})
    return out


@attrs.frozen
class Trial:
    """One sampled configuration and what became of it.

    Parameters
    ----------
    trial_id : int
        Dense id given by the sampler (0, 1, 2, ...).
    config : dict
        The sampled configuration, in ablator's nested shape.
    state : TrialState
        Current state.
    metrics : list of dict
        History of reported metrics; the last entry is the final one. ``NaN``
        is stored as ``None`` (the worst value).
    internal : dict, optional
        The sampler's JSON-serialisable internal representation, used to resume.
    """

    trial_id: int = attrs.field(validator=attrs.validators.instance_of(int))
    config: dict[str, Any] = attrs.field(validator=attrs.validators.instance_of(dict))
    state: TrialState = attrs.field(converter=TrialState)
    metrics: list[dict[str, float | None]] = attrs.field(factory=list, converter=_metrics_history)
    internal: dict[str, Any] | None = None

    @property
    def final_metrics(self) -> dict[str, float | None] | None:
        """The last reported metrics, or ``None`` when nothing was reported."""
        return self.metrics[-1] if self.metrics else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (plain dicts, lists and numbers)."""
        data: dict[str, Any] = converter.unstructure(self)
        data["state"] = int(self.state)
        return data

    @classmethod
    def from_dict(cls, data: Trial | Mapping[str, Any]) -> Trial:
        """Validate and structure a JSON record made by :meth:`to_dict`.

        Raises
        ------
        StorageError
            Naming the trial (when known) and what is wrong.
        """
        if isinstance(data, Trial):
            return data
        if not isinstance(data, Mapping) and hasattr(data, "aug_config_param"):
            data = ablator_row(data)
        try:
            return converter.structure(dict(data), cls)
        except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
            tid = data.get("trial_id", "?") if isinstance(data, Mapping) else "?"
            detail = describe(exc)
            raise StorageError(f"invalid trial record {tid}: {detail}") from None

    def evolve(self, **changes: Any) -> Trial:
        """A copy with some fields changed."""
        return attrs.evolve(self, **changes)


#: The internal-state fields of ablator's stored trial rows (its Optuna sampler's).
ABLATOR_INTERNAL = ("_opt_params", "_opt_distributions_kwargs", "_opt_distributions_types")


def ablator_row(row: Any) -> dict[str, Any]:
    """A trial record from one of ablator's stored trial rows (read by attribute).

    The id is ``trial_num`` (or ``trial_uid``), the config ``aug_config_param``;
    ``metrics`` may be a history or one dict; the three ``_opt_*`` fields become
    the internal state (as data: nothing in them is evaluated).
    """
    trial_id = getattr(row, "trial_num", None)
    if trial_id is None:
        trial_id = getattr(row, "trial_uid", None)
    metrics = getattr(row, "metrics", None) or []
    internal = {k: getattr(row, k, None) for k in ABLATOR_INTERNAL}
    return {
        "trial_id": trial_id,
        "config": getattr(row, "aug_config_param", None),
        "state": int(getattr(row, "state", TrialState.WAITING)),
        "metrics": [metrics] if isinstance(metrics, Mapping) else list(metrics),
        "internal": internal if any(v is not None for v in internal.values()) else None,
    }


def _structure_trial(data: Any, _: Any) -> Trial:
    if not isinstance(data, Mapping):
        raise TypeError(f"a trial must be a dict, got {data!r}")
    expected = {"trial_id", "config", "state", "metrics", "internal"}
    extra = set(data) - expected
    if extra:
        raise KeyError(f"unknown field(s) {sorted(extra)}; valid fields are {sorted(expected)}")
    for key in ("trial_id", "config", "state"):
        if key not in data:
            raise KeyError(f"missing field {key!r}")
    internal = data.get("internal")
    if internal is not None and not isinstance(internal, dict):
        raise TypeError(f"internal must be a dict or null, got {internal!r}")
    tid = data["trial_id"]
    if isinstance(tid, bool) or not isinstance(tid, int) or not 0 <= tid < 2**53:
        raise TypeError(f"trial_id must be an int in [0, 2**53), got {tid!r}")
    state = data["state"]
    if isinstance(state, str):
        try:
            state = TrialState[state]
        except KeyError:
            raise ValueError(f"unknown state {state!r}") from None
    return Trial(
        trial_id=tid,
        config=data["config"],
        state=state,
        metrics=data.get("metrics", []),
        internal=internal,
    )


converter.register_structure_hook(Trial, _structure_trial)
