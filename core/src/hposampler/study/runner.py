"""The scheduler behind :meth:`Study.optimize <hposampler.Study.optimize>`.

It keeps at most ``concurrency`` trials in flight on an executor and moves each
trial through its states. Every change goes through :meth:`Runner.settle`: the
storage commits it first (compare-and-set: a trial another worker took over is
never overwritten), then the sampler hears of it, so a crash between the two
never leaves the sampler ahead of the storage. The runner keeps one byte of
state per trial and the trials in flight; the storage holds the rest.

Several runners (processes, machines) may share one study:

* before sampling, a runner asks the storage whether another worker wrote since
  its last look (one indexed query, :meth:`~hposampler.storage.Storage.changes`)
  and, when one did, loads just the rows written since and passes them to the
  sampler (:meth:`~hposampler.BaseSampler.sync_trials`), so the model learns
  everyone's results and sees everyone's running trials as pending;
* trial ids are reserved by inserting the row: a runner whose id was taken
  meanwhile syncs (incrementally) and samples again;
* the insert itself refuses a trial past the study's total, counting every
  worker's running and waiting trials, so workers together stop at exactly
  ``n_trials``;
* a runner stamps a heartbeat on its running trials every ``heartbeat_interval``
  seconds; a RUNNING trial whose runner died (its process is gone on this host,
  or its heartbeat is older than :data:`STALE_AFTER` intervals) is taken over by
  another runner and re-run with the same id and config.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, Protocol, TypeVar

from hposampler.errors import HposamplerError, MetricsError, StudyError
from hposampler.pruning import BasePruner, TrialPruned, check_report
from hposampler.samplers.base import BaseSampler
from hposampler.samplers.tables import StateTable
from hposampler.samplers.trial import TrialState
from hposampler.selection import SamplerConfig
from hposampler.storage import Storage, TrialRecord
from hposampler.study.channels import ChannelLost, Channels, Hub, Reply
from hposampler.study.executors import MAX_ATTEMPTS, Executor
from hposampler.study.objective import (
    Objective,
    TrialHandle,
    run_objective,
    split_result,
    take_constraints,
    wants_trial,
)

__all__ = [
    "HEARTBEAT_INTERVAL",
    "MAX_ATTEMPTS",
    "MAX_CONSECUTIVE_DUPLICATES",
    "STALE_AFTER",
    "Callback",
    "Runner",
    "RunnerStudy",
    "driver_id",
    "is_stale",
]

logger = logging.getLogger("hposampler.study")


class RunnerStudy(Protocol):
    """What a :class:`Runner` needs of the study it runs; :class:`~hposampler.Study` has it.

    The runner sits beneath the study: it is told about the study through this
    protocol and never imports it.
    """

    @property
    def name(self) -> str:
        """The study's name in its storage."""
        ...

    @property
    def storage(self) -> Storage:
        """Where the study's trials are stored."""
        ...

    @property
    def config(self) -> SamplerConfig:
        """The study's sampler, metrics and constraints."""
        ...

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for (no new trial starts)."""
        ...

    def stop(self) -> None:
        """Ask the runner to start no new trial."""
        ...


S = TypeVar("S", bound=RunnerStudy)

#: ``callback(study, record)``, called after each trial is stored as finished.
Callback = Callable[[S, TrialRecord], None]

#: Stop after this many duplicates in a row with ``skip_duplicates`` (the space is used up).
MAX_CONSECUTIVE_DUPLICATES = 100

#: Seconds between looks at the storage while only other workers' trials run (each look
#: is one revision query when nothing changed).
OTHERS_POLL = 0.05

#: Seconds between heartbeats of a runner's running trials (``Study.optimize`` option).
HEARTBEAT_INTERVAL = 5.0

#: A running trial whose heartbeat is older than this many intervals is stale.
STALE_AFTER = 6

#: Seconds past ``trial_timeout`` the runner waits for a worker process to interrupt a
#: late objective itself before abandoning the trial.
TIMEOUT_GRACE = 5.0

#: Attempts at sampling when other workers keep taking the id first.
MAX_ID_RACES = 100

#: With ``concurrency=1`` on the thread executor and no ``trial_timeout``, trials run
#: in the runner's own thread once this many in a row each took under
#: :data:`INLINE_UNDER` heartbeat intervals: a short objective then costs no thread
#: hand-off. A trial that turns out long goes back to the thread (whose wait lets
#: the runner keep stamping heartbeats) from the next trial on.
INLINE_AFTER = 3

#: The fraction of ``heartbeat_interval`` under which a trial counts as short.
INLINE_UNDER = 0.1

_HOST = socket.gethostname()

#: Drivers of this process whose ``optimize`` call is running (the others are gone).
_LIVE_DRIVERS: set[str] = set()


def counts(record: TrialRecord) -> int:
    """1 if the trial counts towards the study's total (finished, not a duplicate)."""
    return _counts_state(record.state)


