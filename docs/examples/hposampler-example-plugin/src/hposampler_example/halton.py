"""A seeded, scrambled Halton sequence sampler."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from hposampler import BaseSampler, Trial


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
        self._k = 0  # the next index in the sequence
        self._points: dict[int, int] = {}

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        # continue the sequence after the last point the resumed trials used
        k = (trial.internal or {}).get("k")
        self._k = max(self._k, k + 1 if isinstance(k, int) else trial.trial_id + 1)

    def _coordinate(self, name: str, k: int) -> float:
        return (radical_inverse(k + self.skip, self.bases[name]) + self.shifts[name]) % 1.0

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        trial_id = self.new_trial_id()
        k = self._k
        self._k += 1  # a dropped trial's point is not reused: the next one is fresh
        # each parameter maps a point of the unit interval onto its own values
        _, config = self.tree.sample(lambda p: p.from_unit(self._coordinate(p.name, k)))
        self._points[trial_id] = k
        return trial_id, config

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """``{"k": index in the sequence}``."""
        k = self._points.get(trial_id)
        return None if k is None else {"k": k}
