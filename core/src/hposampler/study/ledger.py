"""The ledger: one worker's account of a study in its storage.

Both ways of running a study stand on it: :meth:`Study.optimize
<hposampler.Study.optimize>` (through the dispatcher in
:mod:`hposampler.study.runner`) and :meth:`Study.ask <hposampler.Study.ask>` /
:meth:`Study.tell <hposampler.Study.tell>`. Every state change goes through
:meth:`Ledger.settle`: the storage commits it first (compare-and-set: a trial
another worker took over is never overwritten), then the sampler hears of it, so
a crash between the two never leaves the sampler ahead of the storage. The ledger
keeps one byte of state per trial and this worker's running trials; the storage
holds the rest.

How workers (processes, machines) share one study:

* before sampling, a ledger asks the storage whether another worker wrote since
  its last look (one indexed query, :meth:`~hposampler.storage.Storage.changes`)
  and, when one did, loads just the rows written since and passes them to the
  sampler (:meth:`~hposampler.BaseSampler.sync_trials`), so the model learns
  everyone's results and sees everyone's running trials as pending;
* trial ids are reserved by inserting the row: a worker whose id was taken
  meanwhile syncs (incrementally) and samples again;
* the insert itself refuses a trial past the study's total, counting every
  worker's running and waiting trials, so workers together stop at exactly
  ``n_trials``;
* a worker stamps a heartbeat on its running trials every ``heartbeat_interval``
  seconds; a RUNNING trial whose worker died (its process is gone on this host,
  or its heartbeat is older than :data:`STALE_AFTER` intervals) is taken over by
  another worker and re-run with the same id and config.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from hposampler.errors import HposamplerError, MetricsError, StudyError
from hposampler.pruning import BasePruner, TrialPruned, check_report
from hposampler.samplers.base import BaseSampler
from hposampler.samplers.tables import StateTable
from hposampler.samplers.trial import TrialState
from hposampler.selection import SamplerConfig
from hposampler.storage import Storage, TrialRecord
from hposampler.study.messages import (
    Outcome,
    Report,
    Request,
    SetUserAttr,
    ShouldPrune,
    StopStudy,
)
from hposampler.study.objective import split_result, take_constraints

__all__ = [
    "ASKER",
    "HEARTBEAT_INTERVAL",
    "MAX_CONSECUTIVE_DUPLICATES",
    "STALE_AFTER",
    "Ledger",
    "RunnerStudy",
    "Verdict",
    "driver_id",
    "driver_alive",
    "is_stale",
    "judge",
]

logger = logging.getLogger("hposampler.study")

#: Stop after this many duplicates in a row with ``skip_duplicates`` (the space is used up).
MAX_CONSECUTIVE_DUPLICATES = 100

#: Seconds between heartbeats of a worker's running trials (``Study.optimize`` option).
HEARTBEAT_INTERVAL = 5.0

#: A running trial whose heartbeat is older than this many intervals is stale.
STALE_AFTER = 6

#: Attempts at sampling when other workers keep taking the id first.
MAX_ID_RACES = 100

_HOST = socket.gethostname()

#: Drivers of this process that are alive (an ``optimize`` call running, a study
#: object with asked trials); a RUNNING trial of any other driver of this process
#: is stale.
_LIVE_DRIVERS: set[str] = set()


class RunnerStudy(Protocol):
    """What a ledger and a runner need of their study; :class:`~hposampler.Study` has it.

    They sit beneath the study: they are told about it through this protocol
    and never import it.
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


def counts(record: TrialRecord) -> int:
    """1 if the trial counts towards the study's total (finished, not a duplicate)."""
    return _counts_state(record.state)


def _counts_state(state: TrialState | None) -> int:
    return int(state is not None and state.is_finished and state != TrialState.PRUNED_DUPLICATE)


def config_digest(config: Mapping[str, Any]) -> bytes:
    """A 16-byte digest of a config's canonical JSON (for duplicate detection)."""
    text = json.dumps(config, sort_keys=True, default=repr).encode()
    return hashlib.blake2b(text, digest_size=16).digest()


#: The token prefix of an asking study object's driver id (``Study.ask``).
ASKER = "ask-"


