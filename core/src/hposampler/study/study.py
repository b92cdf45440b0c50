"""``Study``: run an objective on sampled configs, persist everything, resume after a crash.

The study's storage is the source of truth: a SQLite file by default, or any
storage a plugin provides, chosen by URL (:func:`hposampler.storage.make_storage`).
The sampler lives in the calling process; objectives run on an executor
(``thread``, ``process``, or one from a plugin such as ``ray``) with at most
``concurrency`` trials in flight. Every state change is committed to the storage
before the runner acts on it:

1. a sampled trial is stored as RUNNING before its objective is submitted;
2. a result is stored (COMPLETE / FAIL) before the sampler hears of it.

RUNNING trials of a dead run (its process gone, or its heartbeat stale) are
taken over by the next :meth:`Study.optimize`, which re-runs them first with the
same id and config. Several processes may optimize one study at once
(:mod:`hposampler.study.runner` explains how they share it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hposampler.errors import (
    StudyError,
)
from hposampler.samplers.trial import Trial, TrialState
from hposampler.selection import SamplerConfig
from hposampler.space.tree import SpaceTree, compile_space
from hposampler.storage import Storage, TrialRecord, make_storage
from hposampler.study import arguments, definition, optimizing, results
from hposampler.study.asktell import AskTell, resumed_ledger
from hposampler.study.objective import Objective, TrialHandle, load_objective, run_objective
from hposampler.study.optimizing import RunOptions
from hposampler.study.records import RecordReader
from hposampler.study.results import flatten_config, is_feasible, study_summary
from hposampler.study.runner import HEARTBEAT_INTERVAL, MAX_ATTEMPTS, MAX_CONSECUTIVE_DUPLICATES
from hposampler.study.steering import complete_config, copy_trials, enqueue_trial
from hposampler.study.warmstart import WarmStart, warm_trials

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_CONSECUTIVE_DUPLICATES",
    "Callback",
    "Objective",
    "Study",
    "TrialHandle",
    "flatten_config",
    "is_feasible",
    "load_objective",
    "run_objective",
    "study_summary",
]

logger = logging.getLogger("hposampler.study")

#: ``callback(study, record)``: what ``Study.optimize(callbacks=...)`` calls after each trial.
Callback = Callable[["Study", TrialRecord], None]

#: What ``Study.create`` / ``Study.load`` accept as a storage.
StorageLike = str | os.PathLike[str] | Storage


class Study:
    """A named study in a storage: its definition and all its trials.

    Create one with :meth:`create` or :meth:`load`, run it with :meth:`optimize`.

    Attributes
    ----------
    name : str
        The study's name.
    storage : Storage
        Where it lives (the source of truth of its trials).
    config : SamplerConfig
        Sampler name, search space, metrics, seed and options.
    """

    def __init__(self, storage: Storage, name: str, config: SamplerConfig) -> None:
        self.storage = storage
        self.name = name
        self.config = config
        self._compiled: SpaceTree | None = None
        self._stop = False
        self._asktell = AskTell(self, lambda budget: resumed_ledger(self, self._reader, budget))
        self._reader = RecordReader(storage, name, self._tree)
        #: Whether this object's :meth:`create` call stored the study (``False`` when it
        #: loaded an existing one): e.g. to enqueue first configs exactly once.
        self.created = False

    # -- construction -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        storage: StorageLike,
        name: str,
        sampler: str,
        search_space: Mapping[str, Any],
        optim_metrics: Mapping[str, Any],
        seed: int | None = None,
        sampler_options: Mapping[str, Any] | None = None,
        load_if_exists: bool = False,
        pruner: str | None = None,
        pruner_options: Mapping[str, Any] | None = None,
        constraints: Sequence[str] = (),
        warm_start: Sequence[str] = (),
    ) -> Study:
        """Create a study (or load it with ``load_if_exists``).

        The sampler is built once here, so an unknown name, a bad option or a
        malformed space fails now rather than mid-run.

        Parameters
        ----------
        storage : str or path-like or Storage
            A file path or ``sqlite:///path`` (SQLite), the URL of a storage
            plugin (``postgresql://...``), or a storage object.
        name : str
            The study's name (unique in the file).
        sampler : str
            Sampler name or alias.
        search_space : mapping
            The search space.
        optim_metrics : mapping
            Ordered ``{metric: "min" | "max"}``.
        seed : int, optional
            Sampler seed.
        sampler_options : mapping, optional
            Backend options.
        load_if_exists : bool
            Load an existing study of that name instead of failing. If its sampler,
            seed or options differ, the stored definition is updated (switching
            sampler mid-study); a different search space or metrics is an error.
        pruner : str, optional
            Pruner name or alias (``"median"``, ``"asha"``, ``"hyperband"``, ...;
            ``hposampler list`` shows the installed ones). Objectives that take
            a trial handle report with ``trial.report(step, metrics)`` and ask
            ``trial.should_prune()``. ``None``: no pruning.
        pruner_options : mapping, optional
            The pruner's options.
        constraints : sequence of str
            Result keys the objective returns beside the metrics (``{"loss": 1.2,
            "c1": -0.3}``); a trial is feasible when every one is ``<= 0`` (Optuna's
            convention). The values are stored with each trial, samplers that can
            use them get them (``hposampler list`` marks them; others refuse the
            study in one line), and :attr:`best_trial`, :attr:`best_trials`, show,
            export, plot and the report count only feasible trials as best.
        warm_start : sequence of str
            Earlier studies (``"name"`` in this storage, ``"other.db:name"``
            elsewhere) whose COMPLETE trials the sampler learns before its first
            proposal, on every run: any backend, same metrics and directions
            required. They are not this study's trials and do not count toward
            ``n_trials``; configs outside this space are clipped into it or
            dropped (:mod:`hposampler.study.warmstart`).

        Raises
        ------
        StudyError
            If the study exists and ``load_if_exists`` is false, or a warm-start
            source is missing or optimises other metrics.
        """
        name = arguments.study_name(name)
        config = definition.build_config(
            sampler, search_space, optim_metrics, seed, sampler_options, pruner,
            pruner_options, constraints, warm_start,
        )  # fmt: skip
        store = make_storage(storage)
        if config.warm_start:  # the sources exist and fit, before anything is stored
            warm_trials(store, config.warm_start, compile_space(config.search_space),
                        config.optim_metrics)  # fmt: skip
        try:
            store.create_study(name, config.to_dict())
        except StudyError:
            if not load_if_exists or not store.has_study(name):
                raise
            study = cls.load(store, name)  # another process may have created it just now
            definition.adopt(store, name, study.config, config)
            study.config = config
            return study
        study = cls(store, name, config)
        study.created = True
        return study

    @classmethod
    def load(cls, storage: StorageLike, name: str, read_only: bool = False) -> Study:
        """Load a stored study; its definition is validated like user input.

        ``read_only=True`` opens an SQLite file only to read it (a missing file is
        an error, never created; a read-only file works): for showing results.

        Raises
        ------
        StudyError
            If there is no such study.
        StorageError
            If the stored definition is not valid.
        """
        name = arguments.study_name(name)
        store = make_storage(storage, read_only=read_only)
        study = cls(store, name, definition.load_config(store, name))
        study.records()  # validate every stored trial now
        return study

    # -- reading --------------------------------------------------------------------

    def warm_start(self) -> WarmStart:
        """The trials the sampler learns from the study's warm-start sources, with how
        many configs were kept, clipped and dropped (empty without sources)."""
        return warm_trials(self.storage, self.config.warm_start, self._tree(),
                           self.config.optim_metrics)  # fmt: skip

    def records(self) -> list[TrialRecord]:
        """Every stored trial with run details, validated, by id.

        Besides each row's own checks (:func:`hposampler.storage.record_from_row`),
        the rows must fit the study: trial ids are 0, 1, 2, ... without a gap (as
        workers reserve them) and every config is a config of the stored search
        space. A row that does not fit was edited or damaged outside hposampler.
        Rows are read once: later calls load only the rows written since.

        Raises
        ------
        StorageError
            Naming the study, the trial and the column of the first misfit.
        """
        return self._reader.read()

    # -- steering -------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the running :meth:`optimize` of this process after its running trials.

        Call it from a callback, or from an objective running in a thread of this
        process (an objective anywhere calls ``trial.stop_study()`` instead). No
        new trial starts; the running ones finish and are stored; ``optimize``
        returns and :attr:`stopping` stays true until the next ``optimize``. Other
        processes sharing the study go on.
        """
        self._stop = True

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called since the last :meth:`optimize` began."""
        return self._stop

    def enqueue(
        self, config: Mapping[str, Any], *, user_attrs: Mapping[str, Any] | None = None
    ) -> int:
        """Store a config to evaluate before any sampled one; returns its trial id.

        The trial is stored WAITING and counts towards the study's total; the next
        :meth:`optimize` (of any worker) runs waiting trials first, by id, and the
        sampler learns their results as it learns every trial's.

        Parameters
        ----------
        config : mapping
            A config of the study's space. A partial config (keys left out) is
            completed by drawing the missing values uniformly from the space (as the
            ``random`` sampler would); the keys given are kept as they are.
        user_attrs : mapping, optional
            JSON values stored with the trial (``TrialRecord.user_attrs``).

        Raises
        ------
        StudyError
            For a config that is not (and cannot be completed into) a config of
            the space, naming the key and the reason; for non-JSON user attributes.
        """
        full = complete_config(self._tree(), config, self.name)
        return enqueue_trial(self, self._reader, full, arguments.user_attrs(user_attrs))

    @property
    def user_attrs(self) -> dict[str, Any]:
        """The study's user attributes (JSON values by key), read from the storage."""
        return self.storage.user_attrs(self.name)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Store one user attribute of the study (a JSON value).

        Raises
        ------
        StudyError
            If ``key`` is not text or ``value`` is not JSON.
        """
        key, value = arguments.user_attr(key, value)
        self.storage.set_user_attr(self.name, key, value)

    def copy_to(self, storage: StorageLike, name: str | None = None) -> Study:
        """Copy the study, every trial included, into another storage (or under another
        name); returns the copy, ready to :meth:`optimize` there.

        Ids, states, configs, metrics, reports, internal states, attempts, times and
        user attributes are kept. A trial RUNNING in the source (its worker is not
        in the copy) is WAITING in the copy, so the copy runs it again. The copy is
        refused when the target already has a study of that name; a copy cut off
        half way is deleted again.

        Raises
        ------
        StudyError
            If the target holds a study of that name already.
        """
        target = make_storage(storage)
        new_name = arguments.study_name(self.name if name is None else name)
        records, attrs_now = self.records(), self.user_attrs
        target.create_study(new_name, self.config.to_dict())
        copy_trials(records, attrs_now, target, self.name, new_name)
        return Study(target, new_name, self.config)

    def _tree(self) -> SpaceTree:
        if self._compiled is None:
            self._compiled = compile_space(self.config.search_space)
        return self._compiled

    @property
    def trials(self) -> list[Trial]:
        """Every stored trial as a :class:`~hposampler.Trial`, by id."""
        return [r.trial for r in self.records()]

    @property
    def optim_metrics(self) -> dict[str, str]:
        """The study's metrics and directions."""
        return dict(self.config.optim_metrics)

    @property
    def constraints(self) -> tuple[str, ...]:
        """The study's constraint names (result keys feasible when ``<= 0``); ``()``: none."""
        return self.config.constraints

    def feasible(self, record: TrialRecord) -> bool:
        """Whether a trial meets every constraint (each value ``<= 0``; a missing or NaN
        value does not). Always true in a study without constraints."""
        return is_feasible(record, self.config.constraints)

    @property
    def best_trial(self) -> TrialRecord:
        """The best COMPLETE trial of a single-objective study (with constraints: the
        best feasible one).

        Raises
        ------
        MetricsError
            For a multi-objective study (use :attr:`best_trials`).
        StudyError
            If no (feasible) trial has completed with a finite value.
        """
        return results.best_trial(self.name, self.records(), self.config)

    @property
    def best_trials(self) -> list[TrialRecord]:
        """The Pareto front: COMPLETE trials no other trial dominates (any number of metrics);
        with constraints, among the feasible trials only."""
        return results.best_trials(self.records(), self.config)

    def to_records(self, full_errors: bool = False) -> list[dict[str, Any]]:
        """Flat rows for export: id, state, ``started_at`` / ``finished_at`` (ISO 8601,
        UTC), metrics, ``params.*``, ``extra.*`` and ``user_attrs.*`` columns; ``last_step`` and
        ``intermediate`` (``[[step, metrics], ...]``) when trials reported.

        ``error`` is the last line of a failure; ``full_errors=True`` adds the whole
        stored traceback as ``traceback``.
        """
        return results.export_rows(self.records(), self.config, full_errors)

    # -- ask and tell ---------------------------------------------------------------

    def ask(self, *, budget: int | None = None) -> TrialHandle:
        """The next trial to evaluate in your own loop; tell its result with :meth:`tell`.

        A WAITING trial (enqueued, or taken over from a dead worker) comes first;
        otherwise the sampler proposes one, having learnt every stored trial (its
        sampler is built from them on the first ``ask``, and learns other
        workers' results as ``optimize`` does). The trial is stored RUNNING before
        this returns, so it counts in the study like a running trial of any
        worker, and ``optimize`` workers sharing the study see it as pending.

        The handle works as an objective's: ``trial.report(step, metrics)``,
        ``trial.should_prune()`` (the study's pruner), ``trial.set_user_attr``.

        Parameters
        ----------
        budget : int, optional
            The study's total number of trials, as ``optimize``'s ``n_trials``:
            once the study holds that many (finished, running or waiting, every
            worker's), ``ask`` raises :class:`StopIteration`, so workers asking
            together stop at exactly ``budget``; a waiting trial (one to re-run)
            is still handed out. It holds for this object's later calls until
            another is given. Samplers that plan from it (NGOpt, ``auto``; not
            ``optuna:*``) read it when they are built, on this object's first
            ``ask``.

        Returns
        -------
        TrialHandle
            ``trial_id``, ``config`` (the nested config), ``attempt``.

        Raises
        ------
        StopIteration
            When the study holds its ``budget`` of trials, or the sampler has
            nothing more to propose (a grid with ``exhausted="stop"`` used up), as
            ``eager_sample`` does.

        Notes
        -----
        A trial asked and never told is taken over by another worker (re-run with
        the same id and config) once this study object is gone: on this machine,
        when its process has ended (or, in this process, the study object was
        garbage-collected); seen from other machines (a server storage), when it
        has not been used for ``STALE_AFTER`` heartbeat intervals (30 s): this
        object stamps heartbeats on its trials at each ``ask``, ``tell`` and
        ``trial.report``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> db = pathlib.Path(tempfile.mkdtemp()) / "ask.db"
        >>> study = Study.create(db, "demo", "random", {"x": {"value_range": [0.0, 1.0]}},
        ...                      {"loss": "min"}, seed=0)
        >>> trial = study.ask()
        >>> record = study.tell(trial, (trial.config["x"] - 0.3) ** 2)
        >>> record.state.name, record.trial_id
        ('COMPLETE', 0)
        """
        if budget is not None:
            self._asktell.budget = arguments.count(budget, "budget", minimum=1)
        return self._asktell.ask()

    def tell(
        self, trial: TrialHandle | int, result: Any = None, *, state: TrialState | None = None
    ) -> TrialRecord:
        """Store the result of a trial from :meth:`ask` (of this or any other process).

        Parameters
        ----------
        trial : TrialHandle or int
            The handle :meth:`ask` gave, or its ``trial_id``.
        result : float or dict, optional
            What an objective would return: a number (one optimised metric) or a
            dict holding every optimised metric (other keys are stored as extras;
            constraint values among them).
        state : TrialState, optional
            ``COMPLETE`` (the default with a result), ``FAIL`` or ``PRUNED`` (no
            result: a pruned trial keeps its last report).

        Returns
        -------
        TrialRecord
            The stored trial.

        Raises
        ------
        MetricsError
            For a result that is not the study's metrics; nothing is stored, so
            the trial can be told again.
        StudyError
            For a trial that is not running: told already, never asked, or taken
            over by another worker because its asker looked dead (the message
            says which); for a state other than those above.
        """
        return self._asktell.tell(trial, result, state)

    # -- running --------------------------------------------------------------------

    def optimize(
        self,
        objective: Objective | str,
        n_trials: int,
        concurrency: int = 1,
        executor: str = "thread",
        timeout: float | None = None,
        catch: tuple[type[BaseException], ...] = (Exception,),
        skip_duplicates: bool = False,
        callbacks: Sequence[Callback] = (),
        executor_options: Mapping[str, Any] | None = None,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        trial_timeout: float | None = None,
        progress: bool = False,
    ) -> None:
        """Run trials until the study has ``n_trials`` finished trials.

        Any number of processes (on one machine with SQLite, on several with a
        server storage) may run ``optimize`` on the same study at once: they share
        the trials, their samplers learn each other's results, and together they
        stop at ``n_trials``. A trial whose process dies is re-run by another one
        (or by the next run).

        Parameters
        ----------
        objective : callable or str
            ``objective(config)`` or ``objective(config, trial)`` (``trial`` is a
            :class:`~hposampler.study.objective.TrialHandle`) returns a float (single
            metric) or a dict holding every optimised metric (other keys are stored
            as extras). A string ``"module:function"`` is imported. Through the
            handle, ``trial.report(step, metrics)`` stores intermediate results and
            ``trial.should_prune()`` asks the study's pruner; raising
            :class:`~hposampler.TrialPruned` ends the trial as pruned.
        n_trials : int
            The **total** number of finished trials (COMPLETE, PRUNED or FAIL) the
            study should reach; running again after a crash does the remainder.
        concurrency : int
            Maximum number of trials in flight (lowered to the sampler's
            ``max_pending`` when it declares one). A sampler factory that takes
            ``budget`` / ``concurrency`` keywords receives ``n_trials`` and this.
        executor : str
            ``"thread"``, ``"process"``, or one registered by a plugin.
        timeout : float, optional
            Seconds after which no new trial starts; running trials finish.
        trial_timeout : float, optional
            Seconds one trial may run; a later trial FAILs with a ``TrialTimeout``
            error and the study goes on. In worker processes (the ``process``
            executor) the objective is interrupted where it runs; a thread cannot
            be interrupted, so with the ``thread`` executor the trial is abandoned
            (its thread may run on in the background; its result is ignored).
        catch : tuple of exception types
            Objective exceptions that mark the trial FAIL (traceback stored) and
            let the study go on; others are stored and re-raised.
        skip_duplicates : bool
            Mark a config already tried PRUNED_DUPLICATE and sample again.
        callbacks : sequence of callables
            ``callback(study, record)`` after each finished trial.
        executor_options : mapping, optional
            Options for the executor (validated by its spec).
        heartbeat_interval : float
            Seconds between heartbeats on this process's running trials. Another
            process re-runs a trial whose heartbeat is older than
            ``STALE_AFTER`` (6) intervals, or at once when the process that ran it
            is gone from this machine.
        progress : bool
            Show the bar ``hposampler run`` shows (finished trials of the total, the
            best value, time left) on the terminal while trials run.

        Raises
        ------
        MetricsError
            If the objective returns something other than the study's metrics.

        Notes
        -----
        :meth:`stop` (from a callback) or ``trial.stop_study()`` (from an
        objective) ends the call after the running trials; :attr:`stopping` then
        says so.
        """
        run = RunOptions(
            n_trials, concurrency, executor, timeout, catch, skip_duplicates, tuple(callbacks),
            executor_options, heartbeat_interval, trial_timeout,
        )  # fmt: skip
        self._stop = False
        optimizing.optimize(self, self._reader, objective, run, progress=progress)
