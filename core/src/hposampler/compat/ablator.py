"""ablator's sampler classes, backed by hposampler: adopt hposampler by changing one import.

ablator 0.0.1b3 builds its sampler in ``ExperimentState`` as
``OptunaSampler(search_algo, search_space, optim_metrics, trials, seed=...)`` or
``GridSampler(search_space, configs, seed=...)`` and stores the third value of
``eager_sample()`` with ``_append_trial_internal(..., **internal)``::

    # in ablator: from ablator.main.hpo import GridSampler, OptunaSampler
    from hposampler.compat.ablator import GridSampler, OptunaSampler

The classes here follow ablator's observable behaviour, not hposampler's own
choices where the two differ (docs/ablator.md lists each behaviour):

* the values: ablator's grid points (NumPy's ``linspace`` with ablator's
  ``dtype``) and, for every other algorithm, ablator's Optuna steps
  (``step = (high - low) / n_bins``, so ``n_bins=10`` gives 11 points);
* the internal state: ablator's ``_opt_params`` (by ablator's names, ``a_1.d``
  for a ``subspaces`` branch), ``_opt_distributions_kwargs`` and
  ``_opt_distributions_types``, so a study stored by either resumes on the other;
  ``None`` for the grid;
* the grid: a dropped config leaves the pool, ``configs`` (what is left of the
  cycle) and ``sampled_configs``, ``update_trial`` ignores its arguments;
* ``search_space`` is the mapping given; an empty space is accepted;
* the errors, which are ablator's built-in classes *and* hposampler's
  (:class:`~hposampler.errors.AblatorSearchAlgoError` is a ``ValueError`` and an
  :class:`~hposampler.errors.UnknownSamplerError`, ...), with ablator's messages.

What stays hposampler's: ``subspaces`` choices are learned (ablator draws them with
an unseeded ``numpy.random.choice``), a ``None`` metric is the worst value for its
direction, stored rows are read as data (ablator ``eval``\\ s type names), and
``search_algo`` may name any installed backend (``"optuna:cmaes"``, ``"skopt:gp"``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from hposampler.compat._ablator_rules import (
    EMPTY_KEY,
    OptEncoding,
    backend_space,
    grid_space,
    optuna_space,
    parse,
)
from hposampler.errors import (
    AblatorMetricsError,
    AblatorSearchAlgoError,
    AblatorUnknownTrialError,
    SearchSpaceError,
    UnknownSamplerError,
)
from hposampler.samplers.base import BaseSampler
from hposampler.samplers.trial import Trial, TrialState

__all__ = ["BaseSampler", "GridSampler", "OptunaSampler"]

#: The states ablator's Optuna wrapper records; it ignores updates to any other.
_RECORDED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.RUNNING)

#: Where a backend's own internal state travels inside ``_opt_params`` (ablator's rows
#: have no other place for it): backends that are not Optuna's (CMA generations,
#: grid indices, ...) then resume exactly. ablator's own samplers ignore the key.
INTERNAL_KEY = "__hposampler_internal__"


class _Delegating:
    """ablator's constructor in front of a sampler built by :func:`~hposampler.make_sampler`.

    The contract calls go to that sampler (which validates them); every other
    attribute (``tree``, ``trial_states``, ...) is the sampler's own.
    """

    def __init__(self, inner: BaseSampler, search_space: Any, empty: bool) -> None:
        self._inner = inner
        #: The search space as given (ablator's ``SearchSpace`` objects stay themselves).
        self.search_space = search_space
        self._empty = empty

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _config(self, config: dict[str, Any]) -> dict[str, Any]:
        if self._empty:
            config.pop(EMPTY_KEY, None)
        return config

    def unlock(self, drop: bool) -> None:
        """Accept the locked trial, or forget it with ``drop=True``."""
        self._inner.unlock(drop)


def _trials(rows: Iterable[Any], empty: bool) -> list[Trial]:
    """Stored trials (ablator's rows or hposampler's) as records for the backend.

    A backend's internal state stored under :data:`INTERNAL_KEY` in ``_opt_params``
    becomes the trial's ``internal`` again.
    """
    out = []
    for row in rows:
        trial = Trial.from_dict(row)
        params = (trial.internal or {}).get("_opt_params")
        if isinstance(params, dict) and isinstance(params.get(INTERNAL_KEY), dict):
            trial = trial.evolve(internal=params[INTERNAL_KEY])
        if empty:
            trial = trial.evolve(config={**trial.config, EMPTY_KEY: 0})
        out.append(trial)
    return out


@attrs.define
class AblatorTrialView:
    """One trial as ablator's Optuna wrapper records it (``sampler._study.trials[i]``)."""

    id_: int
    state: TrialState
    values: list[float] | None
    params: dict[str, Any]
    distributions: dict[str, Any]