def driver_id(kind: str = "") -> str:
    """``host:pid:token``: who runs a study in this process (one per ledger); ``kind``
    prefixes the token (:data:`ASKER` for a study object that asks)."""
    import uuid

    return f"{_HOST}:{os.getpid()}:{kind}{uuid.uuid4().hex[:8]}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(record: TrialRecord, now: float, interval: float = HEARTBEAT_INTERVAL) -> bool:
    """Whether a RUNNING trial's worker is gone.

    It is when the record names no worker (written by an older version), when
    the worker's process no longer exists on this host (or, in this process, its
    ledger is closed), or when its heartbeat is older than :data:`STALE_AFTER`
    heartbeat intervals (workers on other hosts; their clocks must agree to
    within that margin). A trial asked (``Study.ask``) by a live process of this
    host is never stale: its asker may evaluate it for as long as it likes.
    """
    if record.driver is None:
        return True
    beat = record.heartbeat_at if record.heartbeat_at is not None else record.started_at
    return not driver_alive(record.driver, beat, now, interval)


def driver_alive(
    driver: str, beat: float | None, now: float, interval: float = HEARTBEAT_INTERVAL
) -> bool:
    """Whether the worker ``driver`` (``host:pid:token``), last heard of at ``beat``,
    is alive: on this host, while its process runs (in this process, while its
    ledger is open; an asker, for as long as its process lives); from another
    host, while its heartbeat is younger than :data:`STALE_AFTER` intervals."""
    host, _, rest = driver.partition(":")
    pid_text, _, token = rest.partition(":")
    if host == _HOST and pid_text == str(os.getpid()):
        return driver in _LIVE_DRIVERS  # an earlier ledger of ours is gone
    if host == _HOST and pid_text.isdigit():
        if not _process_alive(int(pid_text)):
            return False
        if token.startswith(ASKER):
            return True
    return beat is not None and beat >= now - STALE_AFTER * interval


@attrs.frozen
class Verdict:
    """How a trial ends, judged from its objective's :class:`Outcome` (see :func:`judge`).

    Attributes
    ----------
    state : TrialState
        The trial's final state.
    told : dict or None
        The metrics the sampler is told with that state.
    changes : dict
        The record's other fields to store (metrics, extras, error, ...).
    error : BaseException or None
        An error to raise once the trial is stored (the objective's, when it is
        not one the study catches; a result that is not the study's metrics).
    """

    state: TrialState
    told: dict[str, float | None] | None
    changes: dict[str, Any]
    error: BaseException | None = None


def judge(
    record: TrialRecord,
    outcome: Outcome,
    config: SamplerConfig,
    *,
    catch: tuple[type[BaseException], ...] = (Exception,),
    pruned_by_pruner: bool = False,
) -> Verdict:
    """The :class:`Verdict` on a trial whose objective returned or raised."""
    base = {"worker": outcome.worker, "finished_at": time.time()}
    value = outcome.value
    if outcome.ok:
        try:
            metrics, extra = split_result(value, config.optim_metrics)
            metrics.update(take_constraints(extra, config.constraints))
        except MetricsError as exc:
            return Verdict(TrialState.FAIL, None, {**base, "error": f"MetricsError: {exc}"}, exc)
        changes = {"metrics": [*record.metrics, metrics], "extra": extra, "error": None}
        return Verdict(TrialState.COMPLETE, metrics, {**base, **changes})
    if isinstance(value, TrialPruned):
        state = TrialState.PRUNED_POOR_PERFORMANCE if pruned_by_pruner else TrialState.PRUNED
        return Verdict(state, record.final_metrics, {**base, "error": None})
    error = outcome.traceback or f"{type(value).__name__}: {value}"
    raised = None if isinstance(value, catch) else value
    return Verdict(TrialState.FAIL, None, {**base, "error": error}, raised)


