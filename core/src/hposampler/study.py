"""``Study``: run an objective on sampled configs, persist everything, resume after a crash.

The sampler lives in the calling process; objectives run on an executor
(``thread``, ``process``, or one from a plugin such as ``ray``) with at most
``concurrency`` trials in flight. Every state change is committed to SQLite
before the runner acts on it:

1. a sampled trial is stored as RUNNING before its objective is submitted;
2. a result is stored (COMPLETE / FAIL) before the sampler hears of it.

When a study is loaded, RUNNING trials of a dead run are marked WAITING; the next
:meth:`Study.optimize` re-runs them first, with the same id and config.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import json
import logging
import math
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .errors import MetricsError, StudyError
from .executors import make_executor
from .sampler import BaseSampler, normalize_optim_metrics
from .selection import SamplerConfig
from .storage import SQLiteStorage, TrialRecord
from .trial import Trial, TrialState

__all__ = ["Objective", "Study", "load_objective"]

logger = logging.getLogger("hposampler.study")

#: An objective: config -> a float (single metric) or a dict of metrics and extras.
Objective = Callable[[dict[str, Any]], Any]
Callback = Callable[["Study", TrialRecord], None]

#: Attempts at a trial whose executor keeps losing it (dead workers) before it is FAIL;
#: an executor with a ``max_attempts`` attribute overrides it.
MAX_ATTEMPTS = 3

#: Stop after this many duplicates in a row with ``skip_duplicates`` (the space is used up).
MAX_CONSECUTIVE_DUPLICATES = 100


def load_objective(path: str) -> Objective:
    """Import ``"package.module:function"`` and return the function.

    Raises
    ------
    StudyError
        If the string is malformed, the module cannot be imported or the name
        is not a callable.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise StudyError(
            f"objective {path!r} must look like 'package.module:function', "
            "e.g. 'hposampler.problems:branin'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StudyError(
            f"cannot import objective module {module_name!r}: {exc}. Is it installed, or in "
            "the folder of the study file?"
        ) from None
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
    if not callable(target):
        raise StudyError(f"objective {path!r}: {module_name} has no callable {attr!r}")
    objective: Objective = target
    return objective


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def run_objective(objective: Objective, config: dict[str, Any]) -> tuple[bool, Any, str, str]:
    """Run ``objective(config)`` in a worker; never raises an ``Exception``.

    Returns ``(ok, result_or_exception, traceback_text, worker)``. Executors call
    this so that the traceback is captured where it happened.
    """
    worker = _worker_name()
    try:
        return True, objective(config), "", worker
    except Exception as exc:
        return False, exc, traceback.format_exc(), worker


