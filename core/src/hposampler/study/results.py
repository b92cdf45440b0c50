"""What a study's trials say: feasibility, the best trial, the Pareto front, export rows.

Functions of stored records and the study's definition, so the command line,
the plot and the report read results exactly as :class:`~hposampler.Study` does.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hposampler.errors import MetricsError, StudyError
from hposampler.samplers.trial import TrialState
from hposampler.selection import SamplerConfig
from hposampler.storage import TrialRecord

__all__ = [
    "best_trial",
    "best_trials",
    "export_rows",
    "flatten_config",
    "is_feasible",
    "scored",
    "study_summary",
]


def is_feasible(record: TrialRecord, constraints: Sequence[str]) -> bool:
    """Whether ``record``'s final values of ``constraints`` are all ``<= 0`` (a missing
    or NaN value is not); always true without constraints."""
    if not constraints:
        return True
    final = record.final_metrics or {}
    for name in constraints:
        value = final.get(name)
        if value is None or math.isnan(value) or value > 0:
            return False
    return True


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as dotted keys: ``{"opt": {"lr": 1}}`` -> ``{"opt.lr": 1}``."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(flatten_config(value, path))
        else:
            out[path] = value
    return out


def study_summary(records: Iterable[TrialRecord]) -> dict[str, int]:
    """Count of trials per state name."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record.state.name] = counts.get(record.state.name, 0) + 1
    return counts


def _dominates(a: list[float], b: list[float]) -> bool:
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def scored(
    records: Iterable[TrialRecord], config: SamplerConfig
) -> list[tuple[TrialRecord, list[float]]]:
    """Feasible COMPLETE trials with their objective vectors, all to minimise."""
    out = []
    for record in records:
        final = record.final_metrics
        if record.state != TrialState.COMPLETE or not final:
            continue
        if not is_feasible(record, config.constraints):
            continue
        vector = []
        for name, direction in config.optim_metrics.items():
            value = final.get(name)
            if value is None or math.isnan(value):  # None is the worst: not a result
                break
            vector.append(value if direction == "min" else -value)
        else:
            out.append((record, vector))
    return out


def best_trial(name: str, records: Sequence[TrialRecord], config: SamplerConfig) -> TrialRecord:
    """The best feasible COMPLETE trial of a single-objective study (lowest id on a tie).

    Raises
    ------
    MetricsError
        For a multi-objective study.
    StudyError
        If no (feasible) trial has completed with a finite value.
    """
    if len(config.optim_metrics) != 1:
        raise MetricsError(
            f"study {name!r} has {len(config.optim_metrics)} metrics; "
            "use best_trials for the Pareto front"
        )
    found = scored(records, config)
    if found:
        return min(found, key=lambda item: (item[1][0], item[0].trial_id))[0]
    if config.constraints and any(r.state == TrialState.COMPLETE for r in records):
        raise StudyError(
            f"study {name!r} has no feasible trial yet (constraints "
            f"{', '.join(config.constraints)} must all be <= 0)"
        )
    raise StudyError(f"study {name!r} has no completed trial yet")


def best_trials(records: Iterable[TrialRecord], config: SamplerConfig) -> list[TrialRecord]:
    """The Pareto front: feasible COMPLETE trials no other one dominates."""
    found = scored(records, config)
    return [r for r, vector in found if not any(_dominates(o, vector) for _, o in found)]


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc).isoformat()


def export_rows(
    records: Iterable[TrialRecord], config: SamplerConfig, full_errors: bool = False
) -> list[dict[str, Any]]:
    """Flat rows for export (see :meth:`Study.to_records <hposampler.Study.to_records>`)."""
    return [_export_row(record, config, full_errors) for record in records]


def _export_row(record: TrialRecord, config: SamplerConfig, full_errors: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "trial_id": record.trial_id,
        "state": record.state.name,
        "started_at": _iso(record.started_at),
        "finished_at": _iso(record.finished_at),
        "duration_s": record.duration,
        "attempts": record.attempts,
        "worker": record.worker,
    }
    final = record.final_metrics or {}
    for name in config.optim_metrics:
        row[name] = final.get(name)
    if config.constraints:
        for name in config.constraints:
            row[f"constraints.{name}"] = final.get(name)
        row["feasible"] = is_feasible(record, config.constraints)
    for prefix, values in (
        ("params", flatten_config(record.config)),
        ("extra", record.extra),
        ("user_attrs", record.user_attrs),
    ):
        for key, value in values.items():
            row[f"{prefix}.{key}"] = value
    lines = (record.error or "").strip().splitlines()
    row["error"] = lines[-1] if lines else None
    if full_errors:
        row["traceback"] = record.error
    if record.intermediate:
        row["last_step"] = record.last_step
        row["intermediate"] = [[step, dict(m)] for step, m in record.intermediate]
    return row