@attrs.define
class AblatorStudyView:
    """What ablator's ``OptunaSampler._study`` exposes: its ``trials``, in sampling order."""

    trials: list[AblatorTrialView] = attrs.Factory(list)

    def get_trial(self, trial_id: int) -> AblatorTrialView:
        """The trial with that id; ablator's ``RuntimeError`` when there is none.

        Raises
        ------
        AblatorUnknownTrialError
            For an id never sampled, or dropped.
        """
        for trial in self.trials:
            if trial.id_ == trial_id:
                return trial
        error = AblatorUnknownTrialError(f"Trial {trial_id} was not found.")  # ablator's words
        if hasattr(error, "add_note"):  # Python 3.11+: the fix, below the message
            error.add_note(
                "update or look up only ids eager_sample() returned (dropped ids are forgotten)"
            )
        raise error


class OptunaSampler(_Delegating):
    """ablator's ``OptunaSampler``: any installed backend, named by ``search_algo``.

    Parameters
    ----------
    search_algo : str or enum
        ablator's ``SearchAlgo.tpe`` / ``SearchAlgo.random`` (or any sampler name
        or alias ``hposampler list`` shows, e.g. ``"optuna:cmaes"``).
    search_space : dict
        ``{path: SearchSpace}`` with ablator's ``SearchSpace`` objects or dicts;
        ``n_bins`` means ablator's step, ``(high - low) / n_bins``.
    optim_metrics : mapping
        ``{metric: Optim.min | Optim.max}`` (or ``"min"`` / ``"max"``); required.
    trials : list, optional
        ablator's stored trial rows (``trial_uid``, ``aug_config_param``,
        ``metrics``, ``state``, ``_opt_*``) or hposampler ``Trial`` records.
    seed : int, optional
        The seed.

    Raises
    ------
    AblatorMetricsError
        Without ``optim_metrics`` (ablator's ``ValueError``).
    AblatorSearchAlgoError
        For an unknown ``search_algo`` (ablator's ``ValueError``).
    """

    def __init__(
        self,
        search_algo: Any,
        search_space: Mapping[str, Any],
        optim_metrics: Mapping[str, Any],
        trials: Iterable[Any] | None = None,
        seed: int | None = None,
    ) -> None:
        from hposampler.selection import get_sampler_spec, make_sampler

        name = getattr(search_algo, "value", search_algo)
        if not optim_metrics:
            raise AblatorMetricsError(
                f"Need to specify 'optim_metrics' with sampler = `{name}`, e.g. "
                "{'val_loss': 'min'}"
            )
        try:
            get_sampler_spec(name)
        except UnknownSamplerError as exc:
            raise AblatorSearchAlgoError(str(name), exc.installed, exc.suggestions) from None
        parsed = parse(search_space)
        records = _trials(trials or [], not parsed)
        inner = make_sampler(
            name,
            backend_space(optuna_space(parsed)),
            optim_metrics=optim_metrics,
            trials=records,
            seed=seed,
        )
        super().__init__(inner, search_space, not parsed)
        self._encoding = OptEncoding(parsed)
        # a backend that resumes exactly from the configs needs no state of its own kept
        self._carries_internal = not get_sampler_spec(name).resumes_from_configs
        self._study = AblatorStudyView()
        for record in sorted(records, key=lambda t: t.trial_id):
            own = record.internal if "_opt_params" not in (record.internal or {}) else None
            view = self._view(record.trial_id, record.config, own)
            if record.state in _RECORDED:
                view.state = record.state
                view.values = self._values(record.metrics[-1] if record.metrics else None)
            self._study.trials.append(view)

    def _view(
        self, trial_id: int, config: Mapping[str, Any], internal: Mapping[str, Any] | None
    ) -> AblatorTrialView:
        branches = (internal or {}).get("params")
        try:
            record = self._encoding.record(
                self._inner.tree, config, branches if isinstance(branches, dict) else {}
            )
        except SearchSpaceError:  # a stored config outside the space: nothing to encode
            record = OptEncoding({}).record(self._inner.tree, config, {})
        params = record["_opt_params"]
        if self._carries_internal and internal is not None:
            params[INTERNAL_KEY] = internal
        return AblatorTrialView(
            trial_id,
            TrialState.RUNNING,
            None,
            params,
            {
                k: (record["_opt_distributions_types"][k], v)
                for k, v in record["_opt_distributions_kwargs"].items()
            },
        )

    def _values(self, metrics: Mapping[str, float | None] | None) -> list[float] | None:
        if metrics is None:
            return None
        return [math.inf if metrics[k] is None else metrics[k] for k in self.optim_metrics]  # type: ignore[misc]

    def eager_sample(self) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
        """Sample and lock; the internal state in ablator's ``_opt_*`` keys."""
        trial_id, config, internal = self._inner.eager_sample()
        self._study.trials.append(self._view(trial_id, config, internal))
        return trial_id, self._config(config), self.internal_repr(trial_id)

    def unlock(self, drop: bool) -> None:
        """Accept the locked trial, or forget it (and its record) with ``drop=True``."""
        locked = self._inner.locked_trial_id
        self._inner.unlock(drop)
        if drop and self._study.trials and self._study.trials[-1].id_ == locked:
            self._study.trials.pop()

    def update_trial(
        self,
        trial_id: int,
        metrics: Mapping[str, float | None] | None,
        state: TrialState | int,
    ) -> None:
        """Report metrics and a state, as ablator's wrapper takes them.

        COMPLETE, FAIL and RUNNING are recorded (their metrics must name exactly
        ``optim_metrics``); for other states ablator ignores the call, and here
        the backend learns the state while mismatched metrics are ignored.

        Raises
        ------
        AblatorUnknownTrialError
            ``Trial N was not found.`` for an id never sampled (or dropped).
        AblatorMetricsError
            ``metric keys {...} do not match optim_keys {...}``.
        """
        view = self._study.get_trial(trial_id)
        checked = TrialState(state)
        if metrics is not None and set(metrics) != set(self.optim_metrics):
            if checked in _RECORDED:
                raise AblatorMetricsError(
                    f"metric keys {set(metrics)} do not match optim_keys "
                    f"{set(self.optim_metrics)}; report exactly the optimised metrics"
                )
            metrics = None
        self._inner.update_trial(trial_id, metrics, checked)
        if checked in _RECORDED:
            view.state = checked
            view.values = self._values(self._inner.check_metrics(metrics))

    def internal_repr(self, trial_id: int) -> dict[str, Any]:
        """``{"_opt_params", "_opt_distributions_kwargs", "_opt_distributions_types"}``.

        Raises
        ------
        AblatorUnknownTrialError
            For an id never sampled (or dropped).
        """
        view = self._study.get_trial(trial_id)
        return {
            "_opt_params": dict(view.params),
            "_opt_distributions_kwargs": {k: dict(v[1]) for k, v in view.distributions.items()},
            "_opt_distributions_types": {k: v[0] for k, v in view.distributions.items()},
        }


