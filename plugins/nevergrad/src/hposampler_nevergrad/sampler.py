"""``NevergradSampler``: a nevergrad optimizer driven through ask/tell."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterable, Mapping
from typing import Any

from hposampler import Trial, TrialState
from hposampler.samplers import AskTellSampler

from . import shims
from .space import NevergradSpace

__all__ = ["NevergradSampler"]

logger = logging.getLogger(__name__)

#: Most stored trials replayed before one ask (see :meth:`NevergradSampler._ask`).
MAX_REPLAY = 10_000

#: The budget NGOpt plans for when the study has no trial budget (``n_trials``).
DEFAULT_BUDGET = 100


class NevergradSampler(AskTellSampler):
    """One of nevergrad's optimizers behind hposampler's contract.

    Parameters
    ----------
    search_space, optim_metrics, trials, seed
        As for every :class:`hposampler.BaseSampler`; exactly one metric.
    optimizer : str
        A name in ``nevergrad.optimizers.registry`` (``"NGOpt"``, ``"DE"``, ...).
    budget : int, optional
        Trials the study will run (the study runner passes its ``n_trials``);
        budget-aware optimizers such as NGOpt choose their algorithm from it.
        NGOpt needs one: without it, it plans for :data:`DEFAULT_BUDGET`.
    concurrency : int, optional
        Trials run at once; passed to nevergrad as ``num_workers`` (default 1).

    Notes
    -----
    ``max`` metrics are negated (nevergrad minimises). Failed, pruned and dropped
    trials and ``None`` metrics are told as the worst loss seen so far (deferred
    until one is known), so optimizers that wait for every tell go on.

    Some optimizers nevergrad picks for one worker are sequential (scipy's
    COBYLA, SQP, ...): a second ``ask`` before a ``tell`` would block forever.
    While such an optimizer has a trial pending, further samples are drawn
    uniformly from the space instead, and their results are told to it as
    points it did not ask for when it accepts them.

    Resuming replays: while the optimizer proposes stored points, it is told
    their stored results at once, so a run resumed with the same seed continues
    exactly where the interrupted one stopped. At the first new point the
    remaining stored results, and later the trials other workers add, are told
    as points the optimizer did not ask for; optimizers that refuse those
    (nevergrad's ``TellNotAskedNotSupportedError``) go on without them, with a
    warning.
    """

    tell_failures = True
    internal_key = "value"

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        optimizer: str,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        budget: int | None = None,
        concurrency: int | None = None,
    ) -> None:
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)
        shims.apply()
        import nevergrad as ng
        from nevergrad.optimization.optimizerlib import NGOptBase

        self.space = NevergradSpace(self.tree)
        self.parametrization = self.space.parametrization
        if seed is not None:
            self.parametrization.random_state.seed(seed)
        factory = _one_dimension_guard(ng.optimizers.registry[optimizer], self.parametrization)
        if budget is None and isinstance(factory, type) and issubclass(factory, NGOptBase):
            budget = DEFAULT_BUDGET  # NGOpt plans from a budget and refuses to go without
        self.optimizer = factory(
            parametrization=self.parametrization, budget=budget, num_workers=concurrency or 1
        )
        self._rng = random.Random(seed)
        self._asked: dict[int, Any] = {}  # trial id -> candidate from ask(), not yet told
        self._candidate: Any = None  # what the last _ask() asked (None: drawn uniformly)
        self._told: set[int] = set()
        self._refuses_foreign = False
        self._synced = False  # the first _resume_done is the study's own history
        self._replay: dict[str, list[tuple[dict[str, Any], float | None]]] = {}

    # -- the space ----------------------------------------------------------------------

    def _has_dimensions(self) -> bool:
        return True  # a space of constants asks the placeholder, as nevergrad needs one

    def _to_point(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return self.space.value(dict(params))

    def _to_params(self, point: Any) -> dict[str, Any]:
        return self.space.to_params(point)

    def _valid_point(self, stored: Any) -> bool:
        return bool(self.space.valid(stored))

    # -- telling ------------------------------------------------------------------------

    def _tell(self, points: list[Any], losses: list[float]) -> None:
        for point, loss in zip(points, losses):  # what it asked, or a value it did not
            self._tell_now(point if _is_candidate(point) else self._foreign(point), loss)

    def _tell_now(self, candidate: Any, loss: float) -> None:
        from nevergrad.common.errors import TellNotAskedNotSupportedError

        if candidate is None:  # a point this optimizer did not ask for, and cannot take
            return
        try:
            self.optimizer.tell(candidate, loss)
        except TellNotAskedNotSupportedError:
            if not self._refuses_foreign:
                logger.warning(
                    "nevergrad optimizer %s does not learn points it did not ask for; "
                    "stored and other workers' trials are not told to it",
                    self.optimizer.name,
                )
            self._refuses_foreign = True

    def _foreign(self, value: dict[str, Any]) -> Any:
        """A candidate for a point the optimizer did not ask for (None if refused)."""
        if self._refuses_foreign:
            return None
        return self.parametrization.spawn_child(new_value=value)

    # -- resume -------------------------------------------------------------------------

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        super()._resume_trial(trial, params)
        if not trial.state.is_pending:
            self._told.add(trial.trial_id)

    def _resume_done(self) -> None:
        if self._synced:  # other workers' trials: told as they come, as foreign points
            done, self._done = self._done, []
            for value, loss in done:
                self.tell_results([value], [loss])
            return
        # the study's own history: kept for replay (see _ask); told when it ends
        self._synced = True
        done, self._done = self._done, []
        for value, loss in done:
            self._replay.setdefault(_key(value), []).append((value, loss))

    def _end_replay(self) -> None:
        """Tell the stored results the optimizer did not ask for again, as foreign points."""
        pending, self._replay = self._replay, {}
        for results in pending.values():
            for value, loss in results:
                self.tell_results([value], [loss])
        if self.points:
            # the stream diverged from the stored one: reseed it from the history so a
            # resumed (or shared) study goes on with fresh draws instead of replaying
            seed = self.resume_seed(len(self.points))
            self.parametrization.random_state.seed(seed)
            self._rng = random.Random(seed)

    def _replayed(self) -> Any:
        """``optimizer.ask()``, first replaying the stored trials it proposes again.

        With the same seed and results an optimizer proposes the points of the run
        being resumed in the same order: each is told its stored result at once, so
        the optimizer reaches the state the interrupted run had, whatever it can
        learn from points it did not ask for. The first new point ends the replay.
        """
        if not self._replay:
            return self.optimizer.ask()
        for _ in range(MAX_REPLAY):
            candidate = self.optimizer.ask()
            value = self.space.value(self.space.to_params(candidate.value))
            results = self._replay.get(_key(value))
            if not results:
                break
            _, loss = results.pop(0)
            self.tell_results([candidate], [loss])
            if not any(self._replay.values()):
                self._replay = {}
        if self._replay:
            self._end_replay()
        return candidate

    # -- the contract -------------------------------------------------------------------

    def _ask(self) -> dict[str, Any]:
        inner = getattr(self.optimizer, "optim", self.optimizer)  # NGOpt's choice
        # an asked candidate not told yet: pending, or its loss deferred until a worst
        # value is known (the first results were NaN)
        untold = self._asked or any(_is_candidate(p) for p in self._deferred)
        if untold and getattr(inner, "no_parallelization", False):
            # a sequential optimizer has a trial pending: draw uniformly, tell it later
            self._candidate = None
            params, _ = self.tree.sample(lambda param: param.from_unit(self._rng.random()))
            return self.space.value(params)
        self._candidate = self._replayed()
        return dict(self._candidate.value)

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        trial_id, config = super()._eager_sample()
        if self._candidate is not None:
            self._asked[trial_id] = self._candidate
        return trial_id, config

    def _drop(self) -> None:
        trial_id = self.locked_trial_id
        candidate = self._asked.pop(trial_id, None) if trial_id is not None else None
        if candidate is not None:  # asked: an optimizer may wait for its tell
            self.tell_results([candidate], [None])
        super()._drop()

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        value = self.points.get(trial_id)
        if value is None or state.is_pending or trial_id in self._told:
            return
        self._told.add(trial_id)
        candidate = self._asked.pop(trial_id, None)  # told now (or deferred, see _ask)
        loss = self.loss(metrics) if state == TrialState.COMPLETE else None
        self.tell_results([value if candidate is None else candidate], [loss])


def _is_candidate(point: Any) -> bool:
    """Whether ``point`` is a nevergrad candidate (else a value it did not ask for)."""
    return not isinstance(point, dict)  # values are plain dicts; reading .value costs


def _key(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True)


def _one_dimension_guard(factory: Any, parametrization: Any) -> Any:
    """The optimizer factory to use: nevergrad's ``OnePlusOne`` for a CMA on one dimension.

    nevergrad's CMA family switches to the optional ``fcmaes`` package for a
    one-dimensional space, and does so by setting ``fcmaes=True`` on the
    *configuration object shared by every CMA of the process*: one 1-D study
    then broke every later CMA study with "Please install fcmaes". On one
    dimension, nevergrad's own budgeted ``CMA`` picks ``OnePlusOne``; so do we,
    whatever the budget, and the shared configuration is never touched.
    """
    from nevergrad.optimization import optimizerlib

    cma = isinstance(factory, optimizerlib.ParametrizedCMA) or (
        isinstance(factory, type) and issubclass(factory, optimizerlib.CMA)
    )
    if cma and parametrization.dimension == 1:
        return optimizerlib.OnePlusOne
    return factory
