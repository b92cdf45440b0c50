"""``OptunaSampler``: a real ``optuna.Study`` driven by ask/tell behind the contract."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import optuna
from optuna.distributions import (
    BaseDistribution,
    distribution_to_json,
    json_to_distribution,
)
from optuna.trial import TrialState as OptunaState

from hposampler import BaseSampler, SearchSpaceError, Trial, TrialState
from hposampler.tree import Param

from .distributions import Mapping as ParamMapping
from .distributions import mapping_for, suggest

__all__ = ["OptunaSampler"]

logger = logging.getLogger("hposampler.optuna")
_quiet_lock = threading.Lock()
_quieted = False


def _quiet_optuna() -> None:
    """Optuna logs every finished trial at INFO; keep its default handler at WARNING once."""
    global _quieted
    with _quiet_lock:
        if not _quieted and optuna.logging.get_verbosity() == optuna.logging.INFO:
            optuna.logging.set_verbosity(optuna.logging.WARNING)
        _quieted = True


class _Record:
    """What we keep per trial: Optuna's number, its internal params and distributions."""

    __slots__ = ("distributions", "live", "number", "open", "params", "reports")

    def __init__(
        self,
        number: int,
        params: dict[str, Any],
        distributions: dict[str, BaseDistribution],
        live: optuna.Trial | None,
        open_: bool,
    ) -> None:
        self.number = number
        self.params = params
        self.distributions = distributions
        self.live = live  # the asked Trial, for report(); None once resumed
        self.open = open_  # still RUNNING in the Optuna study
        self.reports = 0


