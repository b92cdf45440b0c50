"""Executors: where objectives run. The core's ``thread`` and ``process`` executors.

An executor is anything with the :class:`concurrent.futures.Executor` interface
(``submit(fn, *args) -> Future`` and ``shutdown(wait=..., cancel_futures=...)``).
Plugins add executors through the ``register_executors`` hook; this module is
itself such a plugin, registered by the core.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable
from typing import Any

from .hookspecs import hookimpl
from .spec import ExecutorSpec, OptionSpec

__all__ = ["executor_spec", "make_executor"]


def _thread_executor(max_workers: int) -> concurrent.futures.Executor:
    return concurrent.futures.ThreadPoolExecutor(
        max_workers=max_workers, thread_name_prefix="hposampler-trial"
    )


class ProcessExecutor(concurrent.futures.ProcessPoolExecutor):
    """Worker processes on this machine; objectives (and their results) are pickled."""

    #: The runner checks before the first trial that the objective can be pickled.
    pickles_objective = True


def _process_executor(max_workers: int, start_method: str = "spawn") -> concurrent.futures.Executor:
    return ProcessExecutor(
        max_workers=max_workers, mp_context=multiprocessing.get_context(start_method)
    )


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
    UnknownSamplerError
        (with ``kind="executor"``) when no plugin provides ``name``.
    SamplerOptionsError
        For unknown or mistyped options.
    """
    import difflib

    from .errors import UnknownSamplerError
    from .plugins import get_registry

    executors = get_registry().executors()
    if not isinstance(name, str) or name not in executors:
        close = difflib.get_close_matches(str(name), list(executors))
        raise UnknownSamplerError(str(name), executors, close, kind="executor")
    spec = executors[name][0]
    spec.check_options(options or {})
    return spec


def make_executor(name: str, max_workers: int, **options: Any) -> concurrent.futures.Executor:
    """Build the executor called ``name`` with at most ``max_workers`` trials at once.

    Raises
    ------
    UnknownSamplerError
        (with ``kind="executor"``) when no plugin provides ``name``.
    SamplerOptionsError
        For unknown or mistyped options.
    """
    spec = executor_spec(name, options)
    executor: concurrent.futures.Executor = spec.factory(max_workers=max_workers, **options)
    return executor
