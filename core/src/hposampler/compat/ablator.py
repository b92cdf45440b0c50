"""ablator's sampler classes, backed by hposampler: adopt hposampler by changing one import.

ablator 0.0.1b3 builds its sampler in ``ExperimentState`` as
``OptunaSampler(search_algo, search_space, optim_metrics, trials, seed=...)`` or
``GridSampler(search_space, configs, seed=...)`` and stores the third value of
``eager_sample()`` with ``_append_trial_internal(..., **internal)``. The classes
here take exactly those arguments (ablator's enums, ``SearchSpace`` objects and
stored trial rows included) and return internal state with ablator's keys
(``_opt_params``, ``_opt_distributions_kwargs``, ``_opt_distributions_types``;
``None`` for the grid, as ablator's grid does)::

    # in ablator: from ablator.main.hpo import GridSampler, OptunaSampler
    from hposampler.compat.ablator import GridSampler, OptunaSampler

Differences that are improvements: ``subspaces`` choices are learned instead of
drawn with an unseeded ``np.random.choice``; resuming never ``eval``s stored
type names; every grid point (the upper end of float grids included) can be
sampled; ``update_trial`` validates its arguments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..sampler import BaseSampler
from ..trial import TrialState

__all__ = ["BaseSampler", "GridSampler", "OptunaSampler", "ablator_internal"]


def ablator_internal(internal: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Our Optuna adapter's internal state in ablator's three ``_opt_*`` keys.

    ``None`` when there is nothing of Optuna's to report (grid, other backends).
    """
    if not internal or "params" not in internal or "distributions" not in internal:
        return None
    kinds: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    for name, text in internal["distributions"].items():
        data = json.loads(text)
        kinds[name] = data["name"]
        kwargs[name] = data["attributes"]
    return {
        "_opt_params": dict(internal["params"]),
        "_opt_distributions_kwargs": kwargs,
        "_opt_distributions_types": kinds,
    }


class _Delegating:
    """ablator's constructor in front of a sampler built by :func:`~hposampler.make_sampler`.

    The contract calls go to that sampler (which validates them); internal state
    comes back in ablator's format; every other attribute (``tree``,
    ``trial_states``, ...) is the sampler's own.
    """

    def __init__(self, inner: BaseSampler) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def eager_sample(self) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
        """Sample and lock; the internal state in ablator's keys (see the module docs)."""
        trial_id, config, internal = self._inner.eager_sample()
        return trial_id, config, self._translate(internal)

    def unlock(self, drop: bool) -> None:
        """Accept the locked trial, or forget it with ``drop=True``."""
        self._inner.unlock(drop)

    def update_trial(
        self,
        trial_id: int,
        metrics: Mapping[str, float | None] | None,
        state: TrialState | int,
    ) -> None:
        """Report metrics and a state (validated by the sampler)."""
        self._inner.update_trial(trial_id, metrics, state)

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """The trial's internal state in ablator's keys, or ``None``."""
        return self._translate(self._inner.internal_repr(trial_id))

    def _translate(self, internal: dict[str, Any] | None) -> dict[str, Any] | None:
        return ablator_internal(internal)


class OptunaSampler(_Delegating):
    """ablator's ``OptunaSampler``: any installed backend, named by ``search_algo``.

    Parameters
    ----------
    search_algo : str or enum
        ablator's ``SearchAlgo.tpe`` / ``SearchAlgo.random`` (or any sampler name
        or alias ``hposampler list`` shows, e.g. ``"optuna:cmaes"``).
    search_space : dict
        ``{path: SearchSpace}`` with ablator's ``SearchSpace`` objects or dicts.
    optim_metrics : mapping
        ``{metric: Optim.min | Optim.max}`` (or ``"min"`` / ``"max"``).
    trials : list, optional
        ablator's stored trial rows (``trial_num``, ``aug_config_param``,
        ``metrics``, ``state``, ``_opt_*``) or hposampler ``Trial`` records.
    seed : int, optional
        The seed.
    """

    def __init__(
        self,
        search_algo: Any,
        search_space: Mapping[str, Any],
        optim_metrics: Mapping[str, Any],
        trials: Iterable[Any] | None = None,
        seed: int | None = None,
    ) -> None:
        from ..selection import make_sampler

        super().__init__(
            make_sampler(
                search_algo,
                search_space,
                optim_metrics=optim_metrics,
                trials=list(trials or []),
                seed=seed,
            )
        )


class GridSampler(_Delegating):
    """ablator's ``GridSampler``: every grid point once, in a seeded order, then again.

    Parameters
    ----------
    search_space : dict
        ``{path: SearchSpace}``; ranges need ``n_bins``.
    configs : list of dict, optional
        Configs sampled before (ablator resumes a grid from them): they are not
        proposed again in the current cycle.
    seed : int, optional
        The seed of the order.
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        configs: Iterable[Mapping[str, Any]] | None = None,
        seed: int | None = None,
    ) -> None:
        from ..selection import make_sampler

        done = [
            {"trial_id": i, "config": dict(c), "state": int(TrialState.COMPLETE)}
            for i, c in enumerate(configs or [])
        ]
        super().__init__(make_sampler("grid", search_space, trials=done, seed=seed))

    def _translate(self, internal: dict[str, Any] | None) -> dict[str, Any] | None:
        return None  # ablator's grid keeps no internal state
