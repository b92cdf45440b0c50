"""``HposamplerSampler``: any installed hposampler sampler as an ``optuna.samplers.BaseSampler``.

Optuna asks a sampler twice per trial: once for the *relative* search space
(parameters it samples jointly) and then, for every ``trial.suggest_*`` call
outside it, for an *independent* value. This adapter works the way Optuna's own
wrappers of external optimisers do:

* the relative search space is the one given (``search_space=``), or else the
  intersection of the parameters of the study's finished trials (Optuna's
  ``IntersectionSearchSpace``), translated into an hposampler space;
* an hposampler backend (``make_sampler(name, ...)``) is built on that space from
  the study's trials and proposes every relative parameter; it learns the
  study's trials before each proposal (``sync_trials``), so trials run by other
  threads, processes or an earlier run of the same RDB study reach it too, and
  a resumed study continues instead of replaying;
* parameters outside the relative space (the first trial, conditional branches)
  are drawn by a seeded ``optuna.samplers.RandomSampler``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaState

from hposampler import (
    MetricsError,
    SearchSpaceError,
    Trial,
    TrialState,
    get_sampler_spec,
    make_sampler,
)
from hposampler.space.tree import CategoricalParam, ChoiceParam, IntParam, compile_space
from hposampler.space.values import LazyGrid
from hposampler.study.warmstart import numbered_history

__all__ = ["INTERNAL_KEY", "HposamplerSampler", "space_from_distributions"]

#: The system attribute holding a trial's backend internal state (backends that do
#: not resume from configs alone).
INTERNAL_KEY = "hposampler:internal"

_STATES = {
    OptunaState.COMPLETE: TrialState.COMPLETE,
    OptunaState.PRUNED: TrialState.PRUNED,
    OptunaState.FAIL: TrialState.FAIL,
    OptunaState.RUNNING: TrialState.RUNNING,
    OptunaState.WAITING: TrialState.WAITING,
}


def _intersection() -> Any:
    """Optuna's intersection search space (its module moved in Optuna 3.2)."""
    try:
        from optuna.search_space import IntersectionSearchSpace
    except ImportError:  # Optuna < 3.2
        from optuna.samplers import IntersectionSearchSpace  # type: ignore[attr-defined,no-redef]
    return IntersectionSearchSpace()


def space_from_distributions(
    distributions: Mapping[str, BaseDistribution], *, enumerate_ints: bool = False
) -> dict[str, Any]:
    """An hposampler search space (ablator-style dicts) with one parameter per distribution.

    ``step`` becomes ``n_bins`` (the same points: ``low + k * step``). With
    ``enumerate_ints`` (for an exhaustive backend such as ``grid``), an int range
    of step 1 gets ``n_bins`` too: every int in it, in order.

    Raises
    ------
    SearchSpaceError
        For a distribution hposampler has no parameter for, naming it.
    """
    space: dict[str, Any] = {}
    for name, dist in distributions.items():
        if isinstance(dist, FloatDistribution):
            entry: dict[str, Any] = {"value_range": [dist.low, dist.high], "value_type": "float"}
            if dist.log:
                entry["log"] = True
            if dist.step is not None:
                entry["n_bins"] = round((dist.high - dist.low) / dist.step) + 1
        elif isinstance(dist, IntDistribution):
            entry = {"value_range": [dist.low, dist.high], "value_type": "int"}
            if dist.log:
                entry["log"] = True
            if dist.step != 1:
                entry["n_bins"] = (dist.high - dist.low) // dist.step + 1
            elif enumerate_ints:  # every int: the grid lists each once, log or not
                entry.pop("log", None)
                entry["n_bins"] = dist.high - dist.low + 1
        elif isinstance(dist, CategoricalDistribution):
            entry = {"categorical_values": list(dist.choices)}
        else:
            raise SearchSpaceError(name, f"Optuna distribution {dist!r} has no hposampler form")
        space[name] = entry
    return space