class PrunerFeed:
    """What the study's pruner has been told: every stored report and end, once."""

    def __init__(self, pruner: BasePruner | None) -> None:
        self.pruner = pruner
        self.said: set[int] = set()  # trials the pruner told to stop
        self._reports: dict[int, int] = {}  # reports of each trial the pruner has seen
        self._ends: set[int] = set()  # finished trials the pruner has seen end

    def feed(self, records: Iterable[TrialRecord]) -> None:
        """Give the pruner the stored reports and ends it has not seen yet."""
        pruner = self.pruner
        if pruner is None:
            return
        for record in records:
            seen = self._reports.get(record.trial_id, 0)
            if len(record.intermediate) < seen:  # a re-run started its curve again
                seen = 0
            for step, metrics in record.intermediate[seen:]:
                pruner.report(record.trial_id, step, metrics.get(pruner.metric))
            self._reports[record.trial_id] = len(record.intermediate)
            if record.state.is_finished and record.trial_id not in self._ends:
                self._ends.add(record.trial_id)
                final = record.final_metrics or {}
                pruner.finish(record.trial_id, record.state, final.get(pruner.metric))

    def restart(self, trial_id: int) -> None:
        """A trial runs again: its curve starts from scratch."""
        self._reports.pop(trial_id, None)

    def ended(self, record: TrialRecord) -> None:
        """This worker's trial ended."""
        self.said.discard(record.trial_id)
        self.feed([record])

    def should_prune(self, trial_id: int) -> bool:
        """The pruner's decision on a running trial (remembered when it says stop)."""
        if self.pruner is None:
            return False
        decision = bool(self.pruner.prune(trial_id))
        if decision:
            self.said.add(trial_id)
        return decision


