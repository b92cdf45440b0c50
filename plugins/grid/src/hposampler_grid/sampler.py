"""The grid sampler: lazy enumeration in a seeded shuffled (or lexicographic) order."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from hposampler import BaseSampler, Trial
from hposampler.space import json_equal

from .permutation import FeistelPermutation, IdentityPermutation
from .space import GridIndex

__all__ = ["GridSampler"]

#: Positions of the shuffled order computed at once (vectorised); memory stays O(1).
_BLOCK = 1024


class GridSampler(BaseSampler):
    """Every point of a finite grid, once per cycle, never materialised.

    Ranges need ``n_bins`` (float ranges: linspace, or geomspace when ``log``;
    int ranges: the distinct rounded points); categoricals give all their values;
    ``sub_configuration`` is a product, ``subspaces`` a union.

    ``unlock(drop=True)`` hands the trial id out again but not the point: a
    dropped config is skipped for the rest of its cycle (ablator's behaviour;
    a caller drops configs it cannot run). A later cycle proposes it again.

    Parameters
    ----------
    search_space : mapping
        The search space (see :func:`hposampler.parse_search_space`).
    optim_metrics : mapping, optional
        Accepted and checked, not used to choose points.
    trials : list of Trial, optional
        Trials to resume from: their configs are mapped back to grid points and
        skipped in the current cycle; configs not on the grid are logged and ignored.
    seed : int, optional
        Seed of the shuffled order; the same seed gives the same order.
    exhausted : {"cycle", "stop"}
        When every point was sampled: start a new cycle in a fresh order
        (ablator's behaviour) or raise ``StopIteration``.
    order : {"shuffled", "ordered"}
        Seeded shuffle, or lexicographic (``itertools.product``) order.
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        exhausted: Literal["cycle", "stop"] = "cycle",
        order: Literal["shuffled", "ordered"] = "shuffled",
    ) -> None:
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)
        self.exhausted = exhausted  # checked by make_sampler against the option's choices
        self.order = order
        self.grid = GridIndex(self.tree)
        self.size = self.grid.size
        self._key = seed if seed is not None else random.SystemRandom().getrandbits(64)
        self._indices: dict[int, tuple[int, int]] = {}  # trial id -> (index, cycle)
        # grid index -> visits by the trials resumed at start; None once resumed
        self._visits: Counter[int] | None = Counter()
        self._start_cycle(0, set())

    # -- order --------------------------------------------------------------------

    def _permutation(self, cycle: int) -> FeistelPermutation | IdentityPermutation:
        if self.order == "ordered":
            return IdentityPermutation(self.size)
        return FeistelPermutation(self.size, (self._key << 32) + cycle)

    def _start_cycle(self, cycle: int, used: set[int]) -> None:
        self._cycle = cycle
        self._perm = self._permutation(cycle)
        self._position = 0
        self._used = used  # indices issued in this cycle but not at their position yet
        self._block: list[int] = []  # the permutation at positions _block_start, ...
        self._block_start = 0

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        index = self._stored_index(trial)
        if index is None:
            index = self._least_visited(trial)
        if self._visits is None:  # a later batch (another worker's trials): this cycle
            self._indices[trial.trial_id] = (index, self._cycle)
            self._used.add(index)  # skipped when the order reaches it
            return
        self._indices[trial.trial_id] = (index, self._visits[index])  # k-th visit: cycle k
        self._visits[index] += 1

    def _least_visited(self, trial: Trial) -> int:
        """The grid point of a config without a stored index.

        Overlapping ``subspaces`` branches give one config several points: a
        config seen twice takes two of them, as ablator's grid removes one copy
        per config it resumes from.
        """
        candidates = [self.grid.index_of_params(p) for p in self.tree.encodings(trial.config)]
        if self._visits is None:
            return next((i for i in candidates if i not in self._used), candidates[0])
        visits = self._visits
        return min(candidates, key=lambda i: visits[i])

    def _resume_done(self) -> None:
        if self._visits is None:
            return
        # the current cycle is the one some point has not been visited in yet
        counts = self._visits
        cycle = min(counts.values()) if len(counts) == self.size else 0
        self._start_cycle(cycle, {i for i, c in counts.items() if c > cycle})
        if self.exhausted == "stop" and cycle > 0:
            self._position = self.size  # the one allowed cycle is complete
        self._visits = None  # resumed: later batches come from sync_trials

    def _stored_index(self, trial: Trial) -> int | None:
        """The grid index in the trial's internal state, if it still decodes to its config.

        Overlapping ``subspaces`` branches can give one config several indices;
        the stored index says which one was sampled. Trials of other samplers
        (or of another space) fall back to matching the config.
        """
        index = (trial.internal or {}).get("index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < self.size:
            return None
        return index if json_equal(self.grid.config(index), trial.config) else None

    def _next_index(self) -> int:
        while True:
            if self._position >= self.size:
                if self.exhausted == "stop":
                    raise StopIteration(f"all {self.size} grid points were sampled")
                self._start_cycle(self._cycle + 1, set())
            offset = self._position - self._block_start
            if offset >= len(self._block):  # next block of the permutation, O(1) memory
                self._block = self._perm.block(self._position, _BLOCK)
                self._block_start, offset = self._position, 0
            index = self._block[offset]
            self._position += 1
            if self._used and index in self._used:
                self._used.discard(index)
                continue
            return index

    @property
    def remaining_in_cycle(self) -> int:
        """Points of the current cycle not handed out yet (a dropped point was handed out).

        ``0`` once a cycle is complete; with ``exhausted="cycle"`` the next sample
        starts a new one (ablator's ``len(GridSampler.configs)``).
        """
        return max(self.size - self._position - len(self._used), 0)

    # -- contract -----------------------------------------------------------------

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        index = self._next_index()
        trial_id = self.new_trial_id()
        self._indices[trial_id] = (index, self._cycle)
        return trial_id, self.grid.config(index)

    def _drop(self) -> None:
        # the id is handed out again (by the base class); the point is not: a dropped
        # config is one the caller could not run, so it leaves the current cycle
        trial_id = self.locked_trial_id
        if trial_id is not None:
            self._indices.pop(trial_id, None)

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """``{"index": grid index, "cycle": cycle number}`` (JSON)."""
        if trial_id not in self._indices:
            return None
        index, cycle = self._indices[trial_id]
        return {"index": index, "cycle": cycle}