def _counts_state(state: TrialState | None) -> int:
    return int(state is not None and state.is_finished and state != TrialState.PRUNED_DUPLICATE)


def config_digest(config: Mapping[str, Any]) -> bytes:
    """A 16-byte digest of a config's canonical JSON (for duplicate detection)."""
    text = json.dumps(config, sort_keys=True, default=repr).encode()
    return hashlib.blake2b(text, digest_size=16).digest()


def driver_id() -> str:
    """``host:pid:token``: who runs a study in this process (one per ``optimize`` call)."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(record: TrialRecord, now: float, interval: float = HEARTBEAT_INTERVAL) -> bool:
    """Whether a RUNNING trial's runner is gone.

    It is when the record names no runner (written by an older version), when
    the runner's process no longer exists on this host (or, in this process, its
    ``optimize`` call has ended), or when its heartbeat is
    older than :data:`STALE_AFTER` heartbeat intervals (runners on other hosts;
    their clocks must agree to within that margin).
    """
    if record.driver is None:
        return True
    host, _, rest = record.driver.partition(":")
    pid_text = rest.partition(":")[0]
    if host == _HOST and pid_text == str(os.getpid()):
        return record.driver not in _LIVE_DRIVERS  # an earlier optimize call of ours
    if host == _HOST and pid_text.isdigit() and not _process_alive(int(pid_text)):
        return True
    beat = record.heartbeat_at if record.heartbeat_at is not None else record.started_at
    return beat is None or beat < now - STALE_AFTER * interval


class _DirectChannel:
    """Requests of an objective that runs in the runner's thread: answered at once."""

    def __init__(self, runner: Runner[Any]) -> None:
        self.runner = runner

    def call(self, message: tuple[Any, ...]) -> Reply:
        """Answer ``message`` here and now."""
        replies: list[Reply] = []
        self.runner.answer(message, replies.append)
        return replies[0]


