"""Ask and tell: a study driven by the caller's own loop, on the same ledger as ``optimize``.

:meth:`Study.ask <hposampler.Study.ask>` hands out a trial (a WAITING one first,
else a sampled one) stored RUNNING under this study object;
:meth:`Study.tell <hposampler.Study.tell>` stores its result. Both go through a
:class:`~hposampler.study.ledger.Ledger`, exactly as ``optimize`` does, so they
share a study with ``optimize`` workers and with each other across processes
and machines:

* a trial may be told by another process (``Study.load(...).tell(trial_id,
  ...)``): the tell is a compare-and-set on the stored row, so a trial is told
  once;
* a trial asked and never told is taken over like any stale trial: on the
  asker's host when the asking process is gone (a live asker's trial is never
  stale there, however long it runs); from other hosts when its heartbeat is
  older than :data:`~hposampler.study.ledger.STALE_AFTER` intervals. A study
  object stamps heartbeats on its asked trials whenever it is used (``ask``,
  ``tell``, ``trial.report``, ...) and at least an interval has passed.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from hposampler.errors import HposamplerError, StudyError
from hposampler.samplers.trial import TrialState
from hposampler.storage import TrialRecord
from hposampler.study.ledger import (
    ASKER,
    HEARTBEAT_INTERVAL,
    Ledger,
    RunnerStudy,
    Verdict,
    driver_id,
    judge,
)
from hposampler.study.messages import Outcome, Reply, Request, error_reply
from hposampler.study.objective import TrialHandle, split_result, take_constraints
from hposampler.study.records import RecordReader
from hposampler.study.warmstart import warm_history

__all__ = ["TELL_STATES", "AskTell", "resumed_ledger"]

#: Compare-and-set attempts of a tell whose trial's heartbeat keeps changing under it.
MAX_TELL_RACES = 10

#: The states :meth:`AskTell.tell` accepts.
TELL_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def resumed_ledger(study: RunnerStudy, reader: RecordReader, budget: int | None = None) -> Ledger:
    """The ledger ``ask`` runs on, its sampler resumed from every stored trial (and
    told the study's planned ``budget``, for budget-aware samplers)."""
    revision = study.storage.revision(study.name)  # before the rows: nothing is missed
    records = reader.read()
    pruner = study.config.create_pruner()
    warm = warm_history(study.storage, study.config)
    sampler = study.config.create(
        trials=[*warm, *(r.trial for r in records)], pruner=pruner, budget=budget
    )
    return Ledger(
        study, sampler, records, revision=revision, pruner=pruner, driver=driver_id(ASKER),
        n_trials=budget,
    )  # fmt: skip


class _AskChannel:
    """Requests of an asked trial's handle, answered by the study object that asked."""

    def __init__(self, owner: AskTell) -> None:
        self.owner = owner

    def call(self, message: Request) -> Reply:
        """Answer now, in the caller's thread."""
        return self.owner.answer(message)


class AskTell:
    """The ask/tell side of one study object.

    Parameters
    ----------
    study : RunnerStudy
        The study.
    make_ledger : callable
        Builds the ledger (and its sampler, resumed from every stored trial) on
        the first :meth:`ask`; a process that only tells never builds one.
    heartbeat_interval : float
        Seconds between heartbeats on asked trials.
    """

    def __init__(
        self,
        study: RunnerStudy,
        make_ledger: Callable[[int | None], Ledger],
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
    ) -> None:
        self.study = study
        self._make_ledger = make_ledger
        #: The study's planned total of trials (``Study.ask(budget=...)``), told to the
        #: sampler when it is built on the first ask; ``ask`` stops at it.
        self.budget: int | None = None
        self._ledger: Ledger | None = None
        self._lock = threading.RLock()
        self._interval = heartbeat_interval
        self._last_beat = 0.0

    def _open(self) -> Ledger:
        if self._ledger is None:
            ledger = self._make_ledger(self.budget)
            ledger.open()
            # this object's asked trials are stale to this process once it is gone
            weakref.finalize(self, ledger.close)
            self._ledger = ledger
        return self._ledger

    def _beat_if_due(self) -> None:
        ledger = self._ledger
        if (
            ledger is not None
            and ledger.running
            and time.time() - self._last_beat >= self._interval
        ):
            ledger.beat()
            self._last_beat = time.time()

    # -- ask ----------------------------------------------------------------------------

    def ask(self) -> TrialHandle:
        """The next trial to evaluate, stored RUNNING (see :meth:`Study.ask`)."""
        with self._lock:
            ledger = self._open()
            ledger.n_trials = self.budget  # a total for every worker: exact, as optimize's
            self._beat_if_due()
            ledger.take_over_stale()
            record = ledger.next_trial()
            if record is None and ledger.full() and self._forget_told_elsewhere(ledger):
                record = ledger.next_trial()
            if record is None and ledger.full():
                raise StopIteration(
                    f"study {self.study.name!r} holds its budget of {self.budget} trials "
                    "(finished, running or waiting, every worker's)"
                )
            if record is None:
                raise StopIteration(
                    f"study {self.study.name!r}: sampler {self.study.config.sampler!r} has "
                    "no more configs to propose"
                )
            if len(ledger.running) == 1:
                self._last_beat = record.heartbeat_at or time.time()
            return TrialHandle(record.trial_id, record.config, record.attempts, _AskChannel(self))

    def _forget_told_elsewhere(self, ledger: Ledger) -> bool:
        """Take in this object's asked trials that were told through another study
        object (their rows say so: they no longer count as running here); whether
        there were any. Read only when the budget looks reached."""
        if not ledger.running:
            return False
        rows = {r.trial_id: r for r in self.study.storage.load_trials(self.study.name)}
        gone = [
            rows[trial_id] for trial_id in list(ledger.running)
            if trial_id in rows and (rows[trial_id].state != TrialState.RUNNING
                                     or rows[trial_id].driver != ledger.driver)
        ]  # fmt: skip
        for row in gone:
            ledger.running.pop(row.trial_id)
        ledger.absorb(gone)
        ledger.sampler.sync_trials([row.trial for row in gone])
        return bool(gone)

    def answer(self, message: Request) -> Reply:
        """Answer a request of an asked trial's handle (report, should_prune, ...)."""
        with self._lock:
            if self._ledger is None:
                return Reply(False)
            self._beat_if_due()
            try:
                return Reply(self._ledger.request(message))
            except HposamplerError as exc:
                return error_reply(exc)

    # -- tell ---------------------------------------------------------------------------

    def tell(
        self, trial: TrialHandle | int, result: Any, state: TrialState | int | None
    ) -> TrialRecord:
        """Store a trial's result or final state (see :meth:`Study.tell`)."""
        trial_id = _trial_id(trial)
        told_state = _tell_state(result, state)
        with self._lock:
            self._beat_if_due()
            ledger = self._ledger
            record = ledger.running.get(trial_id) if ledger is not None else None
            if record is None:
                record = self._running_record(trial_id)
            verdict = self._verdict(record, result, told_state)
            if ledger is not None and trial_id in ledger.running:
                done = ledger.conclude(record, verdict)
                if done is None:
                    self._running_record(trial_id)  # raises what happened to it
            else:
                done = self._claim(record, verdict)
            if done is None:  # pragma: no cover - taken over and re-asked between two reads
                raise StudyError(
                    f"study {self.study.name!r}: trial {trial_id} was taken over while it "
                    "was told; this result is not stored"
                )
            return done

    def _claim(self, record: TrialRecord, verdict: Verdict) -> TrialRecord | None:
        """Store a verdict on another worker's (or process's) trial by compare-and-set;
        a heartbeat stamped meanwhile is read again (a few times)."""
        storage, name = self.study.storage, self.study.name
        for _ in range(MAX_TELL_RACES):
            new = record.evolve(state=verdict.state, **verdict.changes)
            if storage.claim_trial(name, new, record):
                return new
            record = self._running_record(record.trial_id)  # raises unless still RUNNING
        return None

    def _verdict(self, record: TrialRecord, result: Any, state: TrialState) -> Verdict:
        worker = f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"
        if state == TrialState.COMPLETE:
            config = self.study.config
            # checked before anything is stored: a wrong result can be told again
            _, extra = split_result(result, config.optim_metrics)
            take_constraints(dict(extra), config.constraints)
            return judge(record, Outcome(True, result, "", worker), config)
        changes: dict[str, Any] = {"worker": worker, "finished_at": time.time(), "error": None}
        if state == TrialState.FAIL:
            changes["error"] = "TrialFailed: told FAIL by Study.tell()"
            return Verdict(state, None, changes)
        return Verdict(state, record.final_metrics, changes)

    def _running_record(self, trial_id: int) -> TrialRecord:
        """The stored trial ``trial_id``, which must be RUNNING; else why it cannot be told."""
        name = self.study.name
        records = self.study.storage.load_trials(name)
        record = next((r for r in records if r.trial_id == trial_id), None)
        if record is None:
            raise StudyError(
                f"study {name!r} has no trial {trial_id} (it holds {len(records)}); tell the "
                "id of a trial that Study.ask() gave"
            )
        if record.state == TrialState.RUNNING:
            return record
        if record.state.is_finished:
            raise StudyError(
                f"study {name!r}: trial {trial_id} is {record.state.name} already; a trial "
                "is told once"
            )
        raise StudyError(
            f"study {name!r}: trial {trial_id} is {record.state.name}: its asker looked dead, "
            "so it was taken over and will run again; this result is not stored"
        )


def _trial_id(trial: TrialHandle | int) -> int:
    if isinstance(trial, TrialHandle):
        return trial.trial_id
    if isinstance(trial, bool) or not isinstance(trial, int) or trial < 0:
        raise StudyError(
            f"tell() takes the trial Study.ask() gave or its id (an int >= 0), got {trial!r}"
        )
    return trial


def _tell_state(result: Any, state: TrialState | int | None) -> TrialState:
    if state is None:
        if result is None:
            raise StudyError(
                "tell() needs the objective's result (a number or a dict of the metrics), "
                "or a state: TrialState.FAIL or TrialState.PRUNED"
            )
        return TrialState.COMPLETE
    try:
        chosen = TrialState(state)
    except ValueError:
        chosen = None
    if chosen is None or chosen not in TELL_STATES:
        names = ", ".join(s.name for s in TELL_STATES)
        raise StudyError(f"tell() takes the state {names}; got {state!r}")
    if chosen == TrialState.COMPLETE and result is None:
        raise StudyError("tell(..., state=COMPLETE) needs the result of the trial")
    if chosen != TrialState.COMPLETE and result is not None:
        raise StudyError(
            f"tell(..., state={chosen.name}) takes no result; a {chosen.name} trial keeps "
            "its last report, if any"
        )
    return chosen
