"""The scheduler behind :meth:`Study.optimize <hposampler.Study.optimize>`.

It keeps at most ``concurrency`` trials in flight on an executor and moves each
trial through its states. Every change goes through :meth:`Runner.settle`: the
storage commits it first, then the sampler hears of it, so a crash between the
two never leaves the sampler ahead of the storage. The runner keeps only the
trials in flight (and the ones waiting to re-run) in memory; the storage holds
the rest.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import MetricsError, StudyError
from .objective import Objective, TrialHandle, run_objective, split_result, wants_trial
from .sampler import BaseSampler
from .storage import TrialRecord
from .trial import TrialState

if TYPE_CHECKING:
    from .study import Study

__all__ = ["MAX_ATTEMPTS", "MAX_CONSECUTIVE_DUPLICATES", "Callback", "Runner"]

logger = logging.getLogger("hposampler.study")

Callback = Callable[["Study", TrialRecord], None]

#: Attempts at a trial whose executor keeps losing it (dead workers) before it is FAIL;
#: an executor with a ``max_attempts`` attribute overrides it.
MAX_ATTEMPTS = 3

#: Stop after this many duplicates in a row with ``skip_duplicates`` (the space is used up).
MAX_CONSECUTIVE_DUPLICATES = 100


def counts(record: TrialRecord) -> int:
    """1 if the trial counts towards the study's total (finished, not a duplicate)."""
    return int(record.state.is_finished and record.state != TrialState.PRUNED_DUPLICATE)


def config_digest(config: Mapping[str, Any]) -> bytes:
    """A 16-byte digest of a config's canonical JSON (for duplicate detection)."""
    text = json.dumps(config, sort_keys=True, default=repr).encode()
    return hashlib.blake2b(text, digest_size=16).digest()


class Runner:
    """One :meth:`Study.optimize` call: scheduling, retries and settling trials.

    Parameters
    ----------
    study : Study
        The study (its storage and definition).
    sampler : BaseSampler
        The sampler, already resumed from ``records``.
    objective : callable
        ``objective(config)`` or ``objective(config, trial)``.
    records : list of TrialRecord
        Every stored trial (read once; only unfinished ones are kept).
    """

    def __init__(
        self,
        study: Study,
        sampler: BaseSampler,
        objective: Objective,
        records: Sequence[TrialRecord],
        *,
        catch: tuple[type[BaseException], ...] = (Exception,),
        skip_duplicates: bool = False,
        callbacks: Sequence[Callback] = (),
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.study = study
        self.sampler = sampler
        self.objective = objective
        self.pass_trial = wants_trial(objective)
        self.catch = catch
        self.skip_duplicates = skip_duplicates
        self.callbacks = callbacks
        self.max_attempts = max_attempts
        self.waiting = [
            r for r in records if r.state in (TrialState.WAITING, TrialState.FAIL_RECOVERABLE)
        ]
        self.seen = {config_digest(r.config) for r in records} if skip_duplicates else set()
        self.exhausted = False
        self.finished = sum(counts(r) for r in records)

    # -- every state change goes through here ---------------------------------------

    def settle(
        self,
        record: TrialRecord,
        state: TrialState,
        told: dict[str, float | None] | None = None,
        *,
        tell: bool = True,
        **changes: Any,
    ) -> TrialRecord:
        """Store ``record`` in its new ``state``, then tell the sampler (unless ``tell=False``)."""
        new = record.evolve(state=state, **changes)
        self.study.storage.save_trial(self.study.name, new)
        self.finished += counts(new) - counts(record)
        if tell:
            self.sampler.update_trial(record.trial_id, told, state)
        return new

    def create(self, record: TrialRecord) -> None:
        """Store a newly sampled trial (before it exists anywhere else)."""
        if not self.study.storage.create_trial(self.study.name, record):
            self.sampler.unlock(drop=True)
            raise StudyError(
                f"trial {record.trial_id} of study {self.study.name!r} was stored meanwhile by "
                f"another process writing to {self.study.storage.url}; run one process per "
                "study at a time"
            )
        self.finished += counts(record)
        self.sampler.unlock(drop=False)

    # -- choosing the next trial ---------------------------------------------------

    def next_trial(self) -> TrialRecord | None:
        """A WAITING trial to re-run, or a newly sampled one (stored RUNNING)."""
        now = time.time()
        if self.waiting:
            record = self.waiting.pop(0)
            return self.settle(
                record, TrialState.RUNNING, tell=False, attempts=record.attempts + 1,
                started_at=now,
            )  # fmt: skip
        duplicates = 0
        while True:
            try:
                trial_id, config, internal = self.sampler.eager_sample()
            except StopIteration:
                self.exhausted = True
                return None
            digest = config_digest(config) if self.skip_duplicates else b""
            if self.skip_duplicates and digest in self.seen:
                record = TrialRecord(
                    trial_id, TrialState.PRUNED_DUPLICATE, config, internal=internal,
                    started_at=now, finished_at=now,
                )  # fmt: skip
                self.create(record)
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
            self.create(record)  # committed before the trial exists anywhere else
            if self.skip_duplicates:
                self.seen.add(digest)
            return record

    # -- outcomes -------------------------------------------------------------------

    def finish(self, record: TrialRecord, outcome: tuple[bool, Any, str, str]) -> None:
        """Settle a trial whose objective returned or raised."""
        ok, value, tb, worker = outcome
        now = time.time()
        if ok:
            try:
                metrics, extra = split_result(value, self.study.config.optim_metrics)
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
        for callback in self.callbacks:
            callback(self.study, done)

    def lost(self, record: TrialRecord, exc: BaseException) -> None:
        """The executor lost a trial (e.g. a dead worker): retry it, up to a limit."""
        error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if record.attempts >= self.max_attempts:
            self.settle(record, TrialState.FAIL, error=error, finished_at=time.time())
            return
        self.waiting.append(self.settle(record, TrialState.FAIL_RECOVERABLE, error=error))

    # -- the loop -------------------------------------------------------------------

    def loop(
        self,
        pool: concurrent.futures.Executor,
        n_trials: int,
        concurrency: int,
        timeout: float | None,
    ) -> None:
        """Run trials until the study has ``n_trials`` finished ones (or time/space runs out)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        in_flight: dict[concurrent.futures.Future[Any], TrialRecord] = {}
        try:
            while True:
                expired = deadline is not None and time.monotonic() >= deadline
                while (
                    not self.exhausted
                    and not expired
                    and len(in_flight) < concurrency
                    and self.finished + len(in_flight) < n_trials
                ):
                    record = self.next_trial()
                    if record is None:
                        break
                    handle = TrialHandle(record.trial_id, record.config, record.attempts)
                    future = pool.submit(run_objective, self.objective, handle, self.pass_trial)
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
                        outcome = future.result()  # Ctrl-C here: the trial goes back to WAITING
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
                self.settle(record, TrialState.WAITING, tell=False)
            raise