class Ledger:
    """One worker's account of a study: its trials' states, its running trials, its sampler.

    Parameters
    ----------
    study : RunnerStudy
        The study (its name, storage, definition and stop flag).
    sampler : BaseSampler
        The sampler, already resumed from ``records``.
    records : sequence of TrialRecord
        Every stored trial, read once after ``revision``.
    revision : int
        The study's storage revision read just before ``records``.
    n_trials : int, optional
        The study's total (finished trials of every worker); ``None``: no total.
    skip_duplicates : bool
        Mark a config already tried PRUNED_DUPLICATE and sample again.
    heartbeat_interval : float
        Seconds between heartbeats; a trial of another worker is stale after
        :data:`STALE_AFTER` of them.
    pruner : BasePruner, optional
        The study's pruner.
    driver : str, optional
        This worker's id (default: a new :func:`driver_id`).
    """

    def __init__(
        self,
        study: RunnerStudy,
        sampler: BaseSampler,
        records: Sequence[TrialRecord],
        *,
        revision: int = 0,
        n_trials: int | None = None,
        skip_duplicates: bool = False,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        pruner: BasePruner | None = None,
        driver: str | None = None,
    ) -> None:
        self.study = study
        self.storage = study.storage
        self.sampler = sampler
        self.n_trials = n_trials
        self.skip_duplicates = skip_duplicates
        self.interval = heartbeat_interval
        self.driver = driver or driver_id()
        self.leased = False
        self.skew_noted: set[int] = set()  # trials whose clock skew was reported
        self.states = StateTable()  # every trial's state, one byte each
        self.finished = 0
        self.waiting: dict[int, TrialRecord] = {}  # to (re-)run: WAITING, FAIL_RECOVERABLE
        self.others: dict[int, TrialRecord] = {}  # RUNNING under other workers
        self.running: dict[int, TrialRecord] = {}  # this worker's trials in flight, by id
        self.seen: set[bytes] = set()
        self.exhausted = False
        self.synced = revision  # the storage revision this worker has seen
        self.pruning = PrunerFeed(pruner)
        self.absorb(records)
        self.pruning.feed(records)

    # -- alive or not ------------------------------------------------------------------

    def open(self, lease: bool = False) -> None:
        """This worker is alive: its RUNNING trials are not stale to this process;
        ``lease``: it takes a lease on the study (renewed by :meth:`beat`), so that
        it counts as alive between trials too (``hposampler delete`` refuses then)."""
        _LIVE_DRIVERS.add(self.driver)
        self.leased = lease
        if lease:
            self.storage.heartbeat(self.study.name, self.driver, time.time())

    def close(self) -> None:
        """This worker is gone: its RUNNING trials may be taken over, its lease is
        dropped."""
        _LIVE_DRIVERS.discard(self.driver)
        if self.leased:
            self.leased = False
            try:
                self.storage.release(self.study.name, self.driver)
            except HposamplerError as exc:  # the study is gone, the storage down: it lapses
                logger.debug("lease of %s not released: %s", self.driver, exc)

    # -- what the storage says ---------------------------------------------------------

    def absorb(self, records: Iterable[TrialRecord]) -> None:
        """Take stored rows into account (counts, waiting and foreign running trials)."""
        for record in records:
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

    def refresh(self, force: bool = False) -> None:
        """Learn what other workers wrote since the last look (one query when nothing).

        Rows written since then by this worker alone are known already; only when
        another writer's row is among them are those rows loaded (incrementally).
        """
        revision, foreign = self.storage.changes(self.study.name, self.synced, self.driver)
        if not (foreign or force):
            self.synced = revision
            return
        rows = self.storage.load_trials(self.study.name, after_revision=self.synced)
        self.synced = revision
        if not force:  # this worker's own rows among them are known already
            rows = [r for r in rows if r.driver != self.driver]
        self.absorb(rows)
        self.pruning.feed(r for r in rows if r.trial_id not in self.running)
        self.sampler.sync_trials([r.trial for r in rows])

    def take_over_stale(self) -> None:
        """Claim RUNNING trials whose worker is gone; they re-run here."""
        now = time.time()
        for record in list(self.others.values()):
            if not is_stale(record, now, self.interval):
                self._warn_if_ahead(record, now)
                continue
            claimed = record.evolve(state=TrialState.WAITING, driver=self.driver)
            if self.cas(claimed, record):
                logger.warning(
                    "study %s: trial %d of %s looks dead; re-running it here",
                    self.study.name, record.trial_id, record.driver,
                )  # fmt: skip
                self.others.pop(record.trial_id, None)
                self.waiting[record.trial_id] = claimed

    def _warn_if_ahead(self, record: TrialRecord, now: float) -> None:
        """Say once per trial when another machine's heartbeat is in this one's future.

        Such a trial only looks stale once this clock has caught up with that one
        and then ``STALE_AFTER`` intervals more; waiting on it silently looks like
        a hang.
        """
        beat = record.heartbeat_at
        if beat is None or beat <= now + self.interval or record.trial_id in self.skew_noted:
            return
        self.skew_noted.add(record.trial_id)
        host = (record.driver or "?").partition(":")[0]
        logger.warning(
            "study %s: trial %d runs on %s, whose last heartbeat is %.0f s in this machine's "
            "future: its clock is ahead by at least that much. This worker waits for that "
            "trial until its heartbeat is %.0f s old by this clock; if %s is gone, that is "
            "%.0f s from now. Synchronise the clocks (NTP).",
            self.study.name, record.trial_id, host, beat - now, STALE_AFTER * self.interval,
            host, beat - now + STALE_AFTER * self.interval,
        )  # fmt: skip

    def beat(self) -> None:
        """Stamp a heartbeat on this worker's RUNNING trials."""
        when = time.time()
        self.storage.heartbeat(self.study.name, self.driver, when)
        for trial_id, record in self.running.items():
            self.running[trial_id] = record.evolve(heartbeat_at=when)

    # -- every state change goes through here ------------------------------------------

    def cas(self, new: TrialRecord, old: TrialRecord) -> bool:
        """Store ``new`` if the stored trial is still ``old`` (compare and set)."""
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
        if not self.cas(new, record):
            logger.warning(
                "study %s: trial %d was taken over by another worker; this result is dropped",
                self.study.name, record.trial_id,
            )  # fmt: skip
            return None
        if tell:
            self.sampler.update_trial(record.trial_id, told, state)
        return new

    def conclude(self, record: TrialRecord, verdict: Verdict) -> TrialRecord | None:
        """Store a running trial's :class:`Verdict` and tell the sampler and the pruner;
        the stored record, or ``None`` when it was taken over meanwhile."""
        self.running.pop(record.trial_id, None)
        done = self.settle(record, verdict.state, verdict.told, **verdict.changes)
        if done is not None:
            self.pruning.ended(done)
        return done

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

    # -- choosing the next trial -------------------------------------------------------

    def counted(self) -> int:
        """Trials that count towards the total as this worker knows them: finished ones,
        running ones (its own and others') and those waiting to run."""
        return self.finished + len(self.running) + len(self.others) + len(self.waiting)

    def full(self) -> bool:
        """Whether the study's total is reached as this worker knows it."""
        return self.n_trials is not None and self.counted() >= self.n_trials

    def next_trial(self) -> TrialRecord | None:
        """A WAITING trial to re-run, or a newly sampled one, stored RUNNING under this
        worker and kept in :attr:`running`; ``None`` when the study's total is reached
        or the sampler has nothing more."""
        while True:
            started = self._start_waiting()
            if started is not None:
                break
            self.refresh()
            if self.waiting:  # other workers left (or enqueued) trials to run
                continue
            if self.full():
                return None
            started = self._sample()
            if started is None and self.waiting and not self.exhausted:
                continue  # a lost race showed trials left to run: run them first
            if started is None:
                return None
            break
        self.running[started.trial_id] = started
        return started

    def _start_waiting(self) -> TrialRecord | None:
        while self.waiting:
            record = self.waiting.pop(min(self.waiting))
            now = time.time()
            started = record.evolve(
                state=TrialState.RUNNING, attempts=record.attempts + 1, started_at=now,
                heartbeat_at=now, driver=self.driver, intermediate=[],
            )  # fmt: skip
            self.pruning.restart(record.trial_id)  # a re-run reports from scratch
            if self.cas(started, record):  # else another worker claimed it first: not ours
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
                if self.waiting or self.full():
                    return None
                races += 1
                self._check_races(trial_id, races)
                continue
            if not duplicate:
                if self.skip_duplicates:
                    self.seen.add(config_digest(config))
                return record
            self.sampler.update_trial(trial_id, None, TrialState.PRUNED_DUPLICATE)
            duplicates += 1
            if duplicates >= MAX_CONSECUTIVE_DUPLICATES:
                logger.warning(
                    "study %s: %d duplicate configs in a row; the space looks used up",
                    self.study.name, duplicates,
                )  # fmt: skip
                self.exhausted = True
                return None

    def _check_races(self, trial_id: int, races: int) -> None:
        if races >= MAX_ID_RACES:
            raise StudyError(
                f"study {self.study.name!r}: other workers took trial id {trial_id} "
                f"{races} times in a row; is the storage {self.storage.url} healthy?"
            )

    # -- requests from running objectives ----------------------------------------------

    def request(self, message: Request) -> Any:
        """Answer one request of this worker's running trial (``False`` when it is not
        running here any more: nothing is stored)."""
        record = self.running.get(message.trial_id)
        if record is None:  # ended or abandoned: nothing to store
            return False
        if isinstance(message, ShouldPrune):
            if self.pruning.pruner is None or not record.intermediate:
                return False
            self.refresh()  # other workers' latest reports (one query when nothing changed)
            return self.pruning.should_prune(message.trial_id)
        if isinstance(message, StopStudy):
            self.study.stop()
            return True
        if isinstance(message, SetUserAttr):
            new = record.evolve(user_attrs={**record.user_attrs, message.key: message.value})
        elif isinstance(message, Report):
            new = self._reported(record, message)
        else:
            raise StudyError(f"unknown request {message!r} from trial {record.trial_id}")
        if not self.cas(new, record):  # taken over by another worker: its result is
            return False  # dropped at the end too (settle), so nothing is stored now
        self.running[record.trial_id] = new
        if isinstance(message, Report):
            self.sampler.report(record.trial_id, new.intermediate[-1][0], new.metrics[-1])
            self.pruning.feed([new])  # the pruner learns the new report
        return True

    def _reported(self, record: TrialRecord, message: Report) -> TrialRecord:
        step, metrics = check_report(
            message.step, message.metrics, self.study.config.optim_metrics, record.last_step
        )
        return record.evolve(
            intermediate=[*record.intermediate, (step, metrics)],
            metrics=[*record.metrics, metrics],
        )
