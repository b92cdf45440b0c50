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
(:mod:`hposampler.runner` explains how they share it).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import arguments
from .errors import MetricsError, SamplerOptionsError, StorageError, StudyError
from .executors import make_executor
from .objective import Objective, TrialHandle, import_problem, load_objective, run_objective
from .runner import (
    HEARTBEAT_INTERVAL,
    MAX_ATTEMPTS,
    MAX_CONSECUTIVE_DUPLICATES,
    Callback,
    Runner,
)
from .sampler import normalize_optim_metrics
from .selection import SamplerConfig, get_sampler_spec
from .storage import Storage, TrialRecord, make_storage
from .tree import SpaceTree, compile_space
from .trial import Trial, TrialState

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_CONSECUTIVE_DUPLICATES",
    "Objective",
    "Study",
    "TrialHandle",
    "load_objective",
    "run_objective",
    "study_summary",
]

logger = logging.getLogger("hposampler.study")

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
        return cls(store, name, config)

    def _adopt(self, config: SamplerConfig) -> None:
        stored = self.config.to_dict()
        new = config.to_dict()
        for key in ("search_space", "optim_metrics"):
            if stored[key] != new[key]:
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
        from .errors import HposamplerError

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

    def _scored(self) -> list[tuple[TrialRecord, list[float]]]:
        """COMPLETE trials with their objective vectors, all to minimise."""
        out = []
        for record in self.records():
            final = record.final_metrics
            if record.state != TrialState.COMPLETE or not final:
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
        """The best COMPLETE trial of a single-objective study.

        Raises
        ------
        MetricsError
            For a multi-objective study (use :attr:`best_trials`).
        StudyError
            If no trial has completed with a finite value.
        """
        if len(self.config.optim_metrics) != 1:
            raise MetricsError(
                f"study {self.name!r} has {len(self.config.optim_metrics)} metrics; "
                "use best_trials for the Pareto front"
            )
        scored = self._scored()
        if not scored:
            raise StudyError(f"study {self.name!r} has no completed trial yet")
        return min(scored, key=lambda item: (item[1][0], item[0].trial_id))[0]

    @property
    def best_trials(self) -> list[TrialRecord]:
        """The Pareto front: COMPLETE trials no other trial dominates (any number of metrics)."""
        scored = self._scored()
        return [
            record
            for record, vector in scored
            if not any(_dominates(other, vector) for _, other in scored)
        ]

    def to_records(self, full_errors: bool = False) -> list[dict[str, Any]]:
        """Flat rows for export: id, state, ``started_at`` / ``finished_at`` (ISO 8601,
        UTC), metrics, ``params.*`` and ``extra.*`` columns; ``last_step`` and
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
            for key, value in _flatten(record.config).items():
                row[f"params.{key}"] = value
            for key, value in record.extra.items():
                row[f"extra.{key}"] = value
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
            :class:`~hposampler.objective.TrialHandle`) returns a float (single
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

        Raises
        ------
        MetricsError
            If the objective returns something other than the study's metrics.
        """
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
        if getattr(pool, "imports_objective", False):
            _check_importable(objective, executor)
        run = Runner(
            self, sampler, objective, records, revision=revision, catch=catch,
            skip_duplicates=skip_duplicates, callbacks=callbacks,
            max_attempts=int(getattr(pool, "max_attempts", MAX_ATTEMPTS)),
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
            terminate = getattr(pool, "terminate", None)
            if terminate is not None:
                terminate()
            else:
                pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=not run.abandoned)  # never wait for an abandoned objective


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


_flatten = flatten_config  # the name the core's modules use


def study_summary(records: Iterable[TrialRecord]) -> dict[str, int]:
    """Count of trials per state name."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record.state.name] = counts.get(record.state.name, 0) + 1
    return counts
