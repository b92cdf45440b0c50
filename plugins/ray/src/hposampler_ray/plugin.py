"""hposampler plugin: registers the ``ray`` executor (Ray is imported when it is built)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hposampler import ExecutorSpec, OptionSpec, hookimpl

OPTIONS = (
    OptionSpec("address", None, (str, type(None)),
               "None starts a local Ray; 'auto' or 'ray://host:10001' joins a cluster"),
    OptionSpec("num_cpus", 1, (float,), "CPUs per trial"),
    OptionSpec("num_gpus", 0, (float,), "GPUs per trial"),
    OptionSpec("resources", None, (dict, type(None)), "custom resources per trial"),
    OptionSpec("max_retries", 2, (int,), "re-runs of a trial whose worker died"),
    OptionSpec("local_num_cpus", None, (int, type(None)), "CPUs of a local Ray started here"),
)  # fmt: skip


def make(max_workers: int, **options: Any) -> Any:
    """Build a :class:`~hposampler_ray.executor.RayExecutor`."""
    from .executor import RayExecutor

    return RayExecutor(max_workers, **options)


@hookimpl
def register_executors(register: Callable[[ExecutorSpec], None]) -> None:
    """Register the ``ray`` executor."""
    register(
        ExecutorSpec(
            "ray",
            make,
            "Ray tasks on a local or remote cluster; dead workers' trials are re-run",
            options=OPTIONS,
            run_flags=("address",),  # hposampler run --ray-address auto
        )
    )