class Runner(Generic[S]):
    """One :meth:`Study.optimize` call: scheduling, retries, sharing and settling trials.

    Parameters
    ----------
    study : RunnerStudy
        The study (its name, storage, definition and stop flag).
    sampler : BaseSampler
        The sampler, already resumed from ``records``.
    objective : callable
        ``objective(config)`` or ``objective(config, trial)``.
    records : list of TrialRecord
        Every stored trial, read once after ``revision`` (only unfinished ones are kept).
    revision : int
        The study's storage revision read just before ``records``.
    """

    def __init__(
        self,
        study: S,
        sampler: BaseSampler,
        objective: Objective,
        records: Sequence[TrialRecord],
        *,
        revision: int = 0,
        catch: tuple[type[BaseException], ...] = (Exception,),
        skip_duplicates: bool = False,
        callbacks: Sequence[Callback[S]] = (),
        max_attempts: int = MAX_ATTEMPTS,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        trial_timeout: float | None = None,
        pruner: BasePruner | None = None,
    ) -> None:
        self.study = study
        self.storage = study.storage
        self.sampler = sampler
        self.objective = objective
        self.pass_trial = wants_trial(objective)
        self.catch = catch
        self.skip_duplicates = skip_duplicates
        self.callbacks = callbacks
        self.max_attempts = max_attempts
        self.interval = heartbeat_interval
        self.trial_timeout = trial_timeout
        self.abandoned = 0  # trials given up after trial_timeout (threads still running)
        self.driver = driver_id()
        self.states = StateTable()  # every trial's state, one byte each
        self.finished = 0
        self.waiting: dict[int, TrialRecord] = {}  # to (re-)run: WAITING, FAIL_RECOVERABLE
        # trials lost together when a worker died: one of them killed it, so they re-run
        # one at a time until each either finishes or dies alone (then it is to blame)
        self.suspects: set[int] = set()
        self.others: dict[int, TrialRecord] = {}  # RUNNING under other runners
        self.seen: set[bytes] = set()
        self.exhausted = False
        self.synced = revision  # the storage revision this runner has seen
        self.fast = 0  # trials in a row that took under INLINE_UNDER seconds
        self.n_trials = 0  # the study's total (set by loop)
        self.pruner = pruner
        self.hub = Hub()  # reports and pruning questions from running objectives
        self.running: dict[int, TrialRecord] = {}  # this runner's trials in flight, by id
        self.prune_said: set[int] = set()  # trials the pruner told to stop
        self._reports_fed: dict[int, int] = {}  # reports of each trial the pruner has seen
        self._ends_fed: set[int] = set()  # finished trials the pruner has seen end
        self._absorb(records)
        self._feed(records)

    # -- what the storage says ------------------------------------------------------

    def _absorb(self, records: Iterable[TrialRecord]) -> list[TrialRecord]:
        """Take stored rows into account (counts, waiting and foreign running trials)."""
        rows = list(records)
        for record in rows:
            old = self.states.get(record.trial_id)
            self.finished += counts(record) - _counts_state(old)
            self.states[record.trial_id] = record.state
            if self.skip_duplicates:
                self.seen.add(config_digest(record.config))
            if record.state == TrialState.RUNNING and record.driver != self.driver:
                self.others[record.trial_id] = record
            else:
                self.others.pop(record.trial_id, None)
            if record.state in (TrialState.WAITING, TrialState.FAIL_RECOVERABLE):
                self.waiting[record.trial_id] = record
            else:
                self.waiting.pop(record.trial_id, None)
        return rows

    def refresh(self, force: bool = False) -> None:
        """Learn what other workers wrote since the last look (one query when nothing).

        Rows written since then by this runner alone are known already; only when
        another writer's row is among them are those rows loaded (incrementally).
        """
        revision, foreign = self.storage.changes(self.study.name, self.synced, self.driver)
        if not (foreign or force):
            self.synced = revision
            return
        rows = self.storage.load_trials(self.study.name, after_revision=self.synced)
        self.synced = revision
        self._absorb(rows)
        self._feed(r for r in rows if r.trial_id not in self.running)
        self.sampler.sync_trials([r.trial for r in rows])

    def _feed(self, records: Iterable[TrialRecord]) -> None:
        """Give the pruner the stored reports and ends it has not seen yet."""
        pruner = self.pruner
        if pruner is None:
            return
        for record in records:
            seen = self._reports_fed.get(record.trial_id, 0)
            if len(record.intermediate) < seen:  # a re-run started its curve again
                seen = 0
            for step, metrics in record.intermediate[seen:]:
                pruner.report(record.trial_id, step, metrics.get(pruner.metric))
            self._reports_fed[record.trial_id] = len(record.intermediate)
            if record.state.is_finished and record.trial_id not in self._ends_fed:
                self._ends_fed.add(record.trial_id)
                final = record.final_metrics or {}
                pruner.finish(record.trial_id, record.state, final.get(pruner.metric))

    def take_over_stale(self) -> None:
        """Claim RUNNING trials whose runner is gone; they re-run here."""
        now = time.time()
        for record in list(self.others.values()):
            if not is_stale(record, now, self.interval):
                continue
            claimed = record.evolve(state=TrialState.WAITING, driver=self.driver)
            if self._cas(claimed, record):
                logger.warning(
                    "study %s: trial %d of %s looks dead; re-running it here",
                    self.study.name, record.trial_id, record.driver,
                )  # fmt: skip
                self.others.pop(record.trial_id, None)
                self.waiting[record.trial_id] = claimed

    def beat(self) -> float:
        """Stamp a heartbeat on this runner's RUNNING trials; returns its time."""
        when = time.time()
        self.storage.heartbeat(self.study.name, self.driver, when)
        return when

    # -- every state change goes through here ---------------------------------------

    def _cas(self, new: TrialRecord, old: TrialRecord) -> bool:
        if not self.storage.claim_trial(self.study.name, new, old):
            return False
        self.finished += counts(new) - _counts_state(self.states.get(old.trial_id))
        self.states[new.trial_id] = new.state
        return True

    def settle(
        self,
        record: TrialRecord,
        state: TrialState,
        told: dict[str, float | None] | None = None,
        *,
        tell: bool = True,
        **changes: Any,
    ) -> TrialRecord | None:
        """Store ``record`` in its new ``state``, then tell the sampler (unless ``tell=False``).

        Returns the stored record, or ``None`` when another worker took the trial
        over meanwhile (nothing is written; it is theirs now).
        """
        new = record.evolve(state=state, **changes)
        if not self._cas(new, record):
            logger.warning(
                "study %s: trial %d was taken over by another worker; this result is dropped",
                self.study.name, record.trial_id,
            )  # fmt: skip
            return None
        if tell:
            self.sampler.update_trial(record.trial_id, told, state)
        return new

    def create(self, record: TrialRecord) -> bool:
        """Store a newly sampled trial; ``False`` (sampler unlocked with drop) when its id
        was taken or the study's total is reached (the insert counts every worker's)."""
        if not self.storage.create_trial(self.study.name, record, limit=self.n_trials):
            self.sampler.unlock(drop=True)
            return False
        self.finished += counts(record)
        self.states[record.trial_id] = record.state
        self.sampler.unlock(drop=False)
        return True

    # -- choosing the next trial ---------------------------------------------------

    def counted(self) -> int:
        """Trials that count towards the total as this runner knows them: finished ones,
        running ones (its own and others') and those waiting to run."""
        return self.finished + len(self.running) + len(self.others) + len(self.waiting)

    def next_trial(self) -> TrialRecord | None:
        """A WAITING trial to re-run, or a newly sampled one (stored RUNNING); ``None``
        when the study's total is reached or the sampler has nothing more."""
        while True:
            started = self._start_waiting()
            if started is not None:
                return started
            self.refresh()
            if self.waiting:  # other workers left (or enqueued) trials to run
                continue
            if self.counted() >= self.n_trials:
                return None
            record = self._sample()
            if record is None and self.waiting and not self.exhausted:
                continue  # a lost race showed trials left to run: run them first
            return record

    def _start_waiting(self) -> TrialRecord | None:
        while self.waiting:
            record = self.waiting.pop(min(self.waiting))
            now = time.time()
            started = self.settle(
                record, TrialState.RUNNING, tell=False, attempts=record.attempts + 1,
                started_at=now, heartbeat_at=now, driver=self.driver, intermediate=[],
            )  # fmt: skip
            self._reports_fed.pop(record.trial_id, None)  # a re-run reports from scratch
            if started is not None:
                return started
        return None

    def _sample(self) -> TrialRecord | None:
        duplicates = races = 0
        while True:
            try:
                trial_id, config, internal = self.sampler.eager_sample()
            except StopIteration:
                self.exhausted = True
                return None
            now = time.time()
            duplicate = self.skip_duplicates and config_digest(config) in self.seen
            record = TrialRecord(
                trial_id, TrialState.PRUNED_DUPLICATE if duplicate else TrialState.RUNNING,
                config, internal=internal, attempts=0 if duplicate else 1, started_at=now,
                finished_at=now if duplicate else None, driver=self.driver, heartbeat_at=now,
            )  # fmt: skip
            if not self.create(record):  # another worker stored this id, or the total
                self.refresh(force=True)  # is reached: learn their rows (incrementally)
                if self.waiting or self.counted() >= self.n_trials:
                    return None
                races += 1
                if races >= MAX_ID_RACES:
                    raise StudyError(
                        f"study {self.study.name!r}: other workers took trial id {trial_id} "
                        f"{races} times in a row; is the storage {self.storage.url} healthy?"
                    )
                continue
            if duplicate:
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
            if self.skip_duplicates:
                self.seen.add(config_digest(config))
            return record

    # -- outcomes -------------------------------------------------------------------

    def finish(self, record: TrialRecord, outcome: tuple[bool, Any, str, str]) -> None:
        """Settle a trial whose objective returned or raised."""
        ok, value, tb, worker = outcome
        now = time.time()
        done: TrialRecord | None
        if ok:
            try:
                metrics, extra = split_result(value, self.study.config.optim_metrics)
                metrics.update(take_constraints(extra, self.study.config.constraints))
            except MetricsError as exc:
                self.settle(
                    record, TrialState.FAIL, error=f"MetricsError: {exc}", worker=worker,
                    finished_at=now,
                )  # fmt: skip
                raise
            done = self.settle(
                record, TrialState.COMPLETE, metrics, metrics=[*record.metrics, metrics],
                extra=extra, error=None, worker=worker, finished_at=now,
            )  # fmt: skip
        elif isinstance(value, TrialPruned):
            state = (
                TrialState.PRUNED_POOR_PERFORMANCE
                if record.trial_id in self.prune_said
                else TrialState.PRUNED
            )
            done = self.settle(
                record, state, record.final_metrics, error=None, worker=worker, finished_at=now,
            )  # fmt: skip
        else:
            done = self.settle(
                record, TrialState.FAIL, error=tb or f"{type(value).__name__}: {value}",
                worker=worker, finished_at=now,
            )  # fmt: skip
            if not isinstance(value, self.catch):
                raise value
            logger.warning(
                "study %s: trial %d failed: %s: %s", self.study.name, record.trial_id,
                type(value).__name__, value,
            )  # fmt: skip
        if done is not None:
            self._ended(done)
            for callback in self.callbacks:
                callback(self.study, done)

    def _ended(self, record: TrialRecord) -> None:
        """This runner's trial ended: tell the pruner."""
        self.prune_said.discard(record.trial_id)
        self._feed([record])

    # -- requests from running objectives -------------------------------------------

    def answer(self, message: tuple[Any, ...], reply: Callable[[Reply], None]) -> None:
        """Answer one request of a running objective (driver thread); never raises."""
        try:
            reply(("ok", self._request(message)))
        except HposamplerError as exc:
            reply(("error", str(exc)))
        except Exception as exc:  # a broken pruner must not leave the objective waiting
            logger.exception("study %s: request %r failed", self.study.name, message[:2])
            reply(("error", f"{type(exc).__name__}: {exc}"))

    def _request(self, message: tuple[Any, ...]) -> Any:
        kind, trial_id = message[0], message[1]
        record = self.running.get(trial_id)
        if record is None:  # ended or abandoned: nothing to store
            return False
        if kind == "should_prune":
            if self.pruner is None or not record.intermediate:
                return False
            self.refresh()  # other workers' latest reports (one query when nothing changed)
            decision = bool(self.pruner.prune(trial_id))
            if decision:
                self.prune_said.add(trial_id)
            return decision
        if kind == "stop":
            self.study.stop()
            return True
        if kind == "user_attr":
            key, value = message[2], message[3]
            new = record.evolve(user_attrs={**record.user_attrs, key: value})
            if not self._cas(new, record):  # taken over: nothing of ours is stored now
                return False
            self.running[trial_id] = new
            return True
        if kind != "report":
            raise StudyError(f"unknown request {kind!r} from trial {trial_id}")
        step, metrics = check_report(
            message[2], message[3], self.study.config.optim_metrics, record.last_step
        )
        new = record.evolve(
            intermediate=[*record.intermediate, (step, metrics)],
            metrics=[*record.metrics, metrics],
        )
        if not self._cas(new, record):  # taken over by another worker: its result is
            return False  # dropped at the end too (settle), so nothing is stored now
        self.running[trial_id] = new
        self.sampler.report(trial_id, step, metrics)
        self._feed([new])  # the pruner learns the new report
        return True

    def abandon(self, record: TrialRecord, future: concurrent.futures.Future[Any]) -> None:
        """A trial ran past ``trial_timeout`` and could not be interrupted: FAIL it."""
        future.cancel()
        self.abandoned += 1
        error = (
            f"TrialTimeout: the objective ran longer than trial_timeout="
            f"{self.trial_timeout:g} s; the trial was abandoned (a thread cannot be "
            "interrupted: it may still be running, and its result is ignored)"
        )
        logger.warning("study %s: trial %d: %s", self.study.name, record.trial_id, error)
        done = self.settle(record, TrialState.FAIL, error=error, finished_at=time.time())
        if done is not None:
            self._ended(done)
            for callback in self.callbacks:
                callback(self.study, done)

    def lost(self, record: TrialRecord, exc: BaseException, alone: bool = True) -> None:
        """The executor lost a trial (e.g. a dead worker): retry it, up to a limit.

        ``alone`` says whether it was the only trial in flight when it was lost. A
        trial lost with others (every trial of a pool fails when one worker dies)
        re-runs alone before a limit applies, so an innocent trial never fails for
        another one's crash.
        """
        error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(exc, ChannelLost):
            alone = False  # not the trial's fault: it re-runs without counting
            error = f"ChannelLost: {exc}; it runs again\n"
        if isinstance(exc, BrokenProcessPool):
            error = (
                f"WorkerDied: the worker process running trial {record.trial_id} died (killed, "
                "out of memory, or crashed in native code) on attempt "
                f"{record.attempts} of {self.max_attempts}\n{error}"
            )
        logger.warning(
            "study %s: trial %d lost on attempt %d of %d: %s", self.study.name, record.trial_id,
            record.attempts, self.max_attempts, error.splitlines()[0],
        )  # fmt: skip
        if not alone:
            self.suspects.add(record.trial_id)
        elif record.attempts >= self.max_attempts:
            self.suspects.discard(record.trial_id)
            self.settle(record, TrialState.FAIL, error=error, finished_at=time.time())
            return
        again = self.settle(record, TrialState.FAIL_RECOVERABLE, error=error)
        if again is not None:
            self.waiting[again.trial_id] = again
        else:
            self.suspects.discard(record.trial_id)

    # -- the loop -------------------------------------------------------------------

    def loop(
        self,
        pool: Executor,
        n_trials: int,
        concurrency: int,
        timeout: float | None,
    ) -> None:
        """Run trials until the study has ``n_trials`` finished ones (or time/space runs out)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        in_flight: dict[concurrent.futures.Future[Any], int] = {}  # -> trial id (self.running)
        late: dict[concurrent.futures.Future[Any], float] = {}  # trial_timeout deadlines
        next_beat = time.monotonic() + self.interval
        channels: Channels | None = pool.channels(self.hub) if self.pass_trial else None

        def retire(future: concurrent.futures.Future[Any]) -> TrialRecord:
            """Take a trial out of flight (its channel too); its last record."""
            trial_id = in_flight.pop(future)
            if channels is not None:
                channels.release(trial_id)
            return self.running.pop(trial_id)

        self.n_trials = n_trials
        # one trial at a time, on threads, without a time limit: once trials prove short,
        # run them here instead (no hand-off to a thread and back, see INLINE_UNDER)
        may_inline = concurrency == 1 and self.trial_timeout is None and pool.capabilities.inline
        direct = _DirectChannel(self)
        _LIVE_DRIVERS.add(self.driver)
        self.take_over_stale()
        try:
            while True:
                expired = deadline is not None and time.monotonic() >= deadline
                while (
                    not self.exhausted
                    and not expired
                    and not self.study.stopping
                    and len(in_flight) < (1 if self.suspects else concurrency)
                    and self.finished + len(in_flight) + len(self.others) < n_trials
                ):
                    record = self.next_trial()
                    if record is None:
                        break
                    if may_inline and self.fast >= INLINE_AFTER and not self.suspects:
                        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
                        in_flight[future] = record.trial_id
                        self.running[record.trial_id] = record
                        handle = TrialHandle(record.trial_id, record.config, record.attempts,
                                             direct if self.pass_trial else None)  # fmt: skip
                        future.set_running_or_notify_cancel()
                        future.set_result(run_objective(self.objective, handle, self.pass_trial))
                        break  # settle it before the next one
                    channel = channels.for_trial(record.trial_id) if channels else None
                    handle = TrialHandle(record.trial_id, record.config, record.attempts, channel)
                    future = pool.submit(
                        run_objective, self.objective, handle, self.pass_trial,
                        self.trial_timeout,
                    )  # fmt: skip
                    in_flight[future] = record.trial_id
                    self.running[record.trial_id] = record
                    if self.trial_timeout is not None:
                        # a worker process interrupts the objective itself; give it time
                        grace = TIMEOUT_GRACE if pool.capabilities.interrupts_trials else 0
                        late[future] = time.monotonic() + self.trial_timeout + grace
                waiting_on_others = (
                    not in_flight
                    and self.others
                    and not self.exhausted
                    and not self.study.stopping
                    and not expired
                    and self.finished < n_trials
                )
                if not in_flight and not waiting_on_others:
                    return
                now = time.monotonic()
                wait_for = max(0.0, next_beat - now)
                if waiting_on_others:
                    wait_for = min(wait_for, OTHERS_POLL)  # poll for the others' results
                if deadline is not None:
                    wait_for = min(wait_for, max(0.0, deadline - now))
                if late:
                    wait_for = min(wait_for, max(0.0, min(late.values()) - now))
                # requests from objectives wake the loop too (only objectives with a handle)
                awaited = [*in_flight, self.hub.wake] if channels is not None else list(in_flight)
                done: set[concurrent.futures.Future[Any]] = set()
                lost_with: dict[int, int] = {}  # id(exception) -> trials in flight then
                if awaited:
                    done, _ = concurrent.futures.wait(
                        awaited, timeout=wait_for, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                else:  # nothing of ours runs: wait for the other workers (wait([]) won't)
                    time.sleep(wait_for)
                for message, reply in self.hub.drain():
                    self.answer(message, reply)
                if deadline is not None and time.monotonic() >= deadline:
                    deadline = None  # stop starting trials; wait for the running ones
                    self.exhausted = True
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.interval
                    if in_flight:
                        when = self.beat()
                        for trial_id in in_flight.values():
                            self.running[trial_id] = self.running[trial_id].evolve(
                                heartbeat_at=when
                            )
                    self.take_over_stale()
                if waiting_on_others:
                    self.refresh()
                    self.take_over_stale()
                for future in [f for f, when in late.items() if when <= time.monotonic()]:
                    del late[future]
                    if future not in done:
                        self.abandon(retire(future), future)
                for future in done:
                    if future not in in_flight:  # the hub's wake-up, or abandoned
                        continue
                    late.pop(future, None)
                    try:
                        outcome = future.result()  # Ctrl-C here: the trial goes back to WAITING
                    except (Exception, ChannelLost) as exc:  # the executor lost the trial
                        # the futures one failure breaks share its exception: count them once
                        together = lost_with.setdefault(id(exc), len(in_flight))
                        self.lost(retire(future), exc, alone=together == 1)
                        continue
                    record = retire(future)
                    self.suspects.discard(record.trial_id)
                    took = time.time() - (record.started_at or 0.0)
                    self.fast = self.fast + 1 if took < INLINE_UNDER * self.interval else 0
                    self.finish(record, outcome)
        except BaseException:
            # Ctrl-C or a re-raised objective error: trials still in flight go back to
            # WAITING so that the next run (or another worker) re-runs them.
            for future, trial_id in in_flight.items():
                future.cancel()
                record = self.running.pop(trial_id, None)
                if record is not None:
                    self.settle(record, TrialState.WAITING, tell=False)
            raise
        finally:
            _LIVE_DRIVERS.discard(self.driver)
            for _, reply in self.hub.drain():  # nobody will store these any more
                reply(("ok", False))
            if channels is not None:
                channels.close()
