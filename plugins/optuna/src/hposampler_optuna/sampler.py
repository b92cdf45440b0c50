"""``OptunaSampler``: a real ``optuna.Study`` driven by ask/tell behind the contract."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import optuna
from optuna.distributions import distribution_to_json
from optuna.trial import TrialState as OptunaState

from hposampler import BaseSampler, SearchSpaceError, Trial, TrialState
from hposampler.samplers.tables import DenseIntMap
from hposampler.space.tree import Param

from .common import STUDY_NAME, quiet_optuna
from .distributions import Mapping as ParamMapping
from .distributions import mapping_for, suggest

__all__ = ["IndependentDraws", "OptunaSampler", "constraints_reader"]

#: Where Optuna's samplers keep a trial's constraint values (``optuna.samplers._base``).
_CONSTRAINTS_KEY = "constraints"

_tell_without_copy: Callable[..., Any] | None
try:  # Study.tell deep-copies the finished trial to return it; we need no copy back
    from optuna.study._tell import _tell_with_warning as _tell_without_copy
except ImportError:  # pragma: no cover - another Optuna layout: the public tell
    _tell_without_copy = None


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
    constraints : iterable of str
        The study's constraint names; the Optuna sampler's ``constraints_func``
        (see :func:`constraints_reader`) reads their values from ``constraint_values``,
        which this adapter fills as trials are told or resumed.
    constraint_values : dict, optional
        The dict that ``constraints_func`` reads (Optuna trial number -> values).
    pruner : BasePruner, optional
        The study's pruner; when it is one of Optuna's
        (:class:`hposampler_optuna.pruners.OptunaPruner`), the Optuna study gets
        it, so samplers behave as under that pruner in Optuna (TPE samples per
        Hyperband bracket).

    Notes
    -----
    State mapping for :meth:`update_trial`: COMPLETE tells the values (``None``
    is the worst value for its direction); FAIL and FAIL_RECOVERABLE tell FAIL;
    PRUNED and its refinements tell PRUNED; RUNNING with metrics reports an
    intermediate value (single objective); WAITING does nothing. A trial that
    finishes again after being told (a recovered re-run) is added as a new
    finished Optuna trial. ``unlock(drop=True)`` tells FAIL and forgets the trial,
    which Optuna's samplers then ignore.

    The Optuna study is the only copy of the history the adapter keeps: per
    trial it remembers Optuna's trial number (and, while the trial runs, its
    live ``optuna.Trial`` for intermediate reports).
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        make_sampler: Callable[[int | None], optuna.samplers.BaseSampler],
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        pruner: Any = None,
        constraints: Iterable[str] = (),
        constraint_values: dict[int, tuple[float, ...]] | None = None,
    ) -> None:
        super().__init__(
            search_space, optim_metrics=optim_metrics, trials=trials, seed=seed,
            constraints=constraints,
        )  # fmt: skip
        #: Constraint values by Optuna trial number, read by the sampler's constraints_func.
        self.constraint_values = {} if constraint_values is None else constraint_values
        quiet_optuna()
        self._make = make_sampler
        self.optuna_sampler = make_sampler(seed)
        directions: list[Literal["minimize", "maximize"]] = [
            "minimize" if d == "min" else "maximize" for d in self.optim_metrics.values()
        ] or ["minimize"]
        self.storage = optuna.storages.InMemoryStorage()
        # with the study's Optuna pruner (and the pruner mirror's study name), Optuna's
        # samplers see what they see in Optuna: TPE models each Hyperband bracket apart
        optuna_pruner = getattr(pruner, "optuna_pruner", None)
        self.study = optuna.create_study(
            storage=self.storage, sampler=self.optuna_sampler, directions=directions,
            pruner=optuna_pruner, study_name=STUDY_NAME if optuna_pruner is not None else None,
        )  # fmt: skip
        self._study_id = self.storage.get_study_id_from_name(self.study.study_name)
        self._maps: dict[str, ParamMapping] = {
            name: mapping_for(param) for name, param in self.tree.params.items()
        }
        # Optuna's JSON of each distribution, computed once (internal_repr is per trial)
        self._dist_json = {n: distribution_to_json(m.distribution) for n, m in self._maps.items()}
        self._numbers = DenseIntMap()  # trial id -> Optuna trial number, 8 bytes a trial
        self._live: dict[int, optuna.Trial] = {}  # trials still RUNNING in the Optuna study
        self._steps: dict[int, int] = {}  # next intermediate step of a live trial
        self._frozen: list[tuple[int, optuna.trial.FrozenTrial]] = []  # taken, added at once
        self._study_attrs: dict[str, int] = {}  # sampler counters found in this batch
        # Random draws independently of results: its stream is fast-forwarded so that
        # the trial with id k gets the k-th draw (resumed and shared studies included)
        self._replay = isinstance(self.optuna_sampler, optuna.samplers.RandomSampler)
        self._position = 0  # draws made on the random stream
        self.exhausted = False

    # -- resume -------------------------------------------------------------------

    def _stored_params(self, trial: Trial) -> dict[str, Any] | None:
        """The trial's stored Optuna params when they still fit the space and its config."""
        internal = trial.internal or {}
        params, dists = internal.get("params"), internal.get("distributions")
        if not isinstance(params, dict) or not isinstance(dists, dict) or set(params) != set(dists):
            return None
        if any(self._dist_json.get(name) != text for name, text in dists.items()):
            return None  # the space changed: fall back to the config
        try:
            external = {n: self._maps[n].to_config(v) for n, v in params.items()}
            if self.tree.decode(external) != trial.config:
                return None
        except (SearchSpaceError, ValueError, IndexError, TypeError):
            return None
        return params

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        stored = self._stored_params(trial)
        if stored is None:
            stored = {n: self._maps[n].to_optuna(v) for n, v in params.items()}
        attrs = (trial.internal or {}).get("study_attrs")
        if isinstance(attrs, dict):
            for key, value in attrs.items():  # the furthest position in this batch
                if isinstance(value, int) and value > self._study_attrs.get(key, -1):
                    self._study_attrs[key] = value
        state = trial.state
        system_attrs: dict[str, Any] = {}
        if self.constraints and state == TrialState.COMPLETE:
            system_attrs[_CONSTRAINTS_KEY] = self._constraint_tuple(trial.final_metrics)
        frozen = optuna.trial.create_trial(
            params=stored,
            distributions={n: self._maps[n].distribution for n in stored},
            state=OptunaState.RUNNING if state.is_pending else self._terminal_state(state),
            values=self._values(trial.final_metrics) if state == TrialState.COMPLETE else None,
            intermediate_values=self._intermediate(trial) if state.is_pruned else None,
            system_attrs=system_attrs or None,
        )
        self._frozen.append((trial.trial_id, frozen))

    def _resume_done(self) -> None:
        """Add the taken trials to the Optuna study in one call; continue the stream."""
        if not self._frozen:
            return
        base = len(self.study.get_trials(deepcopy=False))
        for offset, (trial_id, _) in enumerate(self._frozen):
            self._numbers[trial_id] = base + offset
        self.study.add_trials([frozen for _, frozen in self._frozen])
        total = base + len(self._frozen)
        self._frozen = []
        # state a sampler keeps in the study (QMC's position in its sequence) comes back;
        # a counter only moves forward (this worker may have drawn past what it learns)
        current = self.storage.get_study_system_attrs(self._study_id)
        for key, value in self._study_attrs.items():
            if not isinstance(current.get(key), int) or current[key] < value:
                self.storage.set_study_system_attr(self._study_id, key, value)
        self._study_attrs = {}
        if not self._replay:
            # a stream that cannot be fast-forwarded is reseeded from the history, so it
            # continues with fresh draws instead of replaying those it already made
            self.optuna_sampler = self._make(self.resume_seed(total))
            self.study.sampler = self.optuna_sampler

    def _fast_forward(self, position: int) -> None:
        """Advance the random stream to ``position`` draws (on a throwaway study)."""
        if self._position >= position:
            return
        scratch = optuna.create_study(sampler=self.optuna_sampler)
        maps = self._maps
        while self._position < position:
            trial = scratch.ask()

            def draw(param: Param, trial: optuna.Trial = trial) -> Any:
                return maps[param.name].to_config(
                    suggest(trial, param.name, maps[param.name].distribution)
                )

            self.tree.sample(draw)
            scratch.tell(trial, state=OptunaState.FAIL)
            self._position += 1

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
        trial_id = self.new_trial_id()
        if self._replay:
            self._fast_forward(trial_id)
            self._position += 1
        trial = self.study.ask()
        maps = self._maps

        def ask(param: Param) -> Any:
            mapping = maps[param.name]
            return mapping.to_config(suggest(trial, param.name, mapping.distribution))

        try:
            _, config = self.tree.sample(ask)
        except BaseException:
            self._tell(trial.number, state=OptunaState.FAIL)
            raise
        self._numbers[trial_id] = trial.number
        self._live[trial_id] = trial
        return trial_id, config

    def _frozen_trial(self, number: int) -> optuna.trial.FrozenTrial:
        """The Optuna study's own record of a trial (no copy: read it, never change it)."""
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(self._study_id, number)
        return self.storage.get_trial(trial_id)

    def _drop(self) -> None:
        trial_id = self.locked_trial_id
        number = None if trial_id is None else self._numbers.pop(trial_id)
        if trial_id is None or number is None:
            return
        self._steps.pop(trial_id, None)
        if self._live.pop(trial_id, None) is not None:
            self._tell(number, state=OptunaState.FAIL)

    def _constraint_tuple(self, metrics: Mapping[str, float | None] | None) -> tuple[float, ...]:
        """The constraint values of a trial; a missing or NaN one counts as violated."""
        found = metrics or {}
        out = []
        for name in self.constraints:
            value = found.get(name)
            out.append(math.inf if value is None or math.isnan(value) else float(value))
        return tuple(out)

    def _values(self, metrics: Mapping[str, float | None] | None) -> list[float]:
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

    def _tell(
        self, number: int, values: list[float] | None = None, state: OptunaState | None = None
    ) -> None:
        try:
            if _tell_without_copy is not None:
                _tell_without_copy(
                    study=self.study,
                    trial=number,
                    value_or_values=values,
                    state=state,
                    suppress_warning=True,
                )
            else:  # pragma: no cover
                self.study.tell(number, values=values, state=state)
        except RuntimeError as exc:  # BruteForceSampler calls study.stop() when exhausted
            if "Study.stop" not in str(exc):
                raise
            self.exhausted = True

    def _report(self, trial_id: int, step: int, metrics: dict[str, float | None]) -> None:
        """Store the intermediate value at ``step`` (single-objective studies)."""
        number = self._numbers.get(trial_id)
        if number is None or trial_id not in self._live or len(self.optim_metrics) != 1:
            return
        value = self._values(metrics)[0]
        if not math.isfinite(value):
            return
        internal_id = self.storage.get_trial_id_from_study_id_trial_number(self._study_id, number)
        # the storage keeps the latest value of a step (trial.report the first)
        self.storage.set_trial_intermediate_value(internal_id, step, value)
        self._steps[trial_id] = step + 1

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        number = self._numbers.get(trial_id)
        if number is None:  # resumed with a config outside the space: nothing to tell
            return
        if state == TrialState.WAITING:
            return
        live = self._live.get(trial_id)
        if state == TrialState.RUNNING:  # ablator's intermediate call: steps count up
            if metrics:
                self._report(trial_id, self._steps.get(trial_id, 0), metrics)
            return
        terminal = self._terminal_state(state)
        values = self._values(metrics) if terminal == OptunaState.COMPLETE else None
        if self.constraints:  # the trial's constraint values, as Optuna keeps them
            found = self._constraint_tuple(metrics)
            self.constraint_values[number] = found  # what constraints_func answers (< 5)
            if live is not None or self._is_open(number):
                internal_id = self.storage.get_trial_id_from_study_id_trial_number(
                    self._study_id, number
                )
                self.storage.set_trial_system_attr(internal_id, _CONSTRAINTS_KEY, found)
        if live is not None or self._is_open(number):
            self._tell(number, values=values, state=terminal)
            self._live.pop(trial_id, None)
            self._steps.pop(trial_id, None)
            return
        # finished again (e.g. a FAIL_RECOVERABLE trial re-ran): add a new finished trial
        old = self._frozen_trial(number)
        self._numbers[trial_id] = len(self.study.get_trials(deepcopy=False))
        system_attrs = None
        if self.constraints and terminal == OptunaState.COMPLETE:
            system_attrs = {_CONSTRAINTS_KEY: self._constraint_tuple(metrics)}
        self.study.add_trial(
            optuna.trial.create_trial(
                params=old.params, distributions=old.distributions, state=terminal,
                values=values, system_attrs=system_attrs,
            )
        )  # fmt: skip

    def _is_open(self, number: int) -> bool:
        return self._frozen_trial(number).state == OptunaState.RUNNING

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """Optuna's number, internal params and distributions (Optuna's own JSON)."""
        number = self._numbers.get(trial_id)
        if number is None:
            return None
        params = self._frozen_trial(number).params
        out: dict[str, Any] = {
            "number": number,
            "params": dict(params),
            "distributions": {name: self._dist_json[name] for name in params},
        }
        attrs = self._sampler_attrs()
        if attrs:
            out["study_attrs"] = attrs
        return out

    def _sampler_attrs(self) -> dict[str, Any]:
        """Small JSON state the Optuna sampler keeps in the study (QMC's sample counter)."""
        attrs = self.storage.get_study_system_attrs(self._study_id)
        return {k: v for k, v in attrs.items() if _is_qmc_counter(k) and isinstance(v, int)}


