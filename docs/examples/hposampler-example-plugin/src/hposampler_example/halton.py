"""A seeded, scrambled Halton sequence sampler."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from typing import Any

from hposampler import BaseSampler, Trial, TrialState
from hposampler.tree import CategoricalParam, ChoiceParam, FloatParam, IntParam, Param


def primes(count: int) -> list[int]:
    """The first ``count`` prime numbers."""
    found: list[int] = []
    candidate = 2
    while len(found) < count:
        if all(candidate % p for p in found if p * p <= candidate):
            found.append(candidate)
        candidate += 1
    return found


def radical_inverse(index: int, base: int) -> float:
    """The ``index``-th element of the van der Corput sequence in ``base``, in [0, 1)."""
    result, fraction = 0.0, 1.0
    while index > 0:
        fraction /= base
        index, digit = divmod(index, base)
        result += digit * fraction
    return result


class HaltonSampler(BaseSampler):
    """Quasi-random sampling from the Halton sequence, one prime base per parameter.

    Each parameter of the compiled tree is one dimension; a seeded random shift
    per dimension (modulo 1) decorrelates runs with different seeds while keeping
    the sequence's even coverage. It does not learn from results.

    Parameters
    ----------
    search_space, optim_metrics, trials, seed
        As for every :class:`hposampler.BaseSampler`.
    skip : int
        Leading points of the sequence to skip (the first points of high bases
        are strongly correlated).
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        skip: int = 20,
    ) -> None:
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)
        if skip < 0:
            raise ValueError(f"skip must be >= 0, got {skip}")
        rng = random.Random(seed)
        names = list(self.tree.params)
        self.bases = dict(zip(names, primes(len(names))))
        self.shifts = {name: rng.random() for name in names}
        self.skip = skip
        # continue the sequence after the last point used by the resumed trials
        used = [t.internal.get("k") for t in self.trials if t.internal]
        ks = [k for k in used if isinstance(k, int)]
        self._k = max(ks) + 1 if ks else len(self.trials)
        self._points: dict[int, int] = {}

    def _coordinate(self, name: str, k: int) -> float:
        return (radical_inverse(k + self.skip, self.bases[name]) + self.shifts[name]) % 1.0

    @staticmethod
    def _value(param: Param, u: float) -> Any:
        if isinstance(param, ChoiceParam):
            return min(int(u * param.n_branches), param.n_branches - 1)
        if isinstance(param, CategoricalParam):
            return param.choices[min(int(u * len(param.choices)), len(param.choices) - 1)]
        grid = param.grid()
        if grid is not None:
            return grid[min(int(u * len(grid)), len(grid) - 1)]
        if isinstance(param, FloatParam):
            if param.log:
                low, high = math.log(param.low), math.log(param.high)
                return min(max(math.exp(low + u * (high - low)), param.low), param.high)
            return param.low + u * (param.high - param.low)
        assert isinstance(param, IntParam)
        if param.log:
            low, high = math.log(param.low), math.log(param.high + 1)
            return min(int(math.exp(low + u * (high - low))), param.high)
        return param.low + min(int(u * (param.high - param.low + 1)), param.high - param.low)

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        trial_id = self.new_trial_id()
        k = self._k
        self._k += 1  # a dropped trial's point is not reused: the next one is fresh
        _, config = self.tree.sample(lambda p: self._value(p, self._coordinate(p.name, k)))
        self._points[trial_id] = k
        return trial_id, config

    def _drop(self) -> None:
        if self.locked_trial_id is not None:
            self._points.pop(self.locked_trial_id, None)

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        """The sequence does not depend on results."""

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """``{"k": index in the sequence}``."""
        k = self._points.get(trial_id)
        return None if k is None else {"k": k}
