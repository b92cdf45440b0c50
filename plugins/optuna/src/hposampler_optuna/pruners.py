"""Optuna's pruners behind hposampler's :class:`~hposampler.pruning.BasePruner`.

Every decision is made by a real ``optuna.pruners`` object on a mirror Optuna
study: the runner's reports become intermediate values of mirror trials whose
numbers are the hposampler trial ids, and trial ends become their states. Nothing
of the pruning algorithms is re-implemented here.

The mirror study and the Optuna samplers' studies share one study name, so that
Optuna's Hyperband assigns a trial to the same bracket in both: an Optuna
sampler given the study's pruner (``make_sampler(..., pruner=...)``, which
``Study.optimize`` does) then samples per bracket, as in Optuna.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hposampler.pruning import BasePruner
from hposampler.samplers.trial import TrialState

from .common import STUDY_NAME, quiet_optuna

__all__ = ["OptunaPruner"]


class OptunaPruner(BasePruner):
    """An ``optuna.pruners.BasePruner`` deciding from a mirror of the study's reports.

    Parameters
    ----------
    pruner : optuna.pruners.BasePruner
        The Optuna pruner (:attr:`optuna_pruner`).
    optim_metrics : dict
        The study's one metric and its direction.
    """

    def __init__(self, pruner: Any, optim_metrics: Mapping[str, str]) -> None:
        super().__init__(optim_metrics)
        import optuna

        quiet_optuna()
        self.optuna_pruner = pruner
        self.storage = optuna.storages.InMemoryStorage()
        self.study = optuna.create_study(
            storage=self.storage,
            study_name=STUDY_NAME,
            direction="minimize" if self.direction == "min" else "maximize",
            pruner=pruner,
        )
        self._study_id = self.storage.get_study_id_from_name(STUDY_NAME)
        self._ids: list[int] = []  # Optuna's internal trial id, by hposampler trial id

    def _internal(self, trial_id: int) -> int:
        # mirror trials are created in id order, so Optuna's trial number is the id
        while len(self._ids) <= trial_id:
            self._ids.append(self.storage.create_new_trial(self._study_id))
        return self._ids[trial_id]

    def report(self, trial_id: int, step: int, value: float | None) -> None:
        """Store ``value`` as the mirror trial's intermediate value at ``step``."""
        internal = self._internal(trial_id)
        if value is None or not math.isfinite(value):
            return
        if self.storage.get_trial(internal).state.is_finished():
            return
        self.storage.set_trial_intermediate_value(internal, step, value)

    def finish(self, trial_id: int, state: TrialState, value: float | None) -> None:
        """End the mirror trial (COMPLETE with its value, PRUNED or FAIL)."""
        from optuna.trial import TrialState as OptunaState

        internal = self._internal(trial_id)
        if self.storage.get_trial(internal).state.is_finished():
            return  # a re-run of a trial that ended before
        if state == TrialState.COMPLETE and value is not None and math.isfinite(value):
            self.storage.set_trial_state_values(internal, OptunaState.COMPLETE, [value])
        elif state.is_pruned:
            self.storage.set_trial_state_values(internal, OptunaState.PRUNED)
        elif state.is_finished:
            self.storage.set_trial_state_values(internal, OptunaState.FAIL)

    def prune(self, trial_id: int) -> bool:
        """Ask the Optuna pruner about the mirror trial."""
        frozen = self.storage.get_trial(self._internal(trial_id))
        return bool(self.optuna_pruner.prune(self.study, frozen))