def _split_result(
    result: Any, optim_metrics: Mapping[str, str]
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """Objective result -> (metrics for the sampler, JSON extras)."""
    names = list(optim_metrics)
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        if len(names) != 1:
            raise MetricsError(
                f"the objective returned a single number but the study optimises "
                f"{len(names)} metrics ({', '.join(names)}); return a dict with those keys"
            )
        value = float(result)
        return {names[0]: None if math.isnan(value) else value}, {}
    if not isinstance(result, Mapping):
        raise MetricsError(
            f"the objective returned {type(result).__name__} {result!r}; return a number or a "
            f"dict with keys {', '.join(names)}"
        )
    missing = [n for n in names if n not in result]
    if missing:
        raise MetricsError(
            f"the objective's result {sorted(result)} lacks the optimised metric(s) "
            f"{', '.join(missing)}; optim_metrics are {', '.join(names)}"
        )
    metrics: dict[str, float | None] = {}
    for name in names:
        value = result[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise MetricsError(f"metric {name!r} must be a number or None, got {value!r}")
        metrics[name] = None if value is None or math.isnan(value) else float(value)
    extras: dict[str, Any] = {}
    for key, extra in result.items():
        if key in optim_metrics:
            continue
        try:
            json.dumps(extra, allow_nan=False)
        except (TypeError, ValueError):
            extra = repr(extra)  # stored as text: extras must be plain JSON
        extras[str(key)] = extra
    return metrics, extras


def _dominates(a: list[float], b: list[float]) -> bool:
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


class Study:
    """A named study in a SQLite file: its definition and all its trials.

    Create one with :meth:`create` or :meth:`load`, run it with :meth:`optimize`.

    Attributes
    ----------
    name : str
        The study's name.
    storage : SQLiteStorage
        Where it lives.
    config : SamplerConfig
        Sampler name, search space, metrics, seed and options.
    """

    def __init__(self, storage: SQLiteStorage, name: str, config: SamplerConfig) -> None:
        self.storage = storage
        self.name = name
        self.config = config

    # -- construction -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        storage: str | os.PathLike[str] | SQLiteStorage,
        name: str,
        sampler: str,
        search_space: Mapping[str, Any],
        optim_metrics: Mapping[str, Any],
        seed: int | None = None,
        sampler_options: Mapping[str, Any] | None = None,
        load_if_exists: bool = False,
    ) -> Study:
        """Create a study (or load it with ``load_if_exists``).

        The sampler is built once here, so an unknown name, a bad option or a
        malformed space fails now rather than mid-run.

        Parameters
        ----------
        storage : str or path-like or SQLiteStorage
            A file path or ``sqlite:///path``.
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

        Raises
        ------
        StudyError
            If the study exists and ``load_if_exists`` is false.
        """
        store = storage if isinstance(storage, SQLiteStorage) else SQLiteStorage(storage)
        if not normalize_optim_metrics(optim_metrics):
            raise MetricsError('a study needs optim_metrics, e.g. {"loss": "min"}')
        config = SamplerConfig(
            sampler=sampler,
            search_space=dict(search_space),
            optim_metrics=dict(optim_metrics),
            seed=seed,
            options=dict(sampler_options or {}),
        )
        config.create()  # validate everything before storing anything
        if load_if_exists and store.has_study(name):
            study = cls.load(store, name)
            study._adopt(config)
            return study
        store.create_study(name, config.to_dict())
        return cls(store, name, config)

    def _adopt(self, config: SamplerConfig) -> None:
        stored = self.config.to_dict()
        new = config.to_dict()
        for key in ("search_space", "optim_metrics"):
            if stored[key] != new[key]:
                raise StudyError(
                    f"study {self.name!r} in {self.storage.path} was created with another "
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
    def load(cls, storage: str | os.PathLike[str] | SQLiteStorage, name: str) -> Study:
        """Load a stored study; its definition is validated like user input.

        Raises
        ------
        StudyError
            If there is no such study.
        StorageError
            If the stored definition is not valid.
        """
        from .errors import HposamplerError, StorageError

        store = storage if isinstance(storage, SQLiteStorage) else SQLiteStorage(storage)
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
        """Every stored trial with run details, validated, by id."""
        return self.storage.load_trials(self.name)

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
                if value is None or not math.isfinite(value):
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

    def to_records(self) -> list[dict[str, Any]]:
        """Flat rows for export: id, state, metrics, ``params.*`` and ``extra.*`` columns."""
        rows = []
        for record in self.records():
            row: dict[str, Any] = {
                "trial_id": record.trial_id,
                "state": record.state.name,
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
            rows.append(row)
        return rows

    # -- running --------------------------------------------------------------------

    def _recover(self) -> list[TrialRecord]:
        """Mark RUNNING trials of a dead run WAITING; return everything stored."""
        records = self.records()
        out = []
        for record in records:
            if record.state == TrialState.RUNNING:
                record = record.evolve(state=TrialState.WAITING)
                self.storage.save_trial(self.name, record)
            out.append(record)
        return out

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
    ) -> None:
        """Run trials until the study has ``n_trials`` finished trials.

        Parameters
        ----------
        objective : callable or str
            ``objective(config)`` returns a float (single metric) or a dict holding
            every optimised metric (other keys are stored as extras). A string
            ``"module:function"`` is imported.
        n_trials : int
            The **total** number of finished trials (COMPLETE, PRUNED or FAIL) the
            study should reach; running again after a crash does the remainder.
        concurrency : int
            Maximum number of trials in flight.
        executor : str
            ``"thread"``, ``"process"``, or one registered by a plugin.
        timeout : float, optional
            Seconds after which no new trial starts; running trials finish.
        catch : tuple of exception types
            Objective exceptions that mark the trial FAIL (traceback stored) and
            let the study go on; others are stored and re-raised.
        skip_duplicates : bool
            Mark a config already tried PRUNED_DUPLICATE and sample again.
        callbacks : sequence of callables
            ``callback(study, record)`` after each finished trial.
        executor_options : mapping, optional
            Options for the executor (validated by its spec).

        Raises
        ------
        MetricsError
            If the objective returns something other than the study's metrics.
        """
        if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 0:
            raise StudyError(f"n_trials must be a non-negative int, got {n_trials!r}")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise StudyError(f"concurrency must be a positive int, got {concurrency!r}")
        if isinstance(objective, str):
            objective = load_objective(objective)
        records = {r.trial_id: r for r in self._recover()}
        sampler = self.config.create(trials=[r.trial for r in records.values()])
        run = _Run(self, sampler, objective, records, catch, skip_duplicates, callbacks)
        pool = make_executor(executor, concurrency, **dict(executor_options or {}))
        run.max_attempts = int(getattr(pool, "max_attempts", MAX_ATTEMPTS))
        try:
            run.loop(pool, n_trials, concurrency, timeout)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(_flatten(value, path))
        else:
            out[path] = value
    return out


class _Run:
    """The state of one :meth:`Study.optimize` call."""

    def __init__(
        self,
        study: Study,
        sampler: BaseSampler,
        objective: Objective,
        records: dict[int, TrialRecord],
        catch: tuple[type[BaseException], ...],
        skip_duplicates: bool,
        callbacks: Sequence[Callback],
    ) -> None:
        self.study = study
        self.sampler = sampler
        self.objective = objective
        self.records = records
        self.catch = catch
        self.skip_duplicates = skip_duplicates
        self.callbacks = callbacks
        self.waiting = sorted(
            tid
            for tid, r in records.items()
            if r.state in (TrialState.WAITING, TrialState.FAIL_RECOVERABLE)
        )
        self.seen = {_config_key(r.config) for r in records.values()}
        self.exhausted = False
        self.max_attempts = MAX_ATTEMPTS  # an executor may set its own (e.g. ray's max_retries)
        self._finished = sum(1 for r in records.values() if _counts(r))

    def finished(self) -> int:
        """Trials that count towards ``n_trials`` (finished, duplicates excluded)."""
        return self._finished

    def save(self, record: TrialRecord) -> None:
        self.study.storage.save_trial(self.study.name, record)
        old = self.records.get(record.trial_id)
        self._finished += _counts(record) - (_counts(old) if old is not None else 0)
        self.records[record.trial_id] = record

    def next_trial(self) -> TrialRecord | None:
        """A WAITING trial to re-run, or a newly sampled one (stored RUNNING)."""
        now = time.time()
        if self.waiting:
            record = self.records[self.waiting.pop(0)]
            record = record.evolve(
                state=TrialState.RUNNING, attempts=record.attempts + 1, started_at=now
            )
            self.save(record)
            return record
        duplicates = 0
        while True:
            try:
                trial_id, config, internal = self.sampler.eager_sample()
            except StopIteration:
                self.exhausted = True
                return None
            key = _config_key(config)
            if self.skip_duplicates and key in self.seen:
                record = TrialRecord(
                    trial_id, TrialState.PRUNED_DUPLICATE, config, internal=internal,
                    started_at=now, finished_at=now,
                )  # fmt: skip
                self.save(record)
                self.sampler.unlock(drop=False)
                self.sampler.update_trial(trial_id, None, TrialState.PRUNED_DUPLICATE)
                duplicates += 1
                if duplicates >= MAX_CONSECUTIVE_DUPLICATES:
                    logger.warning(
                        "study %s: %d duplicate configs in a row; the space looks used up",
                        self.study.name, duplicates,
                    )  # fmt: skip
                    self.exhausted = True
                    return None
                continue
            record = TrialRecord(
                trial_id, TrialState.RUNNING, config, internal=internal, attempts=1,
                started_at=now,
            )  # fmt: skip
            self.save(record)  # committed before the trial exists anywhere else
            self.sampler.unlock(drop=False)
            self.seen.add(key)
            return record

    def finish(self, record: TrialRecord, outcome: tuple[bool, Any, str, str]) -> None:
        ok, value, tb, worker = outcome
        now = time.time()
        if ok:
            try:
                metrics, extra = _split_result(value, self.study.config.optim_metrics)
            except MetricsError as exc:
                failed = record.evolve(
                    state=TrialState.FAIL, error=f"MetricsError: {exc}", worker=worker,
                    finished_at=now,
                )  # fmt: skip
                self.save(failed)
                self.sampler.update_trial(record.trial_id, None, TrialState.FAIL)
                raise
            done = record.evolve(
                state=TrialState.COMPLETE, metrics=[*record.metrics, metrics], extra=extra,
                error=None, worker=worker, finished_at=now,
            )  # fmt: skip
            self.save(done)
            self.sampler.update_trial(record.trial_id, metrics, TrialState.COMPLETE)
        else:
            failed = record.evolve(
                state=TrialState.FAIL, error=tb or f"{type(value).__name__}: {value}",
                worker=worker, finished_at=now,
            )  # fmt: skip
            self.save(failed)
            self.sampler.update_trial(record.trial_id, None, TrialState.FAIL)
            if not isinstance(value, self.catch):
                raise value
            logger.warning(
                "study %s: trial %d failed: %s: %s", self.study.name, record.trial_id,
                type(value).__name__, value,
            )  # fmt: skip
        for callback in self.callbacks:
            callback(self.study, self.records[record.trial_id])

    def lost(self, record: TrialRecord, exc: BaseException) -> None:
        """The executor lost a trial (e.g. a dead worker): retry it, up to a limit."""
        error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if record.attempts >= self.max_attempts:
            self.save(record.evolve(state=TrialState.FAIL, error=error, finished_at=time.time()))
            self.sampler.update_trial(record.trial_id, None, TrialState.FAIL)
            return
        self.save(record.evolve(state=TrialState.FAIL_RECOVERABLE, error=error))
        self.sampler.update_trial(record.trial_id, None, TrialState.FAIL_RECOVERABLE)
        self.waiting.append(record.trial_id)

    def loop(
        self,
        pool: concurrent.futures.Executor,
        n_trials: int,
        concurrency: int,
        timeout: float | None,
    ) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        in_flight: dict[concurrent.futures.Future[Any], TrialRecord] = {}
        try:
            while True:
                expired = deadline is not None and time.monotonic() >= deadline
                while (
                    not self.exhausted
                    and not expired
                    and len(in_flight) < concurrency
                    and self.finished() + len(in_flight) < n_trials
                ):
                    record = self.next_trial()
                    if record is None:
                        break
                    future = pool.submit(run_objective, self.objective, record.config)
                    in_flight[future] = record
                if not in_flight:
                    return
                wait_for = None if deadline is None else max(0.0, deadline - time.monotonic())
                done, _ = concurrent.futures.wait(
                    in_flight, timeout=wait_for, return_when=concurrent.futures.FIRST_COMPLETED
                )
                if not done and deadline is not None:
                    deadline = None  # stop starting trials; wait for the running ones
                    self.exhausted = True
                for future in done:
                    record = in_flight[future]
                    try:
                        outcome = future.result()
                    except Exception as exc:  # the executor lost the trial, not the objective
                        del in_flight[future]
                        self.lost(record, exc)
                        continue
                    del in_flight[future]
                    self.finish(record, outcome)
        except BaseException:
            # Ctrl-C or a re-raised objective error: trials still in flight go back to
            # WAITING so that the next run re-runs them with the same id and config.
            for future, record in in_flight.items():
                future.cancel()
                self.save(record.evolve(state=TrialState.WAITING))
            raise


def _counts(record: TrialRecord) -> int:
    return int(record.state.is_finished and record.state != TrialState.PRUNED_DUPLICATE)


def _config_key(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, default=repr)


def study_summary(records: Iterable[TrialRecord]) -> dict[str, int]:
    """Count of trials per state name."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record.state.name] = counts.get(record.state.name, 0) + 1
    return counts
