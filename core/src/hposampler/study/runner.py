"""The dispatcher behind :meth:`Study.optimize <hposampler.Study.optimize>`.

A :class:`Runner` keeps at most ``concurrency`` trials in flight on an
:class:`~hposampler.study.executors.Executor`: it starts the trials its
:class:`~hposampler.study.ledger.Ledger` hands out, answers their objectives'
requests (reports, pruning questions), stamps heartbeats, enforces deadlines,
runs short trials inline, retries trials the executor lost and blames the one
that killed a worker. Whatever it decides reaches the storage through the
ledger, which is also what :meth:`Study.ask <hposampler.Study.ask>` stands on;
how workers share a study is explained there (:mod:`hposampler.study.ledger`).
"""

from __future__ import annotations

import concurrent.futures
import logging
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from hposampler.errors import HposamplerError
from hposampler.pruning import BasePruner
from hposampler.samplers.base import BaseSampler
from hposampler.samplers.trial import TrialState
from hposampler.storage import TrialRecord
from hposampler.study.channels import ChannelLost, Channels, Hub
from hposampler.study.executors import MAX_ATTEMPTS, Executor
from hposampler.study.ledger import (
    HEARTBEAT_INTERVAL,
    MAX_CONSECUTIVE_DUPLICATES,
    STALE_AFTER,
    Ledger,
    RunnerStudy,
    driver_id,
    is_stale,
    judge,
)
from hposampler.study.messages import Outcome, Reply, Request, error_reply
from hposampler.study.objective import Objective, TrialHandle, run_objective, wants_trial

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

S = TypeVar("S", bound=RunnerStudy)

#: ``callback(study, record)``, called after each trial is stored as finished.
Callback = Callable[[S, TrialRecord], None]

#: The longest wait between looks at the storage while only other workers' trials run
#: (each look is one revision query when nothing changed); shorter when this worker's
#: own trials are short (a quarter of their typical time, at least
#: :data:`OTHERS_POLL_MIN`), so a study of short trials ends soon after its last one.
OTHERS_POLL = 0.05
OTHERS_POLL_MIN = 0.001

#: Seconds past ``trial_timeout`` the runner waits for a worker process to interrupt a
#: late objective itself before abandoning the trial.
TIMEOUT_GRACE = 5.0

#: With ``concurrency=1`` on an executor whose capabilities allow it and no
#: ``trial_timeout``, trials run in the runner's own thread once this many in a row
#: each took under :data:`INLINE_UNDER` heartbeat intervals: a short objective then
#: costs no thread hand-off. A trial that turns out long goes back to the executor
#: (whose wait lets the runner keep stamping heartbeats) from the next trial on.
INLINE_AFTER = 3

#: The fraction of ``heartbeat_interval`` under which a trial counts as short.
INLINE_UNDER = 0.1

Future = concurrent.futures.Future[Any]


class _DirectChannel:
    """Requests of an objective that runs in the runner's thread: answered at once."""

    def __init__(self, runner: Runner[Any]) -> None:
        self.runner = runner

    def call(self, message: Request) -> Reply:
        """Answer ``message`` here and now."""
        replies: list[Reply] = []
        self.runner.answer(message, replies.append)
        return replies[0]


class _Flight:
    """One ``optimize`` call's trials in flight: futures, deadlines, channels, clocks."""

    def __init__(self, pool: Executor, channels: Channels | None, timeout: float | None):
        self.pool = pool
        self.channels = channels
        self.futures: dict[Future, int] = {}  # -> trial id (the ledger's running trials)
        self.late: dict[Future, float] = {}  # trial_timeout deadlines
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.expired = False  # the study's timeout passed: start no trial
        self.next_beat = 0.0

    def retire(self, future: Future) -> int:
        """Take a trial out of flight (its channel too); its id."""
        trial_id = self.futures.pop(future)
        self.late.pop(future, None)
        if self.channels is not None:
            self.channels.release(trial_id)
        return trial_id


