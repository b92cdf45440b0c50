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
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from hposampler.errors import MetricsError, SamplerOptionsError, StorageError, StudyError
from hposampler.samplers.base import normalize_optim_metrics
from hposampler.samplers.trial import Trial, TrialState
from hposampler.selection import SamplerConfig, get_sampler_spec
from hposampler.space.tree import SpaceTree, compile_space
from hposampler.storage import Storage, TrialRecord, make_storage
from hposampler.study import arguments
from hposampler.study.executors import make_executor
from hposampler.study.objective import (
    Objective,
    TrialHandle,
    import_problem,
    load_objective,
    run_objective,
)
from hposampler.study.runner import (
    HEARTBEAT_INTERVAL,
    MAX_ATTEMPTS,
    MAX_CONSECUTIVE_DUPLICATES,
    Runner,
)

__all__ = [
    "MAX_ATTEMPTS",
    "Callback",
    "MAX_CONSECUTIVE_DUPLICATES",
    "Objective",
    "Study",
    "TrialHandle",
    "load_objective",
    "is_feasible",
    "run_objective",
    "study_summary",
]

logger = logging.getLogger("hposampler.study")

#: ``callback(study, record)``: what ``Study.optimize(callbacks=...)`` calls after each trial.
Callback = Callable[["Study", TrialRecord], None]

#: What ``Study.create`` / ``Study.load`` accept as a storage.
StorageLike = str | os.PathLike[str] | Storage


def _options_dict(options: Any, what: str) -> dict[str, Any]:
    if options is not None and not isinstance(options, Mapping):
        raise SamplerOptionsError(
            f"{what} must be a dict of option names to values, got {options!r}"
        )
    return dict(options or {})