class _RemainingConfigs:
    """ablator's ``GridSampler.configs``: what is left of the current cycle (its length)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __len__(self) -> int:
        return int(self._inner.remaining_in_cycle)

    def __repr__(self) -> str:
        return f"<{len(self)} grid configs left in this cycle>"


class GridSampler(_Delegating):
    """ablator's ``GridSampler``: every grid point once, in a seeded order, then again.

    Parameters
    ----------
    search_space : dict
        ``{path: SearchSpace}``; ranges need ``n_bins`` and give ablator's points,
        ``sorted(set(numpy.linspace(low, high, n_bins, dtype=int | float)))``.
    configs : list of dict, optional
        Configs sampled before (ablator resumes a grid from them): they are not
        proposed again in the current cycle.
    seed : int, optional
        The seed of the order.

    Attributes
    ----------
    configs : sized
        What is left of the current cycle (``len(sampler.configs)``).
    sampled_configs : list of dict
        The configs given and sampled since, without dropped ones.

    Raises
    ------
    AblatorSearchSpaceError
        For a range without ``n_bins``, with ablator's message.
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        configs: Iterable[Mapping[str, Any]] | None = None,
        seed: int | None = None,
    ) -> None:
        from hposampler.selection import make_sampler

        parsed = parse(search_space)
        given = [dict(c) for c in configs or []]
        done = [Trial(i, c, TrialState.COMPLETE) for i, c in enumerate(given)]
        inner = make_sampler(
            "grid", backend_space(grid_space(parsed)), trials=_trials(done, not parsed), seed=seed
        )
        super().__init__(inner, search_space, not parsed)
        self.sampled_configs: list[dict[str, Any]] = given
        self.configs = _RemainingConfigs(inner)

    def eager_sample(self) -> tuple[int, dict[str, Any], None]:
        """Sample and lock; ablator's grid keeps no internal state (``None``)."""
        trial_id, config, _ = self._inner.eager_sample()
        config = self._config(config)
        self.sampled_configs.append(config)
        return trial_id, config, None

    def unlock(self, drop: bool) -> None:
        """Accept the locked trial, or drop it: its config leaves the cycle, its id is reused."""
        locked = self._inner.locked_trial_id
        self._inner.unlock(drop)
        if drop and locked is not None:
            self.sampled_configs.pop()

    def update_trial(self, trial_id: int, metrics: Any, state: Any) -> None:
        """Nothing to learn: ablator's grid ignores results, and so does this one."""

    def internal_repr(self, trial_id: int) -> None:
        """``None``: ablator's grid keeps no internal state."""
        return None
