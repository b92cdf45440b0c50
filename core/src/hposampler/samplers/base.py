"""The sampler contract: ablator's ``BaseSampler``, with its rules enforced.

A sampler hands out trials one at a time. :meth:`BaseSampler.eager_sample`
returns ``(trial_id, config, internal_repr)`` and *locks* the sampler until the
caller has checked the config and called :meth:`BaseSampler.unlock`
(``drop=True`` forgets the trial and its id is handed out again). Results come
back through :meth:`BaseSampler.update_trial`.

A backend implements :meth:`~BaseSampler._eager_sample` and
:meth:`~BaseSampler.internal_repr`; :meth:`~BaseSampler._drop`,
:meth:`~BaseSampler._update_trial`, :meth:`~BaseSampler._report`,
:meth:`~BaseSampler._resume_trial` and :meth:`~BaseSampler._resume_done` have
defaults (``_report`` hands an intermediate result to ``_update_trial``; the
others do nothing). Everything users can get
wrong (lock order, unknown trial ids, metric names, ``None`` metrics) is checked
here, once, for all backends, and so is resuming: after the backend's
``__init__`` the base class encodes every earlier trial through the compiled
tree and hands it to :meth:`~BaseSampler._resume_trial`.

This module imports no plugin registry: lifecycle hooks reach a sampler through
:meth:`BaseSampler.attach_hooks`, which :func:`~hposampler.make_sampler` calls.
"""

from __future__ import annotations

import abc
import functools
import hashlib
import inspect
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, final

from hposampler.errors import (
    MetricsError,
    SamplerLockedError,
    SamplerOptionsError,
    SearchSpaceError,
    UnknownTrialError,
)
from hposampler.samplers.tables import StateTable
from hposampler.samplers.trial import Trial, TrialState, metric_value
from hposampler.space.tree import SpaceTree, compile_space

__all__ = ["BaseSampler", "Direction", "check_seed", "normalize_optim_metrics"]

logger = logging.getLogger("hposampler.sampler")

#: Optimisation direction of a metric.
Direction = Literal["min", "max"]


def normalize_optim_metrics(
    optim_metrics: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
) -> dict[str, Direction]:
    """Validate ``{metric: "min" | "max"}`` (order kept) and return a plain dict.

    Accepts a mapping or ``(name, direction)`` pairs; directions may be strings in
    any case or enum members whose ``value`` is ``"min"``/``"max"`` (ablator's
    ``Optim``). ``None`` means no metrics.

    Raises
    ------
    MetricsError
        Naming the metric with a bad direction.
    """
    if optim_metrics is None:
        return {}
    items = optim_metrics.items() if isinstance(optim_metrics, Mapping) else optim_metrics
    out: dict[str, Direction] = {}
    try:
        pairs = list(items)
    except TypeError:
        raise MetricsError(
            f"optim_metrics must map metric names to 'min' or 'max', got {optim_metrics!r}"
        ) from None
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise MetricsError(f"optim_metrics entries must be (name, direction), got {pair!r}")
        name, direction = pair
        if not isinstance(name, str) or not name:
            raise MetricsError(f"metric names must be non-empty strings, got {name!r}")
        raw = getattr(direction, "value", direction)
        text = raw.lower() if isinstance(raw, str) else raw
        if text not in ("min", "max"):
            raise MetricsError(
                f"metric {name!r}: direction must be 'min' or 'max', got {direction!r}"
            )
        if name in out:
            raise MetricsError(f"metric {name!r} is given twice in optim_metrics")
        out[name] = "min" if text == "min" else "max"
    return out


def check_constraints(names: Any, optim_metrics: Mapping[str, str]) -> tuple[str, ...]:
    """A study's constraint names: distinct text, none of them an optimised metric.

    Raises
    ------
    MetricsError
        Naming the offending entry.
    """
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise MetricsError(
            f'constraints must be a list of result keys, e.g. ["c1", "c2"], got {names!r}'
        )
    out = tuple(names)
    for name in out:
        if not isinstance(name, str) or not name:
            raise MetricsError(f"a constraint name must be non-empty text, got {name!r}")
        if name in optim_metrics:
            raise MetricsError(
                f"constraint {name!r} is also an optimised metric; a constraint is another "
                "value the objective returns (feasible when <= 0)"
            )
    if len(set(out)) != len(out):
        raise MetricsError(f"constraints {list(out)} name a value twice")
    return out


def check_seed(seed: Any) -> int | None:
    """Return ``seed`` if it is an int or ``None``; the one seed check of hposampler.

    Raises
    ------
    SamplerOptionsError
        (a ``TypeError``) for anything else, ``bool`` and numeric strings included.
    """
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise SamplerOptionsError(f"seed must be an integer or null, got {seed!r}")
    return seed


