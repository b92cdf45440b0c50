"""What ``Study.optimize`` does before and after the dispatcher runs.

It checks the arguments, fits the concurrency to the sampler, builds the
sampler (resumed from every stored trial), the pruner and the executor, runs a
:class:`~hposampler.study.runner.Runner` and releases the executor however the
run ends.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from hposampler.errors import StudyError
from hposampler.selection import get_sampler_spec
from hposampler.storage import TrialRecord
from hposampler.study import arguments
from hposampler.study.executors import make_executor
from hposampler.study.ledger import HEARTBEAT_INTERVAL, RunnerStudy
from hposampler.study.objective import Objective, import_problem, load_objective
from hposampler.study.records import RecordReader
from hposampler.study.runner import Runner
from hposampler.study.warmstart import warm_history

__all__ = ["RunOptions", "optimize"]

logger = logging.getLogger("hposampler.study")


@attrs.frozen
class RunOptions:
    """``Study.optimize``'s arguments beside the objective (checked by :meth:`check`)."""

    n_trials: int
    concurrency: int = 1
    executor: str = "thread"
    timeout: float | None = None
    catch: tuple[type[BaseException], ...] = (Exception,)
    skip_duplicates: bool = False
    callbacks: Sequence[Callable[[Any, TrialRecord], None]] = ()
    executor_options: Mapping[str, Any] | None = None
    heartbeat_interval: float = HEARTBEAT_INTERVAL
    trial_timeout: float | None = None

    def check(self) -> None:
        """Raise :class:`~hposampler.errors.StudyError` naming the first bad argument."""
        arguments.count(self.n_trials, "n_trials")
        arguments.count(self.concurrency, "concurrency", minimum=1)
        arguments.seconds(self.timeout, "timeout")
        arguments.seconds(self.trial_timeout, "trial_timeout")
        arguments.seconds(self.heartbeat_interval, "heartbeat_interval", optional=False)
        catch = self.catch
        if not isinstance(catch, tuple) or not all(
            isinstance(c, type) and issubclass(c, BaseException) for c in catch
        ):
            raise StudyError(f"catch must be a tuple of exception classes, got {catch!r}")


def _concurrency(study: RunnerStudy, wanted: int) -> int:
    """``wanted``, lowered to the most pending trials the sampler takes."""
    limit = get_sampler_spec(study.config.sampler).max_pending
    if limit is not None and limit < wanted:
        logger.info(
            "study %s: sampler %s takes at most %d pending trial(s); running %d at once",
            study.name, study.config.sampler, limit, limit,
        )  # fmt: skip
        return limit
    return wanted


def _check_importable(objective: Objective, executor: str) -> None:
    """Refuse, before the first trial, an objective worker processes cannot import."""
    problem = import_problem(objective)
    if problem is not None:
        raise StudyError(
            f"the {executor!r} executor sends the objective to worker processes by name, "
            f"but {problem}; define it at module level in an importable module and pass it "
            "(or 'module:function'), or use the thread executor"
        )


def optimize(
    study: RunnerStudy,
    reader: RecordReader,
    objective: Objective | str,
    run: RunOptions,
    progress: bool = False,
) -> None:
    """Run ``objective`` on ``study`` until it has ``run.n_trials`` finished trials;
    ``progress``: with a progress bar on the terminal."""
    run.check()
    if progress:
        from hposampler.study.progress import progress_bar

        done = sum(1 for r in reader.read() if r.state.is_finished)
        with progress_bar(dict(study.config.optim_metrics), run.n_trials, done) as bar:
            _optimize(study, reader, objective, attrs.evolve(run, callbacks=(*run.callbacks, bar)))
        return
    _optimize(study, reader, objective, run)


def _optimize(
    study: RunnerStudy, reader: RecordReader, objective: Objective | str, run: RunOptions
) -> None:
    if isinstance(objective, str):
        objective = load_objective(objective)
    revision = study.storage.revision(study.name)  # before the rows: nothing is missed
    records = reader.read()
    concurrency = _concurrency(study, run.concurrency)
    pruner = study.config.create_pruner()
    warm = warm_history(study.storage, study.config)
    sampler = study.config.create(
        trials=[*warm, *(r.trial for r in records)], budget=run.n_trials,
        concurrency=concurrency, pruner=pruner,
    )  # fmt: skip
    pool = make_executor(run.executor, concurrency, **dict(run.executor_options or {}))
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(pool.shutdown, wait=False, cancel_futures=True)
        if pool.capabilities.imports_objective:
            _check_importable(objective, run.executor)
        runner = Runner(
            study, sampler, objective, records, revision=revision, catch=run.catch,
            skip_duplicates=run.skip_duplicates, callbacks=run.callbacks,
            max_attempts=pool.capabilities.max_attempts,
            heartbeat_interval=run.heartbeat_interval, trial_timeout=run.trial_timeout,
            pruner=pruner,
        )  # fmt: skip
        del records  # the storage holds them; the runner keeps only unfinished trials
        try:
            runner.loop(pool, run.n_trials, concurrency, run.timeout)
        except BaseException:
            # Ctrl-C (or an error): the running trials are stored WAITING already; do not
            # wait for their objectives, whose results would be ignored anyway (worker
            # processes are stopped: they ignore Ctrl-C and would run on)
            cleanup.pop_all()
            pool.terminate()
            raise
        cleanup.pop_all()
        pool.shutdown(wait=not runner.abandoned)  # never wait for an abandoned objective
