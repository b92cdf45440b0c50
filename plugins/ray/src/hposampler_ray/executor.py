"""``RayExecutor``: a ``concurrent.futures.Executor`` whose tasks run on Ray."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from hposampler.study import ExecutorCapabilities

__all__ = ["RayExecutor"]


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class RayExecutor(concurrent.futures.Executor):
    """Submit callables as Ray tasks; their ``ObjectRef.future()`` is the result.

    Parameters
    ----------
    max_workers : int
        Trials in flight (the study's ``concurrency``); the study enforces it.
    address : str, optional
        ``None`` starts a local Ray (with the driver's import path, so objectives
        importable here are importable in the workers); ``"auto"`` or
        ``"ray://host:10001"`` connects to an existing cluster.
    num_cpus, num_gpus : float
        Resources each trial asks for.
    resources : dict, optional
        Custom resources per trial, e.g. ``{"large_memory": 1}``.
    max_retries : int
        How many times a trial whose worker or node died is re-run before it
        is marked FAIL (``capabilities.max_attempts`` tells the study).
    local_num_cpus : int, optional
        CPUs of a local Ray started here (default: all of the machine's).
    """

    def __init__(
        self,
        max_workers: int,
        address: str | None = None,
        num_cpus: float = 1,
        num_gpus: float = 0,
        resources: Mapping[str, float] | None = None,
        max_retries: int = 2,
        local_num_cpus: int | None = None,
    ) -> None:
        import ray

        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.max_workers = max_workers
        #: Ray workers import the objective by name; a lost trial is tried
        #: ``max_retries + 1`` times in all.
        self.capabilities = ExecutorCapabilities(
            imports_objective=True, max_attempts=max_retries + 1
        )
        self._owns_ray = False
        if not ray.is_initialized():
            if address is None:
                path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
                ray.init(
                    num_cpus=local_num_cpus,
                    include_dashboard=False,
                    _node_ip_address="127.0.0.1",  # a local Ray listens on loopback only
                    log_to_driver=True,
                    runtime_env={"env_vars": {"PYTHONPATH": path}},
                )
            else:
                ray.init(address=address)
            self._owns_ray = True
        self._task = ray.remote(_call).options(
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            resources=dict(resources or {}),
            max_retries=0,  # the study retries lost trials itself and records each attempt
        )
        self._refs: dict[concurrent.futures.Future[Any], Any] = {}
        self._lock = threading.Lock()

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        """Run ``fn(*args)`` as a Ray task."""
        if kwargs:
            raise TypeError("RayExecutor.submit takes positional arguments only")
        ref = self._task.remote(fn, *args)
        future: concurrent.futures.Future[Any] = ref.future()
        with self._lock:
            self._refs[future] = ref
        future.add_done_callback(self._forget)
        return future

    def channels(self, hub: Any) -> Any:
        """Trial reports travel through an async Ray actor (see :mod:`hposampler_ray.channels`)."""
        from .channels import RayChannels

        return RayChannels(hub)

    def terminate(self) -> None:
        """Cancel every task in flight now and stop a local Ray this executor started."""
        self.shutdown(wait=False, cancel_futures=True)

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._refs.pop(future, None)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel in-flight tasks if asked; stop the local Ray this executor started."""
        import ray

        if cancel_futures:
            with self._lock:
                refs = list(self._refs.values())
            for ref in refs:
                with contextlib.suppress(Exception):  # already finished or gone
                    ray.cancel(ref, force=True)
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
            self._owns_ray = False