def constraints_reader(
    told: Mapping[int, tuple[float, ...]], count: int
) -> Callable[[optuna.trial.FrozenTrial], tuple[float, ...]]:
    """A ``constraints_func`` for an Optuna sampler: a trial's values from ``told``
    (Optuna trial number -> the ``count`` constraint values the study stored for it);
    a trial without values (one that was never told any) counts as violating all."""
    violated = (math.inf,) * count

    def constraints_func(trial: optuna.trial.FrozenTrial) -> tuple[float, ...]:
        return tuple(told.get(trial.number, violated))

    return constraints_func


def _is_qmc_counter(key: str) -> bool:
    """QMC's sample counter key: ``qmc:<hash>`` (Optuna >= 3.2) or ``"... last sample id"``."""
    return key.startswith("qmc:") or key.endswith("'s last sample id")


class IndependentDraws(OptunaSampler):
    """``optuna:random`` without an Optuna trial per proposal.

    Optuna's ``RandomSampler`` draws each parameter from its own generator and
    reads nothing of the study, so its ``sample_independent`` is called
    directly: the same draws in the same order as ``study.ask()`` and
    ``trial.suggest_*`` make (single-valued parameters draw nothing, as in
    Optuna), without creating, filling and telling an in-memory trial for each
    proposal. A random sampler learns nothing from results, so nothing is told
    back. Used when the study has no pruner (an Optuna pruner reads the
    in-memory study); the internal state keeps Optuna's params and
    distributions, so a study resumes on either path.
    """

    def __init__(self, search_space: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(search_space, **kwargs)
        self._params: dict[int, dict[str, Any]] = {}

    def _draw(self, name: str, dist: Any) -> Any:
        if dist.single():
            value = dist.to_external_repr(dist.to_internal_repr(_single_value(dist)))
        else:
            # RandomSampler reads neither the study nor the trial: no trial is made
            value = self.optuna_sampler.sample_independent(self.study, None, name, dist)  # type: ignore[arg-type]
            value = dist.to_external_repr(dist.to_internal_repr(value))
        if isinstance(dist, optuna.distributions.IntDistribution):
            return int(value)
        if isinstance(dist, optuna.distributions.FloatDistribution):
            return float(value)
        return value

    def _sample_params(self) -> tuple[dict[str, Any], dict[str, Any]]:
        params: dict[str, Any] = {}
        maps = self._maps

        def ask(param: Param) -> Any:
            mapping = maps[param.name]
            params[param.name] = value = self._draw(param.name, mapping.distribution)
            return mapping.to_config(value)

        _, config = self.tree.sample(ask)
        self._position += 1
        return params, config

    def _fast_forward(self, position: int) -> None:
        while self._position < position:
            self._sample_params()

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        trial_id = self.new_trial_id()
        self._fast_forward(trial_id)
        params, config = self._sample_params()
        self._params[trial_id] = params
        return trial_id, config

    def _drop(self) -> None:
        self._params.pop(self.locked_trial_id or -1, None)

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        stored = self._stored_params(trial)
        if stored is None:
            stored = {n: self._maps[n].to_optuna(v) for n, v in params.items()}
        self._params[trial.trial_id] = stored

    def _resume_done(self) -> None:
        """Nothing to add: the stream is fast-forwarded to each new trial's id."""

    def _report(self, trial_id: int, step: int, metrics: dict[str, float | None]) -> None:
        """A random draw does not depend on results: nothing to keep."""

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        """A random draw does not depend on results: nothing to keep."""

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """Optuna's internal params and distributions of the trial (Optuna's JSON)."""
        params = self._params.get(trial_id)
        if params is None:
            return None
        return {"params": dict(params),
                "distributions": {name: self._dist_json[name] for name in params}}  # fmt: skip


def _single_value(dist: Any) -> Any:
    if isinstance(dist, optuna.distributions.CategoricalDistribution):
        return dist.choices[0]
    return dist.low
