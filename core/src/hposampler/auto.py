"""``auto``: one sampler name that picks a backend among every installed family.

:class:`AutoSampler` looks at what it is given -- the space (continuous, ordered,
categorical, conditional, its size), the budget, the number of objectives, the
constraints, the concurrency -- and at which samplers are installed, and hands
every call to the backend its rules choose (:func:`choose`). The rules come
from the leaderboard's measurements (``docs/leaderboard.md``, "Choosing a
sampler" in ``docs/samplers.md``):

=========================================  ==================================
the study                                  backend (first installed one)
=========================================  ==================================
two or more objectives, or constraints     ``optuna:tpe``
conditional (``subspaces``)                ``optuna:tpe``, ``hyperopt:tpe``
a warm start (earlier studies' trials)     ``optuna:tpe``, ``hyperopt:tpe``
finite and no larger than the budget       ``grid``: every point once
only continuous ranges (floats, ints)      ``nevergrad:ngopt``, ``optuna:cmaes``
only ordered values (``values``, grids)    ``optuna:cmaes``, ``optuna:tpe``
anything with categorical values           ``optuna:gp`` (budget <= 200, with
                                           torch), ``optuna:tpe``,
                                           ``hyperopt:tpe``
=========================================  ==================================

``optuna:cmaes`` needs at least two dimensions and a budget of 30; the last
resort is ``random`` (the core's ``hposampler:random``). Options: ``exclude``
(families or names never to use, e.g. ``["nevergrad"]``) and
``max_ms_per_trial`` (leave out backends whose measured sampler time per trial
is above it).

Every trial records the backend that proposed it and why (its internal state
holds ``{"auto": {"backend": ..., "why": ...}, "state": <the backend's own>}``),
so a study resumes with the same backend and ``hposampler show`` explains the
choice. The choice is a pure function of its inputs: the same study always
gets the same backend, on resume and on every worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from hposampler.errors import SamplerOptionsError
from hposampler.plugins.hookspecs import hookimpl
from hposampler.plugins.specs import OptionSpec, SamplerSpec
from hposampler.samplers.base import BaseSampler
from hposampler.samplers.trial import Trial, TrialState
from hposampler.space.tree import CategoricalParam, ChoiceParam, FloatParam, IntParam

__all__ = ["AUTO_KEY", "AutoSampler", "Choice", "choose", "explain"]

#: The key of a trial's internal state that holds which backend proposed it.
AUTO_KEY = "auto"

#: Sampler milliseconds per trial measured on the leaderboard (100 trials, 2 cores).
MEASURED_MS: dict[str, float] = {
    "grid:shuffled": 0.3, "hposampler:random": 0.5, "optuna:random": 0.7, "optuna:qmc": 0.8,
    "optuna:cmaes": 1.2, "optuna:tpe": 3.0, "hyperopt:tpe": 6.4, "nevergrad:ngopt": 6.8,
    "optuna:gp": 892.0,
}  # fmt: skip


#: The largest budget for which ``auto`` picks ``optuna:gp`` on a space with categorical
#: values: a Gaussian process refits on every trial, at a cost that grows with the
#: trials (about 1.5 s a trial at 100 on the leaderboard's tabular tasks, 2 cores).
GP_BUDGET = 200


@attrs.frozen
class Choice:
    """The backend ``auto`` uses, and why."""

    backend: str
    why: str


def _installed(name: str) -> bool:
    from hposampler.errors import HposamplerError
    from hposampler.selection import check_requirements, get_sampler_spec

    try:
        check_requirements(get_sampler_spec(name))
    except HposamplerError:  # not registered, or a module it needs is missing
        return False
    return True


def _usable(name: str, exclude: Sequence[str], max_ms: float | None) -> bool:
    family = name.partition(":")[0]
    if name in exclude or family in exclude:
        return False
    if max_ms is not None and MEASURED_MS.get(name, 0.0) > max_ms:
        return False
    return _installed(name)


def _describe(tree: Any) -> dict[str, int]:
    kinds = {"continuous": 0, "ordered": 0, "categorical": 0, "branches": 0}
    for param in tree.params.values():
        if isinstance(param, ChoiceParam):
            kinds["branches"] += 1
        elif isinstance(param, CategoricalParam):
            kinds["categorical"] += len(param.choices) > 1
        elif isinstance(param, (FloatParam, IntParam)):
            grid = param.grid()
            if grid is None:
                kinds["continuous"] += param.low != param.high
            else:
                kinds["ordered"] += len(grid) > 1
    return kinds


def choose(
    tree: Any,
    n_objectives: int = 1,
    *,
    budget: int | None = None,
    constraints: Sequence[str] = (),
    concurrency: int | None = None,
    exclude: Sequence[str] = (),
    max_ms_per_trial: float | None = None,
    warm: int = 0,
) -> Choice:
    """The backend for a compiled space and a study's settings (see the module doc);
    ``warm`` is the number of warm-start trials the study has."""
    kinds = _describe(tree)
    dims = kinds["continuous"] + kinds["ordered"] + kinds["categorical"]
    points = tree.grid_size() if tree.is_finite else 0
    budget_text = f"budget {budget}" if budget else "no budget given"

    def first(names: Sequence[str], why: str) -> Choice | None:
        for name in names:
            if _usable(name, exclude, max_ms_per_trial):
                return Choice(name, why)
        return None

    rules: list[tuple[bool, Sequence[str], str]] = [
        (n_objectives > 1, ["optuna:tpe"], f"{n_objectives} objectives"),
        (bool(constraints), ["optuna:tpe"], f"constraints {', '.join(constraints)}"),
        (kinds["branches"] > 0, ["optuna:tpe", "hyperopt:tpe"], "a conditional space"),
        (warm > 0, ["optuna:tpe", "hyperopt:tpe"], f"warm start: {warm} earlier trials"),
        (
            budget is not None and 0 < points <= budget,
            ["grid:shuffled"],
            f"{points} points, {budget_text}",
        ),
        (
            kinds["continuous"] > 0 and kinds["ordered"] + kinds["categorical"] == 0,
            ["nevergrad:ngopt"] + (["optuna:cmaes"] if dims >= 2 and (budget or 0) >= 30 else []),
            f"{kinds['continuous']} continuous parameters, {budget_text}",
        ),
        (
            kinds["ordered"] > 0 and kinds["categorical"] == 0,
            (["optuna:cmaes"] if dims >= 2 and (budget or 0) >= 30 else []) + ["optuna:tpe"],
            f"{kinds['ordered']} ordered and {kinds['continuous']} continuous parameters, "
            f"{budget_text}",
        ),
        (True, (["optuna:gp"] if kinds["categorical"] and budget and budget <= GP_BUDGET
                else []) + ["optuna:tpe", "hyperopt:tpe"],
         f"{kinds['categorical']} categorical of {dims} parameters, {budget_text}"),
    ]  # fmt: skip
    for applies, names, why in rules:
        if applies:
            found = first(names, why)
            if found is not None:
                return found
    fallback = first(
        ["hposampler:random", "optuna:random", "nevergrad:random", "hyperopt:random"],
        "nothing better",
    )
    if fallback is None:
        raise SamplerOptionsError(
            "auto found no usable backend: exclude fewer families or raise "
            f"max_ms_per_trial (exclude={list(exclude)}, max_ms_per_trial={max_ms_per_trial})"
        )
    return fallback


class AutoSampler(BaseSampler):
    """Picks a backend with :func:`choose` and hands it every call.

    Parameters
    ----------
    search_space, optim_metrics, trials, seed, budget, concurrency, constraints
        As for every sampler (what the study tells factories).
    exclude : list of str
        Families (``"nevergrad"``) or sampler names never to use.
    max_ms_per_trial : float, optional
        Leave out backends whose measured sampler time per trial is above this.
    startup : str, optional
        A sampler for the first ``startup_trials`` trials (e.g. ``"optuna:qmc"``
        for an even start), after which ``auto`` switches to its chosen backend;
        that backend then learns every trial so far, as on resume.
    startup_trials : int
        How many trials the start-up sampler proposes.
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        budget: int | None = None,
        concurrency: int | None = None,
        constraints: Iterable[str] = (),
        exclude: Sequence[str] = (),
        max_ms_per_trial: float | None = None,
        startup: str | None = None,
        startup_trials: int = 10,
    ) -> None:
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed,
                         constraints=constraints)  # fmt: skip
        self.exclude = list(exclude)
        self.max_ms_per_trial = max_ms_per_trial
        chosen = choose(
            self.tree, len(self.optim_metrics), budget=budget, constraints=self.constraints,
            concurrency=concurrency, exclude=self.exclude, max_ms_per_trial=max_ms_per_trial,
            warm=sum(1 for t in self.trials if t.trial_id < 0),
        )  # fmt: skip
        #: ``(first trial, Choice)`` per stage: a start-up backend, then the chosen one.
        self.plan: list[tuple[int, Choice]] = [(0, chosen)]
        if startup is not None:
            from hposampler.selection import get_sampler_spec

            get_sampler_spec(startup)  # an unknown name fails now, with close matches
            first = Choice(startup, f"start-up, {startup_trials} trials")
            self.plan = [(0, first), (startup_trials, chosen)]
        self._space, self._budget, self._concurrency = search_space, budget, concurrency
        self._history: dict[int, Trial] = {t.trial_id: t for t in self.trials}
        self._new: list[Trial] = []
        self.choice = self._stage()
        self.backend = self._make(self.choice)

    def _stage(self) -> Choice:
        """The stage of the study as it stands: by how many trials of its own it has."""
        own = sum(1 for trial_id in self._history if trial_id >= 0)
        return [choice for start, choice in self.plan if start <= own][-1]

    def _make(self, choice: Choice) -> BaseSampler:
        from hposampler.selection import make_sampler

        history = [self._unwrap(t, choice.backend) for _, t in sorted(self._history.items())]
        return make_sampler(
            choice.backend, self._space, optim_metrics=self.optim_metrics, trials=history,
            seed=self.seed, budget=self._budget, concurrency=self._concurrency,
            constraints=self.constraints or None,
        )  # fmt: skip

    @staticmethod
    def _unwrap(trial: Trial, backend: str) -> Trial:
        """The trial as ``backend`` stored it (its own state, if it proposed it)."""
        internal = trial.internal or {}
        mine = internal.get(AUTO_KEY, {}).get("backend") == backend
        return trial.evolve(internal=internal.get("state") if mine else None)

    def _accept(self) -> None:
        # the backend's trial stays locked until ours is accepted or dropped
        if self.backend.locked_trial_id is not None and self.locked_trial_id is None:
            self.backend.unlock(drop=False)

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        self._accept()
        stage = self._stage()
        if stage != self.choice:  # switch: the next backend learns every trial so far
            self.choice, self.backend = stage, self._make(stage)
        trial_id, config, internal = self.backend.eager_sample()
        self._history[trial_id] = Trial(trial_id, config, TrialState.RUNNING,
                                        internal=self._wrap(internal))  # fmt: skip
        return trial_id, config

    def _drop(self) -> None:
        self._history.pop(self.backend.locked_trial_id or -1, None)
        self.backend.unlock(drop=True)

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        self._accept()
        known = self._history.get(trial_id)
        if known is not None:
            history = [*known.metrics, metrics] if metrics is not None else known.metrics
            self._history[trial_id] = known.evolve(state=state, metrics=history)
        if trial_id in self.backend.trial_states:
            self.backend.update_trial(trial_id, metrics, state)

    def _report(self, trial_id: int, step: int, metrics: dict[str, float | None]) -> None:
        self._accept()
        self.backend.report(trial_id, step, metrics)

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        self._history[trial.trial_id] = trial
        self._new.append(self._unwrap(trial, self.choice.backend))

    def _resume_done(self) -> None:
        new, self._new = self._new, []
        if new:  # trials of other workers (the first batch is the backend's already)
            self._accept()
            self.backend.sync_trials(new)

    def _wrap(self, state: Any) -> dict[str, Any]:
        return {AUTO_KEY: {"backend": self.choice.backend, "why": self.choice.why}, "state": state}

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """``{"auto": {"backend", "why"}, "state": the backend's internal state}``, as
        recorded when the trial was sampled (or resumed)."""
        known = self._history.get(trial_id)
        if known is not None and known.internal is not None and AUTO_KEY in known.internal:
            return known.internal
        return self._wrap(self.backend.internal_repr(trial_id))