def _distributions_of(space: Mapping[str, Any]) -> dict[str, BaseDistribution]:
    """Optuna distributions for a flat hposampler space, by parameter name (= config key).

    Raises
    ------
    SearchSpaceError
        For a space with ``subspaces`` (an Optuna objective names one distribution
        per parameter).
    """
    out: dict[str, BaseDistribution] = {}
    for name, param in compile_space(space).params.items():
        if isinstance(param, ChoiceParam):
            raise SearchSpaceError(
                name,
                "HposamplerSampler(search_space=...) takes a space without subspaces: an "
                "Optuna objective names one distribution per parameter; leave search_space "
                "out and conditional spaces are learned define-by-run",
            )
        if isinstance(param, CategoricalParam):
            out[name] = CategoricalDistribution(list(param.choices))
            continue
        grid = param.grid()
        if isinstance(grid, LazyGrid):  # too many points to list
            out[name] = _lazy_distribution(name, param, grid)
            continue
        if grid is not None and (param.log or len(grid) < 2):
            out[name] = CategoricalDistribution(list(grid))
        elif isinstance(param, IntParam):
            ints = param.grid()
            step = 1 if ints is None else (ints[-1] - ints[0]) // (len(ints) - 1)
            if ints is None or list(ints) == list(range(ints[0], ints[-1] + 1, step)):
                high = param.high if ints is None else ints[-1]
                out[name] = IntDistribution(param.low, high, log=param.log, step=step)
            else:  # rounded, unevenly spaced points: only a categorical keeps them
                out[name] = CategoricalDistribution(list(ints))
        elif grid is not None:
            step_f = (grid[-1] - grid[0]) / (len(grid) - 1)
            out[name] = FloatDistribution(grid[0], grid[-1], step=step_f)
        else:
            out[name] = FloatDistribution(param.low, param.high, log=param.log)
    return out


def _lazy_distribution(name: str, param: Any, grid: LazyGrid) -> BaseDistribution:
    """A stepped Optuna distribution with a large grid's points, never listing them.

    Raises
    ------
    SearchSpaceError
        For a log grid or an int grid that is not evenly stepped (Optuna has no
        distribution for those other than a categorical of every point).
    """
    if not param.log:
        if isinstance(param, IntParam):
            step, rest = divmod(param.high - param.low, len(grid) - 1)
            if rest == 0:
                return IntDistribution(param.low, param.high, step=step)
        else:
            return FloatDistribution(
                param.low, param.high, step=(param.high - param.low) / (len(grid) - 1)
            )
    raise SearchSpaceError(
        name,
        f"n_bins={param.n_bins} is too many points for an Optuna categorical and they are "
        "not evenly stepped; use fewer bins, or leave n_bins out",
    )


