"""Classes with the shapes of ablator 0.0.1b3's (importable as ``ablator_shapes``).

Its config enums, its ``SearchSpace`` with string bounds and an enum
``value_type`` that stays ``continuous`` on every kind of space,
``SubConfiguration`` holding ``arguments``, its stored trial rows, and
``ExperimentStateLike``, which replays what ablator's ``ExperimentState`` does
with a sampler.
"""

from __future__ import annotations

import enum
from typing import Any

from hposampler import TrialState


class FieldType(enum.Enum):
    discrete = "int"
    continuous = "float"


class SearchAlgo(enum.Enum):
    random = "random"
    tpe = "tpe"
    grid = "grid"


class Optim(enum.Enum):
    min = "min"
    max = "max"


class SubConfiguration:
    def __init__(self, **kwargs: Any) -> None:
        def parse(v: Any) -> Any:
            if isinstance(v, dict) and any(k in v for k in SearchSpace.FIELDS):
                return SearchSpace(**v)
            if isinstance(v, dict):
                return {k: parse(x) for k, x in v.items()}
            return v

        self.arguments = parse(kwargs)


class SearchSpace:
    FIELDS = ("value_range", "categorical_values", "subspaces", "sub_configuration",
              "value_type", "n_bins", "log")  # fmt: skip

    def __init__(self, value_range: Any = None, categorical_values: Any = None,
                 subspaces: Any = None, sub_configuration: Any = None,
                 value_type: Any = FieldType.continuous, n_bins: Any = None,
                 log: bool = False) -> None:  # fmt: skip
        self.value_range = None if value_range is None else tuple(str(v) for v in value_range)
        self.categorical_values = (
            None if categorical_values is None else [str(v) for v in categorical_values]
        )
        self.subspaces = None if subspaces is None else [
            s if isinstance(s, SearchSpace) else SearchSpace(**s) for s in subspaces
        ]  # fmt: skip
        self.sub_configuration = (
            SubConfiguration(**sub_configuration) if isinstance(sub_configuration, dict)
            else sub_configuration
        )  # fmt: skip
        self.value_type = FieldType(value_type) if isinstance(value_type, str) else value_type
        self.n_bins = n_bins
        self.log = log

    def __repr__(self) -> str:
        return f"SearchSpace(value_range={self.value_range}, value_type={self.value_type})"


class TrialRow:
    """ablator's stored trial row (what ``ExperimentState`` reads back)."""

    def __init__(self, trial_num: int, aug_config_param: dict[str, Any]) -> None:
        self.trial_num = trial_num
        self.aug_config_param = aug_config_param
        self.metrics: list[dict[str, Any]] = []
        self.state = TrialState.RUNNING
        self._opt_params: Any = None
        self._opt_distributions_kwargs: Any = None
        self._opt_distributions_types: Any = None


class ExperimentStateLike:
    """ablator's use of a sampler: sample, store **internal, update, rebuild, resume."""

    def __init__(self, make: Any) -> None:
        self.rows: list[TrialRow] = []
        self.make = make
        self.sampler = make(None)

    def _append_trial_internal(self, row: TrialRow, _opt_params: Any = None,
                               _opt_distributions_kwargs: Any = None,
                               _opt_distributions_types: Any = None) -> None:  # fmt: skip
        row._opt_params = _opt_params
        row._opt_distributions_kwargs = _opt_distributions_kwargs
        row._opt_distributions_types = _opt_distributions_types

    def run(self, n: int, loss: Any) -> None:
        for _ in range(n):
            trial_id, config, internal = self.sampler.eager_sample()
            self.sampler.unlock(drop=False)
            row = TrialRow(trial_id, config)
            if internal is not None:
                self._append_trial_internal(row, **internal)
            self.rows.append(row)
            metrics = {"val_loss": loss(config)}
            self.sampler.update_trial(trial_id, metrics, TrialState.COMPLETE)
            row.metrics.append(metrics)
            row.state = TrialState.COMPLETE

    def resume(self) -> None:
        self.sampler = self.make(self.rows)