def explain(internals: Iterable[tuple[int, Any]]) -> list[str]:
    """Lines like ``"trials 0-59: nevergrad:ngopt (5 continuous parameters, budget 100)"``
    from ``(trial_id, internal state)`` pairs; empty when no trial came from ``auto``."""
    spans: list[list[Any]] = []
    for trial_id, internal in sorted(internals, key=lambda pair: pair[0]):
        info = (internal or {}).get(AUTO_KEY) if isinstance(internal, dict) else None
        if not isinstance(info, dict):
            continue
        key = (info.get("backend"), info.get("why"))
        if spans and spans[-1][2] == key:
            spans[-1][1] = trial_id
        else:
            spans.append([trial_id, trial_id, key])
    out = []
    for start, end, (backend, why) in spans:
        ids = f"trial {start}" if start == end else f"trials {start}-{end}"
        out.append(f"{ids}: {backend} ({why})")
    return out


def _check_exclude(value: Any) -> str | None:
    if not all(isinstance(item, str) and item for item in value):
        return "must be a list of family or sampler names, e.g. ['nevergrad', 'skopt:gp']"
    return None


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register ``hposampler:auto`` (alias ``auto``)."""
    register(
        SamplerSpec(
            "hposampler:auto",
            AutoSampler,
            aliases=("auto",),
            description="picks the backend for the study's space, budget and objectives "
            "among the installed samplers (rules from the leaderboard)",
            multi_objective=True,
            conditional=True,
            concurrent=True,
            deterministic=True,
            needs_metrics=True,
            constraints=True,
            options=(
                OptionSpec(
                    "exclude",
                    [],
                    (list, tuple),
                    "families or sampler names never to use, e.g. ['nevergrad']",
                    validator=_check_exclude,
                ),
                OptionSpec(
                    "max_ms_per_trial",
                    None,
                    (float,),
                    "leave out backends whose measured sampler time per trial is above this",
                    low=0,
                ),
                OptionSpec(
                    "startup",
                    None,
                    (str,),
                    "a sampler for the first startup_trials trials (e.g. 'optuna:qmc'); "
                    "then auto switches to its choice",
                ),
                OptionSpec("startup_trials", 10, (int,), "trials of the start-up sampler", low=1),
            ),
        )
    )
