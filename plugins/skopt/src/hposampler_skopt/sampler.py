"""``SkoptSampler``: ``skopt.Optimizer`` behind hposampler's contract."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from hposampler import Trial
from hposampler.samplers import AskTellSampler
from hposampler.samplers.pending import STRATEGIES

from . import shims
from .space import SkoptSpace

__all__ = ["LIARS", "SkoptSampler"]

#: Constant-liar strategies: the value told for pending points on a scratch copy.
LIARS = STRATEGIES


class SkoptSampler(AskTellSampler):
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
        super().__init__(
            search_space, optim_metrics=optim_metrics, trials=trials, seed=seed, liar=liar
        )
        shims.apply()
        from skopt import Optimizer

        self.liar = liar  # checked by make_sampler against the option's choices
        self.space = SkoptSpace(self.tree)
        self._rng = random.Random(seed)
        self.optimizer = Optimizer(
            self.space.dimensions or _placeholder(),
            base_estimator=base_estimator,
            random_state=seed,
            **optimizer_options,
        )

    # -- the optimiser and its space ----------------------------------------------------

    def _has_dimensions(self) -> bool:
        return bool(self.space.dimensions)

    def _ask(self) -> list[Any]:
        if not self.pending:
            return list(self.optimizer.ask())
        # ask() repeats its point until told: ask a scratch copy told constant lies
        scratch = self.optimizer.copy(random_state=self._rng.randrange(2**31))
        points = self.pending.points()
        scratch.tell(points, [self.pending.lie(self.optimizer.yi)] * len(points))
        return list(scratch.ask())

    def _tell(self, points: list[Any], losses: list[float]) -> None:
        self.optimizer.tell(points, losses)

    def _to_point(self, params: Mapping[str, Any]) -> list[Any]:
        return self.space.to_point(params) if self.space.dimensions else []

    def _to_params(self, point: Any) -> dict[str, Any]:
        return self.space.to_params(point)

    def _valid_point(self, stored: Any) -> bool:
        return isinstance(stored, list) and bool(stored) and self.space.valid(stored)

    def _reseed(self, seed: int | None) -> None:
        # skopt's random stream restarts at the seed: a resumed (or shared) study
        # continues with fresh draws instead of replaying
        import numpy as np

        self.optimizer.rng = np.random.RandomState(seed)
        self._rng = random.Random(seed)

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """``{"point": [...]}``: the point in skopt's space (categoricals as indices)."""
        return super().internal_repr(trial_id)


def _placeholder() -> list[Any]:
    # a space with nothing to tune still needs one dimension for skopt; it is ignored
    from skopt.space import Categorical

    return [Categorical([0, 1])]