def worst_value(direction: Direction) -> float:
    """The worst possible value of a metric with this direction (``+inf`` for min)."""
    return math.inf if direction == "min" else -math.inf


class _SamplerMeta(abc.ABCMeta):
    """Runs the shared resume loop once the backend's ``__init__`` has finished."""

    @property
    def __signature__(cls) -> inspect.Signature:
        # what inspect (and the docs) show for the class: its __init__, not __call__ below
        signature = inspect.signature(cls.__init__)  # type: ignore[misc]
        return signature.replace(parameters=list(signature.parameters.values())[1:])

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        sampler = super().__call__(*args, **kwargs)
        if isinstance(sampler, BaseSampler) and not sampler._resumed:
            sampler._resume_all()
        return sampler


class BaseSampler(metaclass=_SamplerMeta):
    """Base class of every sampler: ablator's contract, with its rules enforced.

    Parameters
    ----------
    search_space : mapping
        ``{path: SearchSpace | ablator-style dict | nested dict | constant}``;
        parsed and compiled into :attr:`tree`.
    optim_metrics : mapping, optional
        Ordered ``{metric: "min" | "max"}``; several metrics = multi-objective.
    trials : iterable of Trial or dict, optional
        Earlier trials to resume from; new ids continue after the largest one.
    seed : int, optional
        Seed for the backend's randomness; the same seed gives the same sequence.

    Attributes
    ----------
    tree : SpaceTree
        The compiled search space, shared by all backends.
    optim_metrics : dict
        The normalised metrics and directions.
    trials : list of Trial
        The trials the sampler was resumed from.
    seed : int or None
        The seed.
    constraints : tuple of str
        The study's constraint names (``()`` without constraints): each is a value
        the objective returns, feasible when ``<= 0``. Only backends whose spec
        declares ``constraints=True`` get any; their metrics then carry the values.
    """

    def __init__(
        self,
        search_space: Mapping[str, Any] | SpaceTree,
        *,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
        constraints: Iterable[str] = (),
    ) -> None:
        self.tree: SpaceTree = compile_space(search_space)
        self.search_space = self.tree.search_space
        self.optim_metrics = normalize_optim_metrics(optim_metrics)
        self.constraints: tuple[str, ...] = check_constraints(constraints, self.optim_metrics)
        self.trials: list[Trial] = [Trial.from_dict(t) for t in (trials or [])]
        self.seed = check_seed(seed)
        self._states = StateTable()  # one byte per trial
        for trial in self.trials:
            if trial.trial_id in self._states:
                raise MetricsError(
                    f"trial {trial.trial_id} appears twice in the trials to resume from"
                )
            self._states[trial.trial_id] = trial.state
        self._next_id = max(self._states, default=-1) + 1
        self._locked_id: int | None = None
        self._hook: Any = None  # lifecycle hooks, see attach_hooks()
        self._resumed = False
        self._in_update = False
        #: The step of the intermediate report being delivered (see :meth:`report`).
        self.reporting_step: int | None = None
        self._has_sampled = False  # set once this sampler has sampled (see resume_seed)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        override = cls.__dict__.get("update_trial")
        if override is not None and not getattr(override, "_hposampler_checked", False):
            cls.update_trial = _checked_update(override)  # type: ignore[method-assign]

    def attach_hooks(self, hook: Any) -> None:
        """Fire lifecycle hooks (``trial_sampled`` ...) through ``hook``, a pluggy relay.

        :func:`~hposampler.make_sampler` attaches the hooks of the plugin registry
        it built the sampler from; a sampler constructed directly fires none.
        """
        self._hook = hook

    def _resume_all(self) -> None:
        """Hand every earlier trial, encoded through the tree, to the backend (once)."""
        self._resumed = True
        self._take(sorted(self.trials, key=lambda t: t.trial_id))

    def _take(self, trials: list[Trial]) -> None:
        # a backend that learns nothing from earlier trials (no _resume_trial of its
        # own) is not handed their encoded configs: encoding them is then wasted work
        learns = type(self)._resume_trial is not BaseSampler._resume_trial
        for trial in trials:
            if trial.metrics:
                self.check_metrics(trial.final_metrics)  # names must match optim_metrics
            if not learns:
                continue
            try:
                params = self.tree.encode(trial.config)
            except SearchSpaceError as exc:
                logger.warning(
                    "%s: trial %s: config is not in the search space (%s); ignored for resume",
                    type(self).__name__,
                    trial.trial_id,
                    exc,
                )
                continue
            self._resume_trial(trial, params)
        self._resume_done()

    def sync_trials(self, trials: Iterable[Trial | Mapping[str, Any]]) -> None:
        """Learn trials that others (workers sharing the study) created or changed.

        Trials with ids this sampler does not know go through the same hooks as
        resumed ones (:meth:`_resume_trial`, then :meth:`_resume_done`); a known
        trial whose state changed reaches :meth:`_update_trial` with its final
        metrics. Trials whose state is unchanged are ignored, so passing every
        stored trial is safe. Lifecycle hooks do not fire: these are not this
        sampler's own calls.

        Raises
        ------
        SamplerLockedError
            While a trial is locked (sync between samples, not during one).
        """
        if self._locked_id is not None:
            raise SamplerLockedError(
                f"trial {self._locked_id} is locked: sync_trials() goes between samples"
            )
        new: list[Trial] = []
        for trial in sorted((Trial.from_dict(t) for t in trials), key=lambda t: t.trial_id):
            if trial.trial_id not in self._states:
                new.append(trial)
                continue
            if self._states[trial.trial_id] == trial.state:
                continue
            metrics = self.check_metrics(trial.final_metrics) if trial.metrics else None
            self._deliver(trial.trial_id, metrics, trial.state)
            self._states[trial.trial_id] = trial.state
        for trial in new:
            self._states[trial.trial_id] = trial.state
            self._next_id = max(self._next_id, trial.trial_id + 1)
        if new:
            self._take(new)

    def _deliver(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        """Hand checked metrics to the backend: its ``update_trial`` override, if it has
        one (ablator's style), else :meth:`_update_trial`; no lifecycle hooks."""
        override = getattr(type(self).update_trial, "__wrapped__", None)
        if override is None:
            self._update_trial(trial_id, metrics, state)
            return
        self._in_update = True
        try:
            override(self, trial_id, metrics, state)
        finally:
            self._in_update = False

    def derived_seed(self, *keys: object) -> int | None:
        """A seed for a backend's random stream from :attr:`seed` and ``keys``.

        Backends whose stream cannot continue exactly after a resume reseed with
        e.g. ``derived_seed("resume", n_trials)``, so a resumed sampler continues
        with fresh draws instead of replaying the ones it already proposed.
        ``None`` when the sampler is unseeded.
        """
        if self.seed is None:
            return None
        text = ":".join(map(str, (self.seed, *keys))).encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "big")

    def resume_seed(self, known: int) -> int | None:
        """The seed to restart a backend's random stream at after learning ``known`` trials.

        A resumed sampler gets the same seed for the same history (a resumed
        sequential run is reproducible); once this sampler has sampled, trials it
        learns come from other workers sharing the study, and the seed is keyed by
        this worker too, so two workers never draw the same stream. ``None`` when
        the sampler is unseeded.
        """
        keys: tuple[object, ...] = ("resume", known)
        if self._has_sampled:
            keys += (os.getpid(), id(self))
        return self.derived_seed(*keys)

    # -- the public contract (final) ------------------------------------------

    @final
    def eager_sample(self) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
        """Sample a trial and lock the sampler until :meth:`unlock`.

        Returns
        -------
        trial_id : int
            Dense id (a dropped id is handed out again).
        config : dict
            The sampled configuration.
        internal : dict or None
            :meth:`internal_repr` of the trial.

        Raises
        ------
        SamplerLockedError
            If the previous sample was not unlocked.
        StopIteration
            When the sampler has nothing more to sample.
        """
        if self._locked_id is not None:
            raise SamplerLockedError(
                f"trial {self._locked_id} is still locked: call unlock(drop=...) after "
                "eager_sample() before sampling again"
            )
        trial_id, config = self._eager_sample()
        self._has_sampled = True
        self._locked_id = trial_id
        self._states[trial_id] = TrialState.RUNNING
        self._next_id = max(self._next_id, trial_id + 1)
        _fire(self._hook, "trial_sampled", sampler=self, trial_id=trial_id, config=config)
        return trial_id, config, self.internal_repr(trial_id)

    @final
    def unlock(self, drop: bool) -> None:
        """Accept the locked trial, or forget it with ``drop=True``.

        ``unlock(drop=False)`` while unlocked does nothing (ablator's behaviour).

        Raises
        ------
        SamplerLockedError
            On ``drop=True`` with no locked trial.
        """
        trial_id = self._locked_id
        if trial_id is None:
            if drop:
                raise SamplerLockedError(
                    "nothing to drop: call eager_sample() before unlock(drop=True)"
                )
            return
        if drop:
            self._drop()
            del self._states[trial_id]
            if trial_id == self._next_id - 1:
                self._next_id = trial_id
        self._locked_id = None
        _fire(self._hook, "trial_unlocked", sampler=self, trial_id=trial_id, dropped=bool(drop))

    def update_trial(
        self,
        trial_id: int,
        metrics: Mapping[str, float | None] | None,
        state: TrialState | int,
    ) -> None:
        """Report metrics and/or a new state for a trial.

        A subclass may override this method itself (ablator's style) instead of
        implementing :meth:`_update_trial`: the override is wrapped when the class
        is created, so it receives the validated call and the hooks still fire.

        Parameters
        ----------
        trial_id : int
            An id returned by :meth:`eager_sample` (or of a resumed trial).
        metrics : dict or None
            ``{metric: value}`` with exactly the names of ``optim_metrics``;
            ``None``/``NaN`` values mean the worst value for that metric's direction.
        state : TrialState
            The trial's new state.

        Raises
        ------
        UnknownTrialError
            If the sampler never issued ``trial_id`` (or it was dropped).
        MetricsError
            If metric names differ from ``optim_metrics`` or values are not numbers.
        """
        if self._in_update:  # an ablator-style override calling super(): already checked
            self._backend_update(trial_id, metrics, TrialState(state))  # type: ignore[arg-type]
            return
        checked_state, checked = self._check_update(trial_id, metrics, state)
        self._backend_update(trial_id, checked, checked_state)
        self._record_update(trial_id, checked, checked_state)

    def _backend_update(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        """An intermediate result with its step goes to :meth:`_report`, the rest to
        :meth:`_update_trial`."""
        step = self.reporting_step
        if step is not None and state == TrialState.RUNNING and metrics is not None:
            self._report(trial_id, step, metrics)
        else:
            self._update_trial(trial_id, metrics, state)

    update_trial._hposampler_checked = True  # type: ignore[attr-defined]

    def report(self, trial_id: int, step: int, metrics: Mapping[str, float | None]) -> None:
        """Learn an intermediate result of a running trial (``trial.report`` in an objective).

        This is ablator's intermediate call, ``update_trial(trial_id, metrics,
        RUNNING)``, with the step known: it is validated like any update, and the
        backend receives it through :meth:`_report` (an ablator-style
        ``update_trial`` override receives the update itself, and may read
        :attr:`reporting_step`).
        """
        self.reporting_step = step
        try:
            self.update_trial(trial_id, metrics, TrialState.RUNNING)
        finally:
            self.reporting_step = None

    def _check_update(
        self, trial_id: int, metrics: Mapping[str, float | None] | None, state: TrialState | int
    ) -> tuple[TrialState, dict[str, float | None] | None]:
        try:
            checked_state = TrialState(state)
        except (ValueError, TypeError):
            raise MetricsError(
                f"state {state!r} is not a TrialState; use one of "
                + ", ".join(s.name for s in TrialState)
            ) from None
        if trial_id not in self._states:
            raise UnknownTrialError(
                f"trial {trial_id!r} is unknown to this sampler (issued ids: "
                f"{_id_summary(self._states)}); update only trials returned by eager_sample()"
            )
        return checked_state, self.check_metrics(metrics)

    def _record_update(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        self._states[trial_id] = state
        _fire(
            self._hook,
            "trial_updated",
            sampler=self,
            trial_id=trial_id,
            metrics=metrics,
            state=state,
        )

    # -- what backends implement --------------------------------------------------

    @abc.abstractmethod
    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        """Sample the next trial; return ``(trial_id, config)``.

        Use :meth:`new_trial_id` for the id. Raise ``StopIteration`` when done.
        """

    def _drop(self) -> None:
        """Forget the locked trial (:attr:`locked_trial_id`); its id will be reused.

        The default does nothing: right for a backend that keeps no per-trial state.
        """

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        """Record already-validated metrics and state for a known trial.

        The default does nothing: right for a backend that does not learn from results.
        """

    def _report(self, trial_id: int, step: int, metrics: dict[str, float | None]) -> None:
        """Learn a validated intermediate result of a running trial at ``step``.

        Called for :meth:`report` (an objective's ``trial.report``). The default hands
        it to :meth:`_update_trial` as a RUNNING update without the step: right for a
        backend that does not tell steps apart; one that keeps learning curves
        (Optuna's intermediate values) implements this.
        """
        self._update_trial(trial_id, metrics, TrialState.RUNNING)

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        """Take a trial this sampler did not issue into account.

        Called once per earlier trial, by id, right after ``__init__``, and again
        later for trials other workers add to a shared study
        (:meth:`sync_trials`); each batch ends with :meth:`_resume_done`.

        Parameters
        ----------
        trial : Trial
            The stored trial; its state may be any :class:`TrialState` (pending
            ones, ``trial.state.is_pending``, are still running elsewhere) and its
            final metrics were checked against ``optim_metrics``.
        params : dict
            ``trial.config`` encoded through :attr:`tree`: the active parameters by
            name, float grid values snapped to the exact grid point. Trials whose
            config is not in the space are logged and never reach this method.

        Notes
        -----
        A backend that learns nothing from earlier trials leaves this method out:
        their configs are then not encoded at all (resuming and syncing a shared
        study cost only the bookkeeping of ids and states).
        """

    def _resume_done(self) -> None:
        """Called after each batch of :meth:`_resume_trial` calls (at least once, at start)."""

    @abc.abstractmethod
    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """The JSON-serialisable internal state of a trial, or ``None`` if not kept."""

    # -- helpers for backends -----------------------------------------------------

    @property
    def locked_trial_id(self) -> int | None:
        """The id of the trial awaiting :meth:`unlock`, if any."""
        return self._locked_id

    @property
    def trial_states(self) -> dict[int, TrialState]:
        """Known trials' current states, by id (a copy)."""
        return dict(self._states.items())

    def new_trial_id(self) -> int:
        """The id for the next sample: one more than the largest issued id."""
        return self._next_id

    def check_metrics(
        self, metrics: Mapping[str, float | None] | None
    ) -> dict[str, float | None] | None:
        """Validate reported metrics against ``optim_metrics``.

        Returns the metrics as floats (``NaN`` becomes ``None``), or ``None``.
        With no ``optim_metrics`` any numeric metrics are accepted. Values of the
        sampler's :attr:`constraints` may come with them (a finished trial of a
        study with constraints has them; intermediate reports do not); they
        follow the metrics in the returned dict.

        Raises
        ------
        MetricsError
            Naming the missing / unexpected metrics, or the non-numeric value.
        """
        if metrics is None:
            return None
        if not isinstance(metrics, Mapping):
            raise MetricsError(f"metrics must be a dict of numbers, got {metrics!r}")
        out = {name: metric_value(value, name) for name, value in metrics.items()}
        told = {name: value for name, value in out.items() if name in self.constraints}
        out = {name: value for name, value in out.items() if name not in self.constraints}
        if self.optim_metrics and set(out) != set(self.optim_metrics):
            missing = sorted(set(self.optim_metrics) - set(out))
            extra = sorted(set(out) - set(self.optim_metrics))
            raise MetricsError(
                f"reported metrics {sorted(out)} do not match optim_metrics "
                f"{list(self.optim_metrics)} (missing: {missing or 'none'}, "
                f"unexpected: {extra or 'none'}); report exactly the optimised metrics"
            )
        if self.optim_metrics:
            out = {name: out[name] for name in self.optim_metrics}
        return {**out, **{name: told[name] for name in self.constraints if name in told}}

    def worst_filled(self, metrics: Mapping[str, float | None]) -> dict[str, float]:
        """Metrics with every ``None`` replaced by the worst value for its direction."""
        return {
            name: worst_value(self.optim_metrics.get(name, "min")) if v is None else float(v)
            for name, v in metrics.items()
        }


def _id_summary(states: Iterable[int]) -> str:
    ids = sorted(states)
    if not ids:
        return "none"
    if ids == list(range(ids[0], ids[-1] + 1)) and len(ids) > 3:
        return f"{ids[0]}..{ids[-1]}"
    return ", ".join(map(str, ids))


def _fire(hook: Any, hook_name: str, **kwargs: Any) -> None:
    """Call a lifecycle hook, skipping the call entirely when no plugin implements it."""
    if hook is None:
        return
    caller = getattr(hook, hook_name)
    if caller.get_hookimpls():
        caller(**kwargs)


def _checked_update(override: Callable[..., None]) -> Callable[..., None]:
    """Wrap an ablator-style ``update_trial`` override: validate first, hooks after."""

    @functools.wraps(override)
    def update_trial(
        self: BaseSampler,
        trial_id: int,
        metrics: Mapping[str, float | None] | None,
        state: TrialState | int,
    ) -> None:
        if self._in_update:
            override(self, trial_id, metrics, state)
            return
        checked_state, checked = self._check_update(trial_id, metrics, state)
        self._in_update = True
        try:
            override(self, trial_id, checked, checked_state)
        finally:
            self._in_update = False
        self._record_update(trial_id, checked, checked_state)

    update_trial._hposampler_checked = True  # type: ignore[attr-defined]
    return update_trial