class OptunaSampler(BaseSampler):
    """Any Optuna sampler behind hposampler's contract, through ``ask``/``tell``.

    Parameters
    ----------
    search_space : mapping
        The search space; ``subspaces`` choices become categorical parameters.
    make_sampler : callable
        ``make_sampler(seed) -> optuna.samplers.BaseSampler``.
    optim_metrics : mapping, optional
        Ordered ``{metric: "min" | "max"}``; the study's directions. Without
        metrics the study minimises a dummy value (for samplers that ignore it).
    trials : list of Trial, optional
        Trials to resume from. Their ``internal`` state (params and Optuna's JSON
        distributions) is used when it matches the space; otherwise the config is
        encoded through the compiled tree, so trials of other samplers work too.
    seed : int, optional
        Passed to the Optuna sampler.

    Notes
    -----
    State mapping for :meth:`update_trial`: COMPLETE tells the values (``None``
    is the worst value for its direction); FAIL and FAIL_RECOVERABLE tell FAIL;
    PRUNED and its refinements tell PRUNED; RUNNING with metrics reports an
    intermediate value (single objective); WAITING does nothing. A trial that
    finishes again after being told (a recovered re-run) is added as a new
    finished Optuna trial. ``unlock(drop=True)`` tells FAIL and forgets the trial,
    which Optuna's samplers then ignore.
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        make_sampler: Callable[[int | None], optuna.samplers.BaseSampler],
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)
        _quiet_optuna()
        self.optuna_sampler = make_sampler(seed)
        directions: list[Literal["minimize", "maximize"]] = [
            "minimize" if d == "min" else "maximize" for d in self.optim_metrics.values()
        ] or ["minimize"]
        self.study = optuna.create_study(sampler=self.optuna_sampler, directions=directions)
        self._maps: dict[str, ParamMapping] = {
            name: mapping_for(param) for name, param in self.tree.params.items()
        }
        self._records: dict[int, _Record] = {}
        self.exhausted = False
        self._resume_all(self.trials)

    # -- resume -------------------------------------------------------------------

    def _stored(self, trial: Trial) -> tuple[dict[str, Any], dict[str, BaseDistribution]] | None:
        internal = trial.internal or {}
        params, dists = internal.get("params"), internal.get("distributions")
        if not isinstance(params, dict) or not isinstance(dists, dict) or set(params) != set(dists):
            return None
        try:
            decoded = {name: json_to_distribution(text) for name, text in dists.items()}
        except (ValueError, TypeError, KeyError):
            return None
        for name, dist in decoded.items():
            if name not in self._maps or self._maps[name].distribution != dist:
                return None  # the space changed; fall back to the config
        try:
            external = {n: self._maps[n].to_config(v) for n, v in params.items()}
            if self.tree.decode(external) != trial.config:
                return None
        except (SearchSpaceError, ValueError, IndexError, TypeError):
            return None
        return params, decoded

    def _from_config(self, trial: Trial) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
        external = self.tree.encode(trial.config)
        params = {n: self._maps[n].to_optuna(v) for n, v in external.items()}
        return params, {n: self._maps[n].distribution for n in external}

    def _resume_all(self, trials: list[Trial]) -> None:
        """Rebuild the study from earlier trials in one ``add_trials`` call."""
        frozen = []
        for trial in sorted(trials, key=lambda t: t.trial_id):
            stored = self._stored(trial)
            if stored is None:
                try:
                    stored = self._from_config(trial)
                except SearchSpaceError as exc:
                    logger.warning(
                        "trial %s: config is not in the search space (%s); not given to Optuna",
                        trial.trial_id,
                        exc,
                    )
                    continue
            params, dists = stored
            state = trial.state
            metrics = self.check_metrics(trial.final_metrics) if trial.metrics else None
            opened = state in (TrialState.RUNNING, TrialState.WAITING, TrialState.FAIL_RECOVERABLE)
            frozen.append(
                optuna.trial.create_trial(
                    params=params,
                    distributions=dists,
                    state=OptunaState.RUNNING if opened else self._terminal_state(state),
                    values=self._values(metrics) if state == TrialState.COMPLETE else None,
                    intermediate_values=self._intermediate(trial) if state.is_pruned else None,
                )
            )
            number = len(frozen) - 1
            self._records[trial.trial_id] = _Record(number, params, dists, None, opened)
        self.study.add_trials(frozen)

    def _intermediate(self, trial: Trial) -> dict[int, float] | None:
        if len(self.optim_metrics) != 1:
            return None
        name = next(iter(self.optim_metrics))
        out = {}
        for step, entry in enumerate(trial.metrics):
            value = entry.get(name)
            if value is not None and math.isfinite(value):
                out[step] = value
        return out or None

    # -- contract -----------------------------------------------------------------

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        if self.exhausted:
            raise StopIteration("the Optuna sampler has exhausted the search space")
        trial = self.study.ask()

        def ask(param: Param) -> Any:
            mapping = self._maps[param.name]
            return mapping.to_config(suggest(trial, param.name, mapping.distribution))

        try:
            _, config = self.tree.sample(ask)
        except BaseException:
            self.study.tell(trial, state=OptunaState.FAIL)
            raise
        trial_id = self.new_trial_id()
        dists = {name: self._maps[name].distribution for name in trial.params}
        self._records[trial_id] = _Record(trial.number, dict(trial.params), dists, trial, True)
        return trial_id, config

    def _drop(self) -> None:
        trial_id = self.locked_trial_id
        record = self._records.pop(trial_id) if trial_id is not None else None
        if record is not None and record.open:
            self._tell(record.number, state=OptunaState.FAIL)

    def _values(self, metrics: dict[str, float | None] | None) -> list[float]:
        if not self.optim_metrics:
            return [0.0]
        filled = self.worst_filled(metrics or dict.fromkeys(self.optim_metrics))
        return [filled[name] for name in self.optim_metrics]

    @staticmethod
    def _terminal_state(state: TrialState) -> OptunaState:
        if state == TrialState.COMPLETE:
            return OptunaState.COMPLETE
        if state.is_pruned:
            return OptunaState.PRUNED
        return OptunaState.FAIL

    def _tell(self, number: int, **kwargs: Any) -> None:
        try:
            self.study.tell(number, **kwargs)
        except RuntimeError as exc:  # BruteForceSampler calls study.stop() when exhausted
            if "Study.stop" not in str(exc):
                raise
            self.exhausted = True

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        record = self._records.get(trial_id)
        if record is None:  # resumed with a config outside the space: nothing to tell
            return
        if state == TrialState.WAITING:
            return
        if state == TrialState.RUNNING:
            if metrics and len(self.optim_metrics) == 1 and record.live is not None:
                value = self._values(metrics)[0]
                if math.isfinite(value):
                    record.live.report(value, record.reports)
                    record.reports += 1
            return
        terminal = self._terminal_state(state)
        values = self._values(metrics) if terminal == OptunaState.COMPLETE else None
        if record.open:
            self._tell(record.number, values=values, state=terminal)
            record.open = False
            record.live = None
            return
        # finished again (e.g. a FAIL_RECOVERABLE trial re-ran): add a new finished trial
        record.number = len(self.study.get_trials(deepcopy=False))
        self.study.add_trial(
            optuna.trial.create_trial(
                params=record.params,
                distributions=record.distributions,
                state=terminal,
                values=values,
            )
        )

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """Optuna's number, internal params and distributions (Optuna's own JSON)."""
        record = self._records.get(trial_id)
        if record is None:
            return None
        return {
            "number": record.number,
            "params": dict(record.params),
            "distributions": {
                name: distribution_to_json(dist) for name, dist in record.distributions.items()
            },
        }


def quiet_experimental() -> Any:
    """Silence Optuna's ExperimentalWarning while building a sampler the user asked for."""
    import contextlib
    import warnings

    @contextlib.contextmanager
    def ctx() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield

    return ctx()
