"""``SkoptSampler``: ``skopt.Optimizer`` behind hposampler's contract."""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterable, Mapping
from typing import Any

from hposampler import BaseSampler, Trial, TrialState
from hposampler.samplers.pending import STRATEGIES, ConstantLiar

from . import shims
from .space import SkoptSpace

__all__ = ["LIARS", "SkoptSampler"]

#: Constant-liar strategies: the value told for pending points on a scratch copy.
LIARS = STRATEGIES


class SkoptSampler(BaseSampler):
    """A scikit-optimize ``Optimizer`` driven through ask/tell.

    Parameters
    ----------
    search_space, optim_metrics, trials, seed
        As for every :class:`hposampler.BaseSampler`; exactly one metric.
    base_estimator : str
        ``"GP"``, ``"RF"``, ``"ET"``, ``"GBRT"`` or ``"dummy"`` (random search).
    liar : {"cl_min", "cl_mean", "cl_max"}
        Value told for pending trials on a copy of the optimizer before asking, so
        that concurrent samples differ.
    **optimizer_options
        Other ``skopt.Optimizer`` keywords (``n_initial_points``, ``acq_func``, ...).

    Notes
    -----
    ``max`` metrics are negated (skopt minimises). A ``None`` metric is told as
    the worst value seen so far (deferred until one is known). FAIL and PRUNED
    trials are not told. Resuming tells every completed point in one call.
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        base_estimator: str,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        liar: str = "cl_min",
        **optimizer_options: Any,
    ) -> None:
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)
        shims.apply()
        from skopt import Optimizer

        self.liar = liar  # checked by make_sampler against the option's choices
        self._liar = ConstantLiar(liar)  # pending trials' points, and what to tell for them
        self.metric, self.direction = next(iter(self.optim_metrics.items()), ("loss", "min"))
        self.space = SkoptSpace(self.tree)
        self._rng = random.Random(seed)
        self.optimizer = Optimizer(
            self.space.dimensions or _placeholder(),
            base_estimator=base_estimator,
            random_state=seed,
            **optimizer_options,
        )
        self._points: dict[int, list[Any]] = {}
        self._deferred: list[list[Any]] = []  # None metrics told once a worst value exists
        self._done: list[tuple[list[Any], float | None]] = []  # resumed results, told at once
        self._worker_key: tuple[object, ...] = ()

    # -- helpers --------------------------------------------------------------------

    def _y(self, value: float | None) -> float | None:
        if value is None or not math.isfinite(value):
            return None
        return value if self.direction == "min" else -value

    def _worst(self) -> float | None:
        ys = [y for y in self.optimizer.yi if math.isfinite(y)]
        return max(ys) if ys else None

    def _tell(self, points: list[list[Any]], ys: list[float | None]) -> None:
        known = [(p, y) for p, y in zip(points, ys) if y is not None]
        self._deferred += [p for p, y in zip(points, ys) if y is None]
        if known:
            self.optimizer.tell([p for p, _ in known], [y for _, y in known])
        worst = self._worst()
        if self._deferred and worst is not None:
            deferred, self._deferred = self._deferred, []
            self.optimizer.tell(deferred, [worst] * len(deferred))

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        stored = (trial.internal or {}).get("point")
        point = list(stored) if isinstance(stored, list) and self.space.valid(stored) else None
        point = point or self.space.to_point(params)
        self._points[trial.trial_id] = point
        if trial.state == TrialState.COMPLETE:
            self._done.append((point, self._y((trial.final_metrics or {}).get(self.metric))))
        elif trial.state.is_pending:
            self._liar.add(trial.trial_id, point)

    def _resume_done(self) -> None:
        if self._done:  # one call: one model fit
            self._tell([p for p, _ in self._done], [y for _, y in self._done])
        self._done = []
        if self._points:
            # skopt's random stream restarts at the seed: reseed it from the history so
            # a resumed (or shared) study continues with fresh draws instead of replaying
            import numpy as np

            seed = self.derived_seed("resume", len(self._points), *self._worker_key)
            self.optimizer.rng = np.random.RandomState(seed)
            self._rng = random.Random(seed)

    # -- contract -------------------------------------------------------------------

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        if not self.space.dimensions:
            point: list[Any] = []
        elif self._liar:
            # ask() repeats its point until told: ask a scratch copy told constant lies
            scratch = self.optimizer.copy(random_state=self._rng.randrange(2**31))
            pending = self._liar.points()
            scratch.tell(pending, [self._liar.lie(self.optimizer.yi)] * len(pending))
            point = scratch.ask()
        else:
            point = self.optimizer.ask()
        self._worker_key = (os.getpid(), id(self))  # later syncs come from other workers
        point = self.space.to_point(self.space.to_params(point)) if point else []
        params = self.space.to_params(point)
        config = self.tree.decode(params)
        trial_id = self.new_trial_id()
        self._points[trial_id] = point
        self._liar.add(trial_id, point)
        return trial_id, config

    def _drop(self) -> None:
        trial_id = self.locked_trial_id
        if trial_id is not None:
            self._points.pop(trial_id, None)
            self._liar.discard(trial_id)

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        point = self._points.get(trial_id)
        if point is None:
            return
        if state.is_pending:
            self._liar.add(trial_id, point)
            return
        self._liar.discard(trial_id)
        if state == TrialState.COMPLETE and self.space.dimensions:
            self._tell([point], [self._y((metrics or {}).get(self.metric))])

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """``{"point": [...]}``: the point in skopt's space (categoricals as indices)."""
        point = self._points.get(trial_id)
        return None if point is None else {"point": list(point)}


def _placeholder() -> list[Any]:
    # a space with nothing to tune still needs one dimension for skopt; it is ignored
    from skopt.space import Categorical

    return [Categorical([0, 1])]
