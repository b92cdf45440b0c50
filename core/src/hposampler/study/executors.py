"""Executors: where objectives run. The :class:`Executor` contract, ``thread`` and ``process``.

An executor is a :class:`concurrent.futures.Executor` (``submit(fn, *args) ->
Future`` and ``shutdown(wait=..., cancel_futures=...)``) that also states what
the runner may rely on in an :class:`ExecutorCapabilities` record, carries
trial reports through :meth:`Executor.channels`, and can stop at once
(:meth:`Executor.terminate`). :class:`Executor` is that contract as a protocol;
:func:`make_executor` gives any plain ``concurrent.futures.Executor`` a
plugin returns the default capabilities (no reports, stopped by ``shutdown``).

Plugins add executors through the ``register_executors`` hook; this module is
itself such a plugin, registered by the core.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import attrs

from hposampler.errors import PluginError
from hposampler.plugins.hookspecs import hookimpl
from hposampler.plugins.specs import ExecutorSpec, OptionSpec
from hposampler.study.channels import Channels, Hub, LocalChannels, ManagerChannels

__all__ = [
    "MAX_ATTEMPTS",
    "Executor",
    "ExecutorCapabilities",
    "PlainExecutor",
    "executor_spec",
    "make_executor",
]

logger = logging.getLogger("hposampler.executors")


#: Attempts at a trial whose executor keeps losing it (dead workers) before it is FAIL,
#: unless the executor's capabilities say otherwise.
MAX_ATTEMPTS = 3


@attrs.frozen
class ExecutorCapabilities:
    """What the runner may rely on when it hands trials to an executor.

    Attributes
    ----------
    inline : bool
        Running a trial in the runner's own thread is equivalent to running it
        here (threads of the calling process): at ``concurrency=1`` with short
        trials the runner then skips the hand-off.
    imports_objective : bool
        Workers import the objective by its module and name (processes, remote
        machines): the runner refuses an objective they cannot import before the
        first trial.
    interrupts_trials : bool
        The executor interrupts an objective past ``trial_timeout`` where it runs,
        so the runner gives it a grace period before abandoning the trial.
    max_attempts : int
        Attempts at a trial the executor keeps losing (a dead worker or node)
        before the runner marks it FAIL.
    """

    inline: bool = False
    imports_objective: bool = False
    interrupts_trials: bool = False
    max_attempts: int = attrs.field(default=MAX_ATTEMPTS, validator=attrs.validators.ge(1))


@runtime_checkable
class Executor(Protocol):
    """Where objectives run: the contract between the runner and an executor plugin.

    A :class:`concurrent.futures.Executor` plus a :class:`ExecutorCapabilities`
    record, report channels and an immediate stop.
    """

    #: What the runner may rely on.
    capabilities: ExecutorCapabilities

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        """Run ``fn(*args)`` somewhere; its future holds the result or the error."""
        ...

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Release the workers (after the running calls when ``wait``)."""
        ...

    def channels(self, hub: Hub) -> Channels | None:
        """Channels that carry running objectives' requests (``trial.report``,
        ``trial.should_prune``) to ``hub``; ``None`` when it carries none."""
        ...

    def terminate(self) -> None:
        """Stop now, running objectives included (the run was interrupted)."""
        ...