class Runner(Generic[S]):
    """One :meth:`Study.optimize` call: scheduling, retries and deadlines on a ledger.

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
        self.ledger = Ledger(
            study, sampler, records, revision=revision, skip_duplicates=skip_duplicates,
            heartbeat_interval=heartbeat_interval, pruner=pruner,
        )  # fmt: skip
        self.sampler = sampler
        self.objective = objective
        self.pass_trial = wants_trial(objective)
        self.catch = catch
        self.callbacks = callbacks
        self.max_attempts = max_attempts
        self.interval = heartbeat_interval
        self.trial_timeout = trial_timeout
        self.abandoned = 0  # trials given up after trial_timeout (threads still running)
        # trials lost together when a worker died: one of them killed it, so they re-run
        # one at a time until each either finishes or dies alone (then it is to blame)
        self.suspects: set[int] = set()
        self.fast = 0  # trials in a row that took under INLINE_UNDER seconds
        self.typical: float | None = None  # smoothed seconds of this worker's trials
        self.hub = Hub()  # reports and pruning questions from running objectives

    # -- requests from running objectives -----------------------------------------------

    def answer(self, message: Request, reply: Callable[[Reply], None]) -> None:
        """Answer one request of a running objective (driver thread); never raises."""
        try:
            reply(Reply(self.ledger.request(message)))
        except HposamplerError as exc:
            reply(error_reply(exc))
        except Exception as exc:  # a broken pruner must not leave the objective waiting
            logger.exception("study %s: request %r failed", self.study.name, message)
            reply(error_reply(exc))

    # -- outcomes -----------------------------------------------------------------------

    def finish(self, record: TrialRecord, outcome: Outcome) -> None:
        """Settle a trial whose objective returned or raised."""
        verdict = judge(
            record, outcome, self.study.config, catch=self.catch,
            pruned_by_pruner=record.trial_id in self.ledger.pruning.said,
        )  # fmt: skip
        done = self.ledger.conclude(record, verdict)
        if verdict.error is not None:
            raise verdict.error
        if verdict.state == TrialState.FAIL:
            value = outcome.value
            logger.warning(
                "study %s: trial %d failed: %s: %s", self.study.name, record.trial_id,
                type(value).__name__, value,
            )  # fmt: skip
        self._ended(done)

    def _ended(self, done: TrialRecord | None) -> None:
        if done is not None:
            for callback in self.callbacks:
                callback(self.study, done)

    def abandon(self, record: TrialRecord, future: Future) -> None:
        """A trial ran past ``trial_timeout`` and could not be interrupted: FAIL it."""
        future.cancel()
        self.abandoned += 1
        error = (
            f"TrialTimeout: the objective ran longer than trial_timeout="
            f"{self.trial_timeout:g} s; the trial was abandoned (a thread cannot be "
            "interrupted: it may still be running, and its result is ignored)"
        )
        logger.warning("study %s: trial %d: %s", self.study.name, record.trial_id, error)
        self.ledger.running.pop(record.trial_id, None)
        done = self.ledger.settle(record, TrialState.FAIL, error=error, finished_at=time.time())
        if done is not None:
            self.ledger.pruning.ended(done)
        self._ended(done)

    def lost(self, record: TrialRecord, exc: BaseException, alone: bool = True) -> None:
        """The executor lost a trial (e.g. a dead worker): retry it, up to a limit.

        ``alone`` says whether it was the only trial in flight when it was lost. A
        trial lost with others (every trial of a pool fails when one worker dies)
        re-runs alone before a limit applies, so an innocent trial never fails for
        another one's crash.
        """
        self.ledger.running.pop(record.trial_id, None)
        error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(exc, ChannelLost):
            alone = False  # not the trial's fault: it re-runs without counting
            error = f"ChannelLost: {exc}; it runs again\n"
        if _broken_pool(exc):
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
            self.ledger.settle(record, TrialState.FAIL, error=error, finished_at=time.time())
            return
        again = self.ledger.settle(record, TrialState.FAIL_RECOVERABLE, error=error)
        if again is not None:
            self.ledger.waiting[again.trial_id] = again
        else:
            self.suspects.discard(record.trial_id)

    # -- the loop -----------------------------------------------------------------------

    def loop(self, pool: Executor, n_trials: int, concurrency: int, timeout: float | None) -> None:
        """Run trials until the study has ``n_trials`` finished ones (or time/space runs out)."""
        ledger = self.ledger
        ledger.n_trials = n_trials
        flight = _Flight(pool, pool.channels(self.hub) if self.pass_trial else None, timeout)
        flight.next_beat = time.monotonic() + self.interval
        # one trial at a time, in-process, without a time limit: once trials prove short,
        # run them here instead (no hand-off to a thread and back, see INLINE_UNDER)
        may_inline = concurrency == 1 and self.trial_timeout is None and pool.capabilities.inline
        try:
            ledger.open(lease=True)
            ledger.take_over_stale()
            while True:
                self._start_trials(flight, concurrency, may_inline)
                waiting_on_others = self._waiting_on_others(flight)
                if not flight.futures and not waiting_on_others:
                    return
                done = self._wait(flight, waiting_on_others)
                self._collect(flight, done)
        except BaseException:
            # Ctrl-C or a re-raised objective error: this worker's running trials go back
            # to WAITING so that the next run (or another worker) re-runs them -- every
            # one the ledger holds, including one stored RUNNING whose objective was not
            # handed to the pool yet when the interrupt came
            for future in flight.futures:
                future.cancel()
            while ledger.running:
                _, record = ledger.running.popitem()
                ledger.settle(record, TrialState.WAITING, tell=False)
            raise
        finally:
            ledger.close()
            for _, reply in self.hub.drain():  # nobody will store these any more
                reply(Reply(False))
            if flight.channels is not None:
                flight.channels.close()

    def _may_start(self, flight: _Flight, concurrency: int) -> bool:
        ledger = self.ledger
        n_trials = ledger.n_trials or 0
        return (
            not ledger.exhausted
            and not flight.expired
            and not self.study.stopping
            and len(flight.futures) < (1 if self.suspects else concurrency)
            and ledger.finished + len(flight.futures) + len(ledger.others) < n_trials
        )

    def _start_trials(self, flight: _Flight, concurrency: int, may_inline: bool) -> None:
        """Start trials until the concurrency or the study's total is reached."""
        while self._may_start(flight, concurrency):
            record = self.ledger.next_trial()
            if record is None:
                return
            if may_inline and self.fast >= INLINE_AFTER and not self.suspects:
                handle = TrialHandle(record.trial_id, record.config, record.attempts,
                                     _DirectChannel(self) if self.pass_trial else None)  # fmt: skip
                future: Future = concurrent.futures.Future()
                flight.futures[future] = record.trial_id
                future.set_running_or_notify_cancel()
                future.set_result(run_objective(self.objective, handle, self.pass_trial))
                return  # settle it before the next one
            channel = flight.channels.for_trial(record.trial_id) if flight.channels else None
            handle = TrialHandle(record.trial_id, record.config, record.attempts, channel)
            future = flight.pool.submit(
                run_objective, self.objective, handle, self.pass_trial, self.trial_timeout
            )
            flight.futures[future] = record.trial_id
            if self.trial_timeout is not None:
                # a worker process interrupts the objective itself; give it time
                grace = TIMEOUT_GRACE if flight.pool.capabilities.interrupts_trials else 0
                flight.late[future] = time.monotonic() + self.trial_timeout + grace

    def _waiting_on_others(self, flight: _Flight) -> bool:
        """Whether only other workers' trials stand between this call and the total."""
        ledger = self.ledger
        return bool(
            not flight.futures
            and ledger.others
            and not ledger.exhausted
            and not self.study.stopping
            and not flight.expired
            and ledger.finished < (ledger.n_trials or 0)
        )

    def _wait(self, flight: _Flight, waiting_on_others: bool) -> set[Future]:
        """Wait for a trial, a request, a heartbeat or a deadline; do what is due."""
        now = time.monotonic()
        wait_for = max(0.0, flight.next_beat - now)
        if waiting_on_others:  # poll for the others' results
            wait_for = min(wait_for, others_poll(self.typical))
        if flight.deadline is not None:
            wait_for = min(wait_for, max(0.0, flight.deadline - now))
        if flight.late:
            wait_for = min(wait_for, max(0.0, min(flight.late.values()) - now))
        # requests from objectives wake the loop too (only objectives with a handle)
        awaited = [*flight.futures, self.hub.wake] if flight.channels else list(flight.futures)
        done: set[Future] = set()
        if awaited:
            done, _ = concurrent.futures.wait(
                awaited, timeout=wait_for, return_when=concurrent.futures.FIRST_COMPLETED
            )
        else:  # nothing of ours runs: wait for the other workers (wait([]) won't)
            time.sleep(wait_for)
        for message, reply in self.hub.drain():
            self.answer(message, reply)
        if flight.deadline is not None and time.monotonic() >= flight.deadline:
            flight.deadline = None  # stop starting trials; wait for the running ones
            flight.expired = self.ledger.exhausted = True
        if time.monotonic() >= flight.next_beat:
            flight.next_beat = time.monotonic() + self.interval
            self.ledger.beat()  # renews the lease even between trials
            self.ledger.take_over_stale()
        if waiting_on_others:
            self.ledger.refresh()
            self.ledger.take_over_stale()
        return done

    def _collect(self, flight: _Flight, done: set[Future]) -> None:
        """Settle the finished trials; abandon the late ones."""
        running = self.ledger.running
        for future in [f for f, when in flight.late.items() if when <= time.monotonic()]:
            if future not in done:
                self.abandon(running[flight.retire(future)], future)
        lost_with: dict[int, int] = {}  # id(exception) -> trials in flight then
        for future in done:
            if future not in flight.futures:  # the hub's wake-up, or abandoned
                continue
            try:
                outcome = future.result()  # Ctrl-C here: the trial goes back to WAITING
            except (Exception, ChannelLost) as exc:  # the executor lost the trial
                # the futures one failure breaks share its exception: count them once
                together = lost_with.setdefault(id(exc), len(flight.futures))
                self.lost(running[flight.retire(future)], exc, alone=together == 1)
                continue
            record = running[flight.retire(future)]
            self.suspects.discard(record.trial_id)
            took = time.time() - (record.started_at or 0.0)
            self.fast = self.fast + 1 if took < INLINE_UNDER * self.interval else 0
            self.typical = took if self.typical is None else 0.8 * self.typical + 0.2 * took
            self.finish(record, outcome)


def others_poll(typical: float | None) -> float:
    """Seconds between looks at the storage while only other workers' trials run, for a
    worker whose own trials typically take ``typical`` seconds (``None``: none yet)."""
    if typical is None:
        return OTHERS_POLL
    return max(OTHERS_POLL_MIN, min(typical / 4, OTHERS_POLL))


def _broken_pool(exc: BaseException) -> bool:
    """A dead worker process (its pool's module is imported only where pools run)."""
    process = sys.modules.get("concurrent.futures.process")
    return process is not None and isinstance(exc, process.BrokenProcessPool)