class HposamplerSampler(optuna.samplers.BaseSampler):
    """An hposampler sampler (bundled or a third-party plugin) driving an Optuna study.

    Parameters
    ----------
    name : str
        Any installed sampler name or alias (``"skopt:gp"``, ``"ngopt"``,
        ``"tpe"``, ...); ``hposampler list`` shows them.
    search_space : mapping, optional
        The parameters the backend proposes from the first trial: an
        hposampler/ablator-style flat space (``{"x": {"value_range": [0, 1]}}``)
        or ``{name: optuna distribution}``; the objective's ``trial.suggest_*``
        calls use the same names and ranges. Without it the space is learned
        from the study's finished trials.
    seed : int, optional
        Seeds the backend and the independent sampler: the same seed and study
        give the same sequence (``n_jobs=1``).
    warm_start : sequence of optuna.Study, optional
        Earlier Optuna studies (any storage) whose COMPLETE trials the backend
        learns before its first proposal, as hposampler's ``Study.create(...,
        warm_start=...)`` does: they are not this study's trials. Their
        directions must be this study's; a trial that lacks one of the
        parameters or lies outside the space is dropped (``warm_dropped``
        counts them). Two or more sources are put on one scale first
        (:func:`hposampler.study.warmstart.pool_scales`).
    **options
        The backend's options, validated as :func:`hposampler.make_sampler`
        validates them.

    Raises
    ------
    UnknownSamplerError
        For a name no installed plugin provides (with close matches).
    SamplerOptionsError
        For an unknown option or a value of the wrong type.
    """

    def __init__(
        self,
        name: str,
        *,
        search_space: Mapping[str, Any] | None = None,
        seed: int | None = None,
        warm_start: Sequence[optuna.Study] = (),
        **options: Any,
    ) -> None:
        self.name = name
        if isinstance(warm_start, optuna.Study) or not all(
            isinstance(w, optuna.Study) for w in warm_start
        ):
            raise ValueError(
                "warm_start must be a list of optuna.Study objects (earlier studies), got "
                f"{warm_start!r:.80}"
            )
        self._warm_sources = list(warm_start)
        #: Warm-start trials left out (a parameter missing, or outside the space).
        self.warm_dropped = 0
        self._spec = get_sampler_spec(name)
        self._options = self._spec.check_options(options)
        self._seed = seed
        self._independent = optuna.samplers.RandomSampler(seed=seed)
        self._fixed: dict[str, BaseDistribution] | None = None
        if search_space is not None and not isinstance(search_space, Mapping):
            raise SearchSpaceError(
                "search_space",
                f"expected a dict of parameter names to hposampler spaces or Optuna "
                f"distributions, got {type(search_space).__name__} {search_space!r:.80}",
            )
        if search_space is not None:
            if all(isinstance(d, BaseDistribution) for d in search_space.values()):
                self._fixed = dict(search_space)
            else:
                self._fixed = _distributions_of(search_space)
            if self._spec.exhaustive:
                for key, dist in self._fixed.items():
                    if _continuous(dist):
                        raise SearchSpaceError(
                            key,
                            f"sampler {self._spec.name!r} enumerates its space and cannot list "
                            "a continuous range; give it a step (suggest_float(..., step=...)) "
                            "or n_bins, or leave it out of search_space (it is then sampled "
                            "independently)",
                        )
        #: Optuna's own sampler, handed the study directly, for an ``optuna:*`` backend
        #: (not an exhaustive one) without ``search_space=`` or ``warm_start=``.
        self._native: optuna.samplers.BaseSampler | None = None
        if search_space is None and not self._warm_sources and not self._spec.exhaustive:
            from .plugin import native_sampler

            self._native = native_sampler(self._spec.name, self._options, seed)
        self._intersection = _intersection()
        self._lock = threading.Lock()
        self._backend: Any = None
        self._backend_key: tuple[str, dict[str, BaseDistribution]] | None = None
        self._optim: dict[str, str] = {}  # the backend's metrics, from the study's directions
        self._reset()

    def _reset(self) -> None:
        """Forget what the backend was told (a new backend is built)."""
        self._ids: dict[int, int] = {}  # Optuna trial number -> backend trial id
        self._told: dict[int, TrialState] = {}  # number -> state the backend knows
        self._next_id = 0  # the next backend id for a trial the backend did not propose
        self._scanned = 0  # study trials below this number were looked at ...
        self._open: set[int] = set()  # ... and these may still change

    # -- Optuna's sampler interface -------------------------------------------------

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Refuse a multi-objective study at its first trial when the backend optimises
        one metric (Optuna's samplers raise ``ValueError`` there too, and so do
        ``infer_relative_search_space``, ``sample_relative`` and ``sample_independent``
        when called on such a study directly).

        Raises
        ------
        MetricsError
            A ``ValueError``, naming the backend and the samplers that can.
        """
        self._refuse_several_objectives(study)
        if self._native is not None:
            self._native.before_trial(study, trial)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: OptunaState,
        values: Sequence[float] | None,
    ) -> None:
        """Let Optuna's own sampler (the fast path) see the finished trial."""
        if self._native is not None:
            self._native.after_trial(study, trial, state, values)

    def _refuse_several_objectives(self, study: optuna.Study) -> None:
        # the spec first: a multi-objective backend never reads the study's directions
        # (called for every parameter; an RDB study may query its storage for them)
        if self._spec.multi_objective is not True and len(study.directions) > 1:
            from hposampler import available_samplers

            able = sorted(s.name for s in available_samplers() if s.multi_objective)
            raise MetricsError(
                f"sampler {self._spec.name!r} optimises a single metric but the study has "
                f"{len(study.directions)} directions; use one direction or a multi-objective "
                f"sampler: {', '.join(able)}"
            )

    def reseed_rng(self) -> None:
        """Reseed the independent sampler (Optuna calls this for ``n_jobs`` > 1)."""
        self._independent.reseed_rng()
        if self._native is not None:
            self._native.reseed_rng()

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The given space, or the intersection of the finished trials' parameters."""
        self._refuse_several_objectives(study)
        if self._native is not None:
            return self._native.infer_relative_search_space(study, trial)
        if self._fixed is not None:
            return dict(self._fixed)
        space: dict[str, BaseDistribution] = {}
        for name, dist in self._intersection.calculate(study).items():
            if dist.single() or (self._spec.exhaustive and _continuous(dist)):
                continue  # an exhaustive backend lists no continuous range: independent
            space[name] = dist
        return space

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """The backend's proposal for every parameter of ``search_space``."""
        self._refuse_several_objectives(study)
        if self._native is not None:
            return self._native.sample_relative(study, trial, search_space)
        if not search_space:
            return {}
        with self._lock:
            backend = self._backend_for(study, search_space, trial.number)
            self._sync(study, search_space, trial.number)
            limit = self._spec.max_pending
            pending = sum(self._told.get(n, TrialState.COMPLETE).is_pending for n in self._open)
            if limit is not None and pending >= limit:
                return {}  # the backend takes no more pending trials: sampled independently
            try:
                trial_id, config, internal = backend.eager_sample()
            except StopIteration:  # an exhaustive backend is done: stop the study
                study.stop()
                return {}
            backend.unlock(drop=False)
            if internal is not None and not self._spec.resumes_from_configs:
                # kept with the trial, as the hposampler runner keeps it: a resumed or
                # shared study gives it back (a Sobol position, a model's point)
                study._storage.set_trial_system_attr(trial._trial_id, INTERNAL_KEY, internal)
            self._ids[trial.number] = trial_id
            self._told[trial.number] = TrialState.RUNNING
            self._open.add(trial.number)
            self._next_id = max(self._next_id, trial_id + 1)
        return {name: _snap(search_space[name], config[name]) for name in search_space}

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """A parameter outside the relative space: Optuna's seeded random sampler."""
        self._refuse_several_objectives(study)
        if self._native is not None:
            return self._native.sample_independent(study, trial, param_name, param_distribution)
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    # -- the backend --------------------------------------------------------------

    def _metrics(self, study: optuna.Study) -> dict[str, str]:
        directions = study.directions
        names = (
            ["value"] if len(directions) == 1 else [f"values_{i}" for i in range(len(directions))]
        )
        return {
            n: "min" if d == optuna.study.StudyDirection.MINIMIZE else "max"
            for n, d in zip(names, directions)
        }

    def _backend_for(
        self, study: optuna.Study, space: dict[str, BaseDistribution], current: int
    ) -> Any:
        key = (study.study_name, space)  # distributions compare by value
        if self._backend is not None and key == self._backend_key:
            return self._backend
        self._backend = None
        self._reset()
        self._optim = self._metrics(study)
        records = self._records(study, space, current)
        self._backend = make_sampler(
            self.name,
            space_from_distributions(space, enumerate_ints=self._spec.exhaustive),
            optim_metrics=self._optim,
            trials=[*self._warm(study, space), *records],
            seed=self._seed,
            **self._options,
        )
        self._backend_key = (key[0], dict(space))
        return self._backend

    def _warm(self, study: optuna.Study, space: dict[str, BaseDistribution]) -> list[Trial]:
        """The warm-start sources' COMPLETE trials in ``space``, with ids ``-n .. -1``."""
        per_source: list[list[tuple[dict[str, Any], list[dict[str, float | None]]]]] = []
        self.warm_dropped = 0
        for source in self._warm_sources:
            taken: list[tuple[dict[str, Any], list[dict[str, float | None]]]] = []
            per_source.append(taken)
            if list(source.directions) != list(study.directions):
                raise ValueError(
                    f"warm-start study {source.study_name!r} has directions "
                    f"{[d.name for d in source.directions]}, this study "
                    f"{[d.name for d in study.directions]}; warm-start from studies of the "
                    "same directions"
                )
            for frozen in source.get_trials(deepcopy=False, states=(OptunaState.COMPLETE,)):
                config = _config(frozen, space)
                if config is None:
                    self.warm_dropped += 1
                    continue
                taken.append((config, _history(frozen, TrialState.COMPLETE, self._optim)))
        return numbered_history(per_source)  # one scale, as Study.create(warm_start=...)

    def _sync(self, study: optuna.Study, space: dict[str, BaseDistribution], current: int) -> None:
        """Hand the backend every study trial it has not seen in its current state."""
        records = self._records(study, space, current)
        if records:
            self._backend.sync_trials(records)

    def _records(
        self, study: optuna.Study, space: dict[str, BaseDistribution], current: int
    ) -> list[Trial]:
        """Study trials (in the space, changed since last told) as hposampler trials.

        Only trials not looked at yet and those that may still change are read,
        so a sample costs what changed, not the length of the study.
        """
        metrics = self._optim
        trials = study.get_trials(deepcopy=False)
        numbers = sorted(self._open) + list(range(self._scanned, len(trials)))
        self._scanned = len(trials)
        out = []
        for number in numbers:
            frozen = trials[number]
            state = _STATES.get(frozen.state)
            if number == current or state is None:
                self._open.add(number)
                continue
            if self._told.get(number) == state or (config := _config(frozen, space)) is None:
                if not state.is_pending:  # finished: told already, or never in the space
                    self._open.discard(number)
                else:
                    self._open.add(number)
                continue
            trial_id = self._ids.get(number)
            if trial_id is None:
                trial_id = self._ids[number] = self._next_id
                self._next_id += 1
            internal = frozen.system_attrs.get(INTERNAL_KEY)
            out.append(Trial(trial_id, config, state, _history(frozen, state, metrics),
                             internal if isinstance(internal, dict) else None))  # fmt: skip
            self._told[number] = state
            if state.is_pending:
                self._open.add(number)
            else:
                self._open.discard(number)
        return out


