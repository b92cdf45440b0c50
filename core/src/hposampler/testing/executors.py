"""The conformance kit for executors: :func:`check_executor`.

The runner relies on an executor for little, but exactly: a capabilities
record, futures that hold an objective's :class:`~hposampler.study.messages.Outcome`
(its result or its error, with the traceback captured where it ran), several
trials in flight at once, report channels that carry an objective's requests to
the runner and its replies back, and a stop that does not wait. The
objectives here are module-level functions, so executors whose workers import
the objective by name (processes, Ray) run them too.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Mapping
from typing import Any

from hposampler.study.channels import Hub
from hposampler.study.executors import Executor, ExecutorCapabilities, make_executor
from hposampler.study.messages import Outcome, Reply, Report
from hposampler.study.objective import TrialHandle, run_objective
from hposampler.testing.checks import call_limit

__all__ = ["check_executor"]


def square(config: dict[str, Any]) -> float:
    """An objective: ``x`` squared."""
    return float(config["x"]) ** 2


def broken(config: dict[str, Any]) -> float:
    """An objective that raises."""
    raise ValueError(f"broken at x={config['x']}")


def reporting(config: dict[str, Any], trial: TrialHandle) -> float:
    """An objective that reports twice through its trial handle."""
    trial.report(0, 2.0)
    trial.report(1, 1.0)
    return 0.5


def _fail(check: str, label: str, what: str) -> None:
    raise AssertionError(f"[{check}] executor {label!r}: {what}")


def _outcome(future: concurrent.futures.Future[Any], check: str, label: str) -> Outcome:
    limit = call_limit()  # a hang guard scaled by this machine's slowness, as for samplers
    try:
        outcome: object = future.result(timeout=limit)
    except concurrent.futures.TimeoutError:
        outcome = None
        _fail(check, label, f"a trial made no progress within {limit:.0f} s (a hang?)")
    if not isinstance(outcome, Outcome):
        raise AssertionError(
            f"[{check}] executor {label!r}: the future held {outcome!r}, not the Outcome of "
            "run_objective"
        )
    return outcome


def _check_results(pool: Executor, label: str) -> None:
    futures = [pool.submit(run_objective, square, TrialHandle(i, {"x": i})) for i in range(4)]
    values = [_outcome(f, "results", label).value for f in futures]
    if values != [0.0, 1.0, 4.0, 9.0]:
        _fail("results", label, f"four trials returned {values}, not [0, 1, 4, 9]")
    outcome = _outcome(pool.submit(run_objective, broken, TrialHandle(9, {"x": 9})),
                       "errors", label)  # fmt: skip
    if outcome.ok or "broken at x=9" not in outcome.traceback:
        _fail("errors", label, f"a raising objective ended in {outcome!r}")


def _check_channels(pool: Executor, label: str) -> None:
    hub = Hub()
    channels = pool.channels(hub)
    if channels is None:
        return  # this executor carries no reports; objectives' handles say so
    try:
        handle = TrialHandle(0, {"x": 1.0}, 1, channels.for_trial(0))
        future = pool.submit(run_objective, reporting, handle, True)
        reports: list[Any] = []
        deadline = time.monotonic() + call_limit()
        while not future.done() and time.monotonic() < deadline:
            concurrent.futures.wait([future, hub.wake], timeout=0.5,
                                    return_when=concurrent.futures.FIRST_COMPLETED)  # fmt: skip
            for message, reply in hub.drain():
                reports.append(message)
                reply(Reply(True))
        outcome = _outcome(future, "channels", label)
        if not outcome.ok or reports != [Report(0, 0, 2.0), Report(0, 1, 1.0)]:
            _fail("channels", label, f"reports {reports!r} and outcome {outcome!r}")
        channels.release(0)
    finally:
        channels.close()


def check_executor(
    executor: str | Callable[[int], Executor], options: Mapping[str, Any] | None = None
) -> None:
    """Check an executor against the :class:`~hposampler.study.executors.Executor` contract.

    Parameters
    ----------
    executor : str or callable
        An installed executor's name (built with :func:`make_executor` and
        ``options``), or a callable ``factory(max_workers)`` returning one.
    options : mapping, optional
        The executor's options, with a name.

    Raises
    ------
    AssertionError
        ``[check] executor NAME: what went wrong``, at the first failure.

    Examples
    --------
    >>> check_executor("thread")
    """
    label = executor if isinstance(executor, str) else getattr(executor, "__name__", "factory")
    if isinstance(executor, str):
        pool = make_executor(executor, 2, **dict(options or {}))
    else:
        pool = executor(2)
    if not isinstance(getattr(pool, "capabilities", None), ExecutorCapabilities):
        _fail("capabilities", label, "it has no ExecutorCapabilities record as `capabilities`")
    try:
        _check_results(pool, label)
        _check_channels(pool, label)
    except BaseException:
        pool.terminate()
        raise
    pool.shutdown(wait=True)