def _dominates(a: list[float], b: list[float]) -> bool:
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


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

        Raises
        ------
        StudyError
            If the study exists and ``load_if_exists`` is false.
        """
        name = arguments.study_name(name)
        if not normalize_optim_metrics(optim_metrics):
            raise MetricsError('a study needs optim_metrics, e.g. {"loss": "min"}')
        if sampler_options is not None and not isinstance(sampler_options, Mapping):
            raise SamplerOptionsError(
                f"sampler_options must be a dict of option names to values, got {sampler_options!r}"
            )
        config = SamplerConfig(
            sampler=sampler,
            search_space=search_space,  # validated (a dict is required) by the converter
            optim_metrics=dict(optim_metrics),
            seed=seed,
            options=dict(sampler_options or {}),
            pruner=pruner,
            pruner_options=_options_dict(pruner_options, "pruner_options"),
            constraints=constraints,
        )
        config.create(pruner=config.create_pruner())  # validate everything before storing
        store = make_storage(storage)
        try:
            store.create_study(name, config.to_dict())
        except StudyError:
            if not load_if_exists or not store.has_study(name):
                raise
            study = cls.load(store, name)  # another process may have created it just now
            study._adopt(config)
            return study
        study = cls(store, name, config)
        study.created = True
        return study

    def _adopt(self, config: SamplerConfig) -> None:
        stored = self.config.to_dict()
        new = config.to_dict()
        for key in ("search_space", "optim_metrics", "constraints"):
            if stored.get(key) != new.get(key):
                raise StudyError(
                    f"study {self.name!r} in {self.storage.url} was created with another "
                    f"{key.replace('_', ' ')}; use a new study name for a new {key}"
                )
        if stored != new:
            logger.info(
                "study %s: sampler changed from %s to %s",
                self.name,
                stored["sampler"],
                new["sampler"],
            )
            self.storage.update_definition(self.name, new)
            self.config = config

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
        from hposampler.errors import HposamplerError

        name = arguments.study_name(name)
        store = make_storage(storage, read_only=read_only)
        data = store.load_definition(name)
        try:
            config = SamplerConfig.from_dict(data)
        except HposamplerError as exc:
            raise StorageError(f"study {name!r}: stored definition is invalid: {exc}") from None
        study = cls(store, name, config)
        study.records()  # validate every stored trial now
        return study

    # -- reading --------------------------------------------------------------------

    def records(self) -> list[TrialRecord]:
        """Every stored trial with run details, validated, by id.

        Besides each row's own checks (:func:`hposampler.storage.record_from_row`),
        the rows must fit the study: trial ids are 0, 1, 2, ... without a gap (as
        workers reserve them) and every config is a config of the stored search
        space. A row that does not fit was edited or damaged outside hposampler.

        Raises
        ------
        StorageError
            Naming the study, the trial and the column of the first misfit.
        """
        records = self.storage.load_trials(self.name)
        tree = self._tree()
        for position, record in enumerate(records):
            if record.trial_id != position:
                raise StorageError(
                    f"study {self.name!r}, trial {record.trial_id}: column trial_id does not "
                    f"follow the ids before it (expected {position}; workers number trials "
                    "0, 1, 2, ... without gaps), so the rows were edited or damaged; restore "
                    "a backup, or export the good trials and start a new study"
                )
            problem = tree.violation(record.config)
            if problem is not None:
                raise StorageError(
                    f"study {self.name!r}, trial {record.trial_id}: column config is not a "
                    f"config of the stored search space ({problem}), so the row was edited "
                    "or damaged; restore a backup, or export the good trials and start a "
                    "new study"
                )
        return records

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
        import random

        if not isinstance(config, Mapping):
            raise StudyError(f"enqueue() takes a config dict, got {type(config).__name__}")
        attrs_checked = arguments.user_attrs(user_attrs)
        tree = self._tree()
        full = dict(config)
        if tree.violation(full) is not None:
            drawn = tree.sample(lambda param: param.from_unit(random.random()))[1]
            full = _overlay(drawn, full)
        problem = tree.violation(full)
        if problem is not None:
            raise StudyError(
                f"study {self.name!r}: cannot enqueue {dict(config)!r}: {problem}; give a "
                "config of the study's search space (keys left out are drawn at random)"
            )
        for _ in range(100):  # another process may take the id first
            trial_id = len(self.storage.load_trials(self.name))
            record = TrialRecord(trial_id, TrialState.WAITING, full, user_attrs=attrs_checked)
            if self.storage.create_trial(self.name, record):
                return trial_id
        raise StudyError(  # pragma: no cover - a storage that never accepts a new id
            f"study {self.name!r}: could not store an enqueued trial in {self.storage.url}"
        )

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
        records = self.records()
        attrs_now = self.user_attrs
        target.create_study(new_name, self.config.to_dict())
        try:
            for record in records:
                if record.state == TrialState.RUNNING:
                    record = record.evolve(state=TrialState.WAITING, driver=None,
                                           heartbeat_at=None)  # fmt: skip
                if not target.create_trial(new_name, record):
                    raise StudyError(
                        f"copying study {self.name!r}: trial {record.trial_id} was written "
                        f"to the copy {new_name!r} by someone else; copy again"
                    )
            for key, value in attrs_now.items():
                target.set_user_attr(new_name, key, value)
        except BaseException:
            delete = getattr(target, "delete_study", None)
            if delete is not None:
                delete(new_name)
            raise
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

    def _scored(self) -> list[tuple[TrialRecord, list[float]]]:
        """Feasible COMPLETE trials with their objective vectors, all to minimise."""
        out = []
        for record in self.records():
            final = record.final_metrics
            if record.state != TrialState.COMPLETE or not final or not self.feasible(record):
                continue
            vector = []
            for name, direction in self.config.optim_metrics.items():
                value = final.get(name)
                if value is None or math.isnan(value):  # None is the worst: not a result
                    break
                vector.append(value if direction == "min" else -value)
            else:
                out.append((record, vector))
        return out

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
        if len(self.config.optim_metrics) != 1:
            raise MetricsError(
                f"study {self.name!r} has {len(self.config.optim_metrics)} metrics; "
                "use best_trials for the Pareto front"
            )
        scored = self._scored()
        if not scored:
            if self.config.constraints and any(
                r.state == TrialState.COMPLETE for r in self.records()
            ):
                raise StudyError(
                    f"study {self.name!r} has no feasible trial yet (constraints "
                    f"{', '.join(self.config.constraints)} must all be <= 0)"
                )
            raise StudyError(f"study {self.name!r} has no completed trial yet")
        return min(scored, key=lambda item: (item[1][0], item[0].trial_id))[0]

    @property
    def best_trials(self) -> list[TrialRecord]:
        """The Pareto front: COMPLETE trials no other trial dominates (any number of metrics);
        with constraints, among the feasible trials only."""
        scored = self._scored()
        return [
            record
            for record, vector in scored
            if not any(_dominates(other, vector) for _, other in scored)
        ]

    def to_records(self, full_errors: bool = False) -> list[dict[str, Any]]:
        """Flat rows for export: id, state, ``started_at`` / ``finished_at`` (ISO 8601,
        UTC), metrics, ``params.*``, ``extra.*`` and ``user_attrs.*`` columns; ``last_step`` and
        ``intermediate`` (``[[step, metrics], ...]``) when trials reported.

        ``error`` is the last line of a failure; ``full_errors=True`` adds the whole
        stored traceback as ``traceback``.
        """
        import datetime

        def iso(stamp: float | None) -> str | None:
            if stamp is None:
                return None
            return datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc).isoformat()

        rows = []
        for record in self.records():
            row: dict[str, Any] = {
                "trial_id": record.trial_id,
                "state": record.state.name,
                "started_at": iso(record.started_at),
                "finished_at": iso(record.finished_at),
                "duration_s": record.duration,
                "attempts": record.attempts,
                "worker": record.worker,
            }
            final = record.final_metrics or {}
            for name in self.config.optim_metrics:
                row[name] = final.get(name)
            if self.config.constraints:
                for name in self.config.constraints:
                    row[f"constraints.{name}"] = final.get(name)
                row["feasible"] = self.feasible(record)
            for key, value in flatten_config(record.config).items():
                row[f"params.{key}"] = value
            for key, value in record.extra.items():
                row[f"extra.{key}"] = value
            for key, value in record.user_attrs.items():
                row[f"user_attrs.{key}"] = value
            lines = (record.error or "").strip().splitlines()
            row["error"] = lines[-1] if lines else None
            if full_errors:
                row["traceback"] = record.error
            if record.intermediate:
                row["last_step"] = record.last_step
                row["intermediate"] = [[step, dict(m)] for step, m in record.intermediate]
            rows.append(row)
        return rows

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
        if progress:
            from hposampler.study.progress import progress_bar

            done = sum(1 for r in self.records() if r.state.is_finished)
            with progress_bar(self.optim_metrics, n_trials, done) as bar:
                self.optimize(
                    objective, n_trials, concurrency, executor, timeout, catch,
                    skip_duplicates, [*callbacks, bar], executor_options,
                    heartbeat_interval, trial_timeout,
                )  # fmt: skip
            return
        self._stop = False
        arguments.count(n_trials, "n_trials")
        arguments.count(concurrency, "concurrency", minimum=1)
        arguments.seconds(timeout, "timeout")
        arguments.seconds(trial_timeout, "trial_timeout")
        arguments.seconds(heartbeat_interval, "heartbeat_interval", optional=False)
        if not isinstance(catch, tuple) or not all(
            isinstance(c, type) and issubclass(c, BaseException) for c in catch
        ):
            raise StudyError(f"catch must be a tuple of exception classes, got {catch!r}")
        if isinstance(objective, str):
            objective = load_objective(objective)
        revision = self.storage.revision(self.name)  # before the rows: nothing is missed
        records = self.records()
        limit = get_sampler_spec(self.config.sampler).max_pending
        if limit is not None and limit < concurrency:
            logger.info(
                "study %s: sampler %s takes at most %d pending trial(s); running %d at once",
                self.name, self.config.sampler, limit, limit,
            )  # fmt: skip
            concurrency = limit
        pruner = self.config.create_pruner()
        sampler = self.config.create(
            trials=[r.trial for r in records], budget=n_trials, concurrency=concurrency,
            pruner=pruner,
        )  # fmt: skip
        pool = make_executor(executor, concurrency, **dict(executor_options or {}))
        if pool.capabilities.imports_objective:
            _check_importable(objective, executor)
        run = Runner(
            self, sampler, objective, records, revision=revision, catch=catch,
            skip_duplicates=skip_duplicates, callbacks=callbacks,
            max_attempts=pool.capabilities.max_attempts,
            heartbeat_interval=heartbeat_interval, trial_timeout=trial_timeout,
            pruner=pruner,
        )  # fmt: skip
        del records  # the storage holds them; the runner keeps only unfinished trials
        try:
            run.loop(pool, n_trials, concurrency, timeout)
        except BaseException:
            # Ctrl-C (or an error): the running trials are stored WAITING already; do not
            # wait for their objectives, whose results would be ignored anyway (worker
            # processes are stopped: they ignore Ctrl-C and would run on)
            pool.terminate()
            raise
        pool.shutdown(wait=not run.abandoned)  # never wait for an abandoned objective


def is_feasible(record: TrialRecord, constraints: Sequence[str]) -> bool:
    """Whether ``record``'s final values of ``constraints`` are all ``<= 0``."""
    if not constraints:
        return True
    final = record.final_metrics or {}
    for name in constraints:
        value = final.get(name)
        if value is None or math.isnan(value) or value > 0:
            return False
    return True


def _overlay(base: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``given``'s keys put over it, nested dicts merged key by key."""
    out = dict(base)
    for key, value in given.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _overlay(out[key], value)
        else:
            out[key] = value
    return out


def _check_importable(objective: Objective, executor: str) -> None:
    """Refuse, before the first trial, an objective worker processes cannot import."""
    problem = import_problem(objective)
    if problem is not None:
        raise StudyError(
            f"the {executor!r} executor sends the objective to worker processes by name, "
            f"but {problem}; define it at module level in an importable module and pass it "
            "(or 'module:function'), or use the thread executor"
        )


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as dotted keys: ``{"opt": {"lr": 1}}`` -> ``{"opt.lr": 1}``."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(flatten_config(value, path))
        else:
            out[path] = value
    return out


def study_summary(records: Iterable[TrialRecord]) -> dict[str, int]:
    """Count of trials per state name."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record.state.name] = counts.get(record.state.name, 0) + 1
    return counts