def _continuous(dist: BaseDistribution) -> bool:
    """A float range without a step: no finite list of values."""
    return isinstance(dist, FloatDistribution) and dist.step is None


def _config(frozen: FrozenTrial, space: Mapping[str, BaseDistribution]) -> dict[str, Any] | None:
    """The trial's values of the space's parameters, or ``None`` if it lacks one."""
    config = {}
    for name, dist in space.items():
        if name not in frozen.params:
            return None
        value = frozen.params[name]
        if not dist._contains(dist.to_internal_repr(value)):
            return None
        config[name] = value
    return config


def _history(
    frozen: FrozenTrial, state: TrialState, metrics: Mapping[str, str]
) -> list[dict[str, float | None]]:
    names = list(metrics)
    if state == TrialState.COMPLETE and frozen.values is not None:
        return [dict(zip(names, map(float, frozen.values)))]
    if len(names) == 1 and frozen.intermediate_values:
        return [
            {names[0]: v if math.isfinite(v) else None}
            for _, v in sorted(frozen.intermediate_values.items())
        ]
    return []


def _snap(dist: BaseDistribution, value: Any) -> Any:
    """A backend's value as Optuna stores it (a stepped float on its exact step)."""
    if isinstance(dist, FloatDistribution) and dist.step is not None:
        k = round((value - dist.low) / dist.step)
        return min(max(dist.low + k * dist.step, dist.low), dist.high)
    return value