class PlainExecutor(concurrent.futures.Executor):
    """A plain :class:`concurrent.futures.Executor` seen as an :class:`Executor`.

    It gets the default capabilities, carries no reports (objectives that take
    a trial handle can still run; ``trial.report`` then says it is not attached)
    and is terminated by ``shutdown(wait=False, cancel_futures=True)``.
    """

    capabilities = ExecutorCapabilities()

    def __init__(self, inner: concurrent.futures.Executor) -> None:
        self.inner = inner

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        """Submit to the wrapped executor."""
        return self.inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the wrapped executor down."""
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)

    def channels(self, hub: Hub) -> Channels | None:
        """None: a plain executor carries no reports."""
        return None

    def terminate(self) -> None:
        """Cancel what has not started; do not wait for what runs."""
        self.inner.shutdown(wait=False, cancel_futures=True)


#: Spare threads of the thread executor: a trial abandoned after ``trial_timeout``
#: keeps its thread busy, and the study must not wait for it.
SPARE_THREADS = 8


class ThreadExecutor(concurrent.futures.Executor):
    """Threads in this process, as *daemon* threads.

    Like ``ThreadPoolExecutor``, but an objective that never returns (abandoned
    after ``trial_timeout``) neither blocks :meth:`shutdown` when its trial was
    given up, nor keeps the program alive at exit.

    Parameters
    ----------
    max_workers : int
        The most threads started (the runner keeps fewer trials in flight).
    """

    #: The runner may run a trial in its own thread instead (one trial at a time, no
    #: time limit: nothing a thread of this executor would add).
    capabilities = ExecutorCapabilities(inline=True)

    def channels(self, hub: Hub) -> Channels:
        """Reports reach the runner in-process."""
        return LocalChannels(hub)

    def terminate(self) -> None:
        """Cancel queued trials; daemon threads running objectives are left to end."""
        self.shutdown(wait=False, cancel_futures=True)

    def __init__(self, max_workers: int) -> None:
        self._max_workers = max_workers
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        # items submitted and not finished, counted at submit: a thread that took an
        # item from the queue but has not started it yet still counts as busy (counting
        # at pick-up lost a thread when two trials were submitted at once)
        self._unfinished = 0
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit after shutdown")
            self._queue.put((future, fn, args, kwargs))
            self._unfinished += 1
            if self._unfinished > len(self._threads) and len(self._threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._work,
                    name=f"hposampler-trial_{len(self._threads)}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            try:
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # handed to the driver through the future
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            finally:
                with self._lock:
                    self._unfinished -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
                        self._unfinished -= 1
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()


def _thread_executor(max_workers: int) -> Executor:
    # the runner keeps at most max_workers trials in flight itself; the spare threads
    # stand in for trials abandoned after trial_timeout
    return ThreadExecutor(max_workers + SPARE_THREADS)


class ProcessExecutor(concurrent.futures.Executor):
    """Worker processes on this machine; the objective reaches them by its import name.

    A worker that dies (killed for memory, a segfault in a C extension) breaks a
    ``ProcessPoolExecutor`` for good: every trial in flight fails with
    ``BrokenProcessPool`` (the runner re-runs them) and the next ``submit``
    starts a fresh pool instead of failing the whole study. Workers ignore
    Ctrl-C: the driver handles it, and the pool shuts down cleanly.
    """

    #: Workers import the objective by name (checked before the first trial), and run it
    #: in their main thread, where ``trial_timeout`` interrupts it.
    capabilities = ExecutorCapabilities(imports_objective=True, interrupts_trials=True)

    def __init__(self, max_workers: int, mp_context: Any) -> None:
        self._max_workers = max_workers
        self._context = mp_context
        self._pool = self._new_pool()
        #: How many times a broken pool was replaced.
        self.replaced = 0

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self._max_workers, mp_context=self._context, initializer=_ignore_sigint
        )
        # start every worker with the pool (as for "fork"), never from submit(): a worker
        # started while the pool breaks is never stopped (CPython's clean-up and submit
        # race over the worker table), and the interpreter then waits for it at exit
        if hasattr(pool, "_safe_to_dynamically_spawn_children"):
            pool._safe_to_dynamically_spawn_children = False
        return pool

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        """Run ``fn(*args, **kwargs)`` in a worker, replacing the pool if a worker died."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            self.replaced += 1
            logger.warning("a worker process died; started a new pool of %d", self._max_workers)
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the current pool down."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def terminate(self) -> None:
        """Stop the workers now, objectives included (the run was interrupted).

        Their trials are stored WAITING already and their results would be
        ignored; a worker left running would hold the terminal (and its pipes)
        until its objective returned.
        """
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(OSError, ValueError):  # already gone
                process.terminate()
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                process.join(timeout=10)
        # the pool sees its workers gone and releases its queues and locks (no "leaked
        # semaphore" warnings at exit)
        self._pool.shutdown(wait=True)

    def channels(self, hub: Hub) -> Channels:
        """Reports travel through a manager process's queues (started on first use)."""
        return ManagerChannels(hub)


#: Seconds between a worker's checks that the driver that started it is alive.
ORPHAN_CHECK_S = 1.0


def _ignore_sigint() -> None:
    """Worker start-up: Ctrl-C is the driver's to handle (no traceback per worker), and a
    worker whose driver died (``kill -9``) exits instead of waiting on its queue forever.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    driver = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(ORPHAN_CHECK_S)
            if os.getppid() != driver:  # re-parented: the driver is gone
                os._exit(1)

    threading.Thread(target=watch, name="hposampler-orphan-check", daemon=True).start()


def _process_executor(max_workers: int, start_method: str = "spawn") -> Executor:
    import multiprocessing  # here: a study of threads never pays for its import

    return ProcessExecutor(max_workers, multiprocessing.get_context(start_method))


@hookimpl
def register_executors(register: Callable[[ExecutorSpec], None]) -> None:
    """Register the ``thread`` and ``process`` executors."""
    register(
        ExecutorSpec(
            "thread",
            _thread_executor,
            "threads in the calling process (for objectives that release the GIL or wait)",
        )
    )
    register(
        ExecutorSpec(
            "process",
            _process_executor,
            "worker processes on this machine; the objective must be importable",
            options=(
                OptionSpec(
                    "start_method",
                    "spawn",
                    doc="multiprocessing start method",
                    choices=("spawn", "forkserver", "fork"),
                ),
            ),
        )
    )


def executor_spec(name: str, options: dict[str, Any] | None = None) -> ExecutorSpec:
    """The spec of the executor called ``name``, with ``options`` checked against it.

    Raises
    ------
    UnknownPluginError
        (``kind="executor"``) when no plugin provides ``name``, with close matches.
    SamplerOptionsError
        For unknown or mistyped options.
    """
    from hposampler.plugins.registry import get_registry

    spec: ExecutorSpec = get_registry().lookup("executor", name)[0]
    spec.check_options(options or {})
    return spec


def make_executor(name: str, max_workers: int, **options: Any) -> Executor:
    """Build the executor called ``name`` with at most ``max_workers`` trials at once.

    A plain :class:`concurrent.futures.Executor` from a plugin is wrapped in a
    :class:`PlainExecutor` (default capabilities, no reports).

    Raises
    ------
    UnknownPluginError
        What :func:`executor_spec` raises for an unknown name.
    SamplerOptionsError
        For unknown or mistyped options.
    PluginError
        When the plugin's factory returns something that is not an executor.
    """
    spec = executor_spec(name, options)
    built = spec.factory(max_workers=max_workers, **options)
    if isinstance(built, Executor) and isinstance(
        getattr(built, "capabilities", None), ExecutorCapabilities
    ):
        return built
    if isinstance(built, concurrent.futures.Executor):
        return PlainExecutor(built)
    raise PluginError(
        f"executor {name!r}: its factory returned {type(built).__name__}, not an executor; "
        "return a concurrent.futures.Executor (with an ExecutorCapabilities record as "
        "`capabilities`, `channels(hub)` and `terminate()` for the full contract)"
    )
