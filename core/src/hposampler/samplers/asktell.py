"""``AskTellSampler``: the machinery every adapter of a minimising ask/tell optimiser shares.

An optimiser library (scikit-optimize, a Bayesian-optimisation package, your own)
proposes points with ``ask`` and learns losses with ``tell``. Around those two
calls an adapter needs the same things every time, and this base class has them:

* the study's one metric and its direction: :meth:`~AskTellSampler.loss` turns
  metrics into a loss to minimise (``max`` negated; a missing or non-finite value
  is ``None``);
* ``None`` losses (and, with :attr:`~AskTellSampler.tell_failures`, failed and
  pruned trials) told as the worst loss seen so far, deferred until one is known;
* pending trials' points (a :class:`~hposampler.samplers.pending.ConstantLiar`:
  :attr:`~AskTellSampler.pending`), so a model can be told lies for them before
  it is asked again;
* the point kept as the trial's internal state (``{"point": ...}``) and given
  back on resume when it still fits the space; resumed results told in one call;
* a space with nothing to tune (only constants): no ``ask`` at all;
* a random stream reseeded after a resume (:meth:`~BaseSampler.resume_seed`),
  so a resumed or shared study continues with fresh draws.

A subclass implements only the optimiser calls and the dimension mapping:
:meth:`~AskTellSampler._ask`, :meth:`~AskTellSampler._tell`,
:meth:`~AskTellSampler._to_point`, :meth:`~AskTellSampler._to_params`, and
optionally :meth:`~AskTellSampler._valid_point`, :meth:`~AskTellSampler._reseed`,
:meth:`~AskTellSampler._has_dimensions`. docs/plugins.md shows a whole plugin on it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from hposampler.samplers.base import BaseSampler
from hposampler.samplers.pending import ConstantLiar
from hposampler.samplers.trial import Trial, TrialState

__all__ = ["AskTellSampler"]


class AskTellSampler(BaseSampler):
    """Base class for backends around a minimising ask/tell optimiser of one metric.

    Parameters
    ----------
    search_space, optim_metrics, trials, seed
        As for every :class:`~hposampler.BaseSampler`; one metric (declare
        ``multi_objective=False`` in the spec, the default).
    liar : {"cl_min", "cl_mean", "cl_max"}
        The constant-liar strategy of :attr:`pending`.

    Attributes
    ----------
    metric, direction : str
        The optimised metric and ``"min"`` or ``"max"``.
    points : dict
        Every known trial's point, by trial id (its internal state).
    pending : ConstantLiar
        Points of trials sampled or running and not finished, and the lie to tell
        for them (``pending.lie(told_losses)``).
    """

    #: Tell failed and pruned trials as the worst loss seen (optimisers that wait for
    #: a tell of every point they asked); ``False``: they are not told.
    tell_failures: ClassVar[bool] = False

    #: The key of the point in a trial's internal state (``{"point": ...}``).
    internal_key: ClassVar[str] = "point"

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        liar: str = "cl_min",
    ) -> None:
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)
        self.metric, self.direction = next(iter(self.optim_metrics.items()), ("loss", "min"))
        self.pending = ConstantLiar(liar)
        self.points: dict[int, Any] = {}
        self.worst: float | None = None  # the largest loss told so far
        self._deferred: list[Any] = []  # points whose loss waits for a worst to be known
        self._done: list[tuple[Any, float | None]] = []  # resumed results, told at once

    # -- what a subclass implements ------------------------------------------------------

    def _ask(self) -> Any:
        """The optimiser's next point (:attr:`pending` holds the pending ones)."""
        raise NotImplementedError

    def _tell(self, points: list[Any], losses: list[float]) -> None:
        """Tell the optimiser finite ``losses`` (to minimise) of ``points``, in one call."""
        raise NotImplementedError

    def _to_point(self, params: Mapping[str, Any]) -> Any:
        """The optimiser's point for tree parameters (``tree.encode``'s output)."""
        raise NotImplementedError

    def _to_params(self, point: Any) -> dict[str, Any]:
        """Tree parameters for an optimiser's point (decoded by ``tree.decode``)."""
        raise NotImplementedError

    def _valid_point(self, stored: Any) -> bool:
        """Whether a point read back from a trial's internal state fits the space (by
        default: it decodes to a config of the space); else the config's point is used."""
        if stored is None:
            return False
        try:
            config = self.tree.decode(self._to_params(stored))
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            return False
        return self.tree.violation(config) is None

    def _reseed(self, seed: int | None) -> None:
        """Restart the optimiser's random stream at ``seed`` (after a resume)."""

    def _has_dimensions(self) -> bool:
        """Whether anything is tuned (a space of constants only asks nothing)."""
        return bool(self.tree.params)

    # -- losses --------------------------------------------------------------------------

    def loss(self, metrics: Mapping[str, float | None] | None) -> float | None:
        """The loss to minimise for ``metrics``; ``None`` when missing or not finite."""
        value = (metrics or {}).get(self.metric)
        if value is None or not math.isfinite(value):
            return None
        return float(value) if self.direction == "min" else -float(value)

    def tell_results(self, points: list[Any], losses: list[float | None]) -> None:
        """Tell results; a ``None`` loss waits for the worst loss seen, then gets it.
        Known losses go in one call (one model fit)."""
        known = [(p, loss) for p, loss in zip(points, losses) if loss is not None]
        self._deferred += [p for p, loss in zip(points, losses) if loss is None]
        if known:
            self._tell([p for p, _ in known], [loss for _, loss in known])
            highest = max(loss for _, loss in known)
            self.worst = highest if self.worst is None else max(self.worst, highest)
        if self._deferred and self.worst is not None:
            deferred, self._deferred = self._deferred, []
            self._tell(deferred, [self.worst] * len(deferred))

    # -- resume --------------------------------------------------------------------------

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        stored = (trial.internal or {}).get(self.internal_key)
        point = stored if self._valid_point(stored) else self._to_point(params)
        self.points[trial.trial_id] = point
        if trial.state == TrialState.COMPLETE:
            self._done.append((point, self.loss(trial.final_metrics)))
        elif trial.state.is_pending:
            self.pending.add(trial.trial_id, point)
        elif self.tell_failures:
            self._done.append((point, None))

    def _resume_done(self) -> None:
        done, self._done = self._done, []
        if done and self._has_dimensions():  # one call: one model fit
            self.tell_results([p for p, _ in done], [loss for _, loss in done])
        if self.points:
            self._reseed(self.resume_seed(len(self.points)))

    # -- the contract --------------------------------------------------------------------

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        asked = self._ask() if self._has_dimensions() else self._to_point({})
        point = self._to_point(self._to_params(asked))  # canonical: as a stored config reads
        params = self._to_params(point)
        trial_id = self.new_trial_id()
        self.points[trial_id] = point
        self.pending.add(trial_id, point)
        return trial_id, self.tree.decode(params)

    def _drop(self) -> None:
        trial_id = self.locked_trial_id
        if trial_id is not None:
            self.points.pop(trial_id, None)
            self.pending.discard(trial_id)

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        point = self.points.get(trial_id)
        if point is None:
            return
        if state.is_pending:
            self.pending.add(trial_id, point)
            return
        self.pending.discard(trial_id)
        if not self._has_dimensions():
            return
        if state == TrialState.COMPLETE:
            self.tell_results([point], [self.loss(metrics)])
        elif self.tell_failures:
            self.tell_results([point], [None])

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """``{"point": ...}`` (:attr:`internal_key`): the trial's point in the optimiser's
        space."""
        point = self.points.get(trial_id)
        return None if point is None else {self.internal_key: copy.deepcopy(point)}
