"""``random``: uniform random search in the core, with nothing to install.

:class:`RandomSearch` draws every active parameter independently and uniformly:
floats and ints uniformly over their range (log-uniformly when ``log``), grid
points, ordered ``values``, categorical values and ``subspaces`` branches each
with equal chance. It needs no plugin and imports nothing heavy (no NumPy, no
Optuna), so a random study starts as fast as Python does.

Each trial's draws come from their own generator, seeded by the sampler's seed,
the trial's id and how many times that id was dropped (``unlock(drop=True)``).
So a seeded study is reproducible, a resumed study proposes exactly what an
uninterrupted one would, workers sharing a study never draw the same stream, and
a dropped trial is drawn afresh. Nothing needs to be stored per trial.

``optuna:random`` is Optuna's own ``RandomSampler`` (its draws, seed for seed);
``random`` named it up to hposampler 0.3.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from hposampler.plugins.hookspecs import hookimpl
from hposampler.plugins.specs import SamplerSpec
from hposampler.samplers.base import BaseSampler
from hposampler.space.tree import SpaceTree

__all__ = ["RandomSearch"]


class RandomSearch(BaseSampler):
    """Independent uniform draws of every active parameter (``hposampler:random``).

    Parameters
    ----------
    search_space, optim_metrics, trials, seed, constraints
        As for :class:`~hposampler.BaseSampler`. Results are accepted and
        ignored: random search learns nothing from them.

    Examples
    --------
    >>> sampler = RandomSearch({"lr": {"value_range": [1e-4, 1e-1], "value_type": "float",
    ...                                "log": True}}, seed=0)
    >>> trial_id, config = sampler.eager_sample()[:2]
    >>> trial_id, 1e-4 <= config["lr"] <= 1e-1
    (0, True)
    >>> RandomSearch(sampler.search_space, seed=0).eager_sample()[1] == config
    True
    """

    def __init__(self, search_space: Mapping[str, Any] | SpaceTree, **kwargs: Any) -> None:
        super().__init__(search_space, **kwargs)
        # unseeded: a fresh key per sampler, so unseeded samplers differ
        self._key = self.seed if self.seed is not None else random.SystemRandom().getrandbits(63)
        self._drops: dict[int, int] = {}  # trial id -> times dropped

    def _generator(self, trial_id: int) -> random.Random:
        # one int per (seed, id, drops): seeds are ints of any size, so keys never collide
        key = abs(self._key) * 2 + (self._key < 0)
        return random.Random((((key << 64) | trial_id) << 32) | self._drops.get(trial_id, 0))

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        trial_id = self.new_trial_id()
        draw = self._generator(trial_id).random
        _, config = self.tree.sample(lambda param: param.from_unit(draw()))
        return trial_id, config

    def _drop(self) -> None:
        trial_id = self.locked_trial_id
        if trial_id is not None:
            self._drops[trial_id] = self._drops.get(trial_id, 0) + 1

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """``None``: a trial's draws follow from the seed and its id alone."""
        return None


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register ``hposampler:random`` (alias ``random``)."""
    register(
        SamplerSpec(
            "hposampler:random",
            RandomSearch,
            aliases=("random",),
            description="independent uniform (log-uniform) draws; in the core, nothing to install",
            multi_objective=True,
            conditional=True,
            concurrent=True,
            deterministic=True,
            needs_metrics=False,
        )
    )
