"""``run_suite``: the whole bench grid, on one storage, with local worker processes."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from hposampler.bench.results import BenchResults, TaskInfo, collect
from hposampler.bench.runs import RunKey, claim_and_run, parse_entry, run_keys, skip_reason
from hposampler.bench.tasks import Task, resolve_tasks
from hposampler.errors import BenchError

__all__ = ["BenchPlan", "plan", "run_suite"]

#: A progress callback: ``(event, key)`` with event ``"trial"`` or ``"run"``.
Progress = Callable[[str, RunKey], None]


class BenchPlan:
    """The runs of a bench and why some cannot run (built by :func:`plan`)."""

    def __init__(
        self,
        tasks: list[tuple[str, Task]],
        samplers: list[str],
        seeds: list[int],
        budget: int,
    ) -> None:
        self.tasks, self.samplers, self.seeds, self.budget = tasks, samplers, seeds, budget
        self.by_key = {f"{suite}/{task.name}": task for suite, task in tasks}
        self.infos = {f"{s}/{t.name}": TaskInfo.of(s, t) for s, t in tasks}
        self.skipped: dict[tuple[str, str], str] = {}
        for suite, task in tasks:
            for sampler in samplers:
                reason = skip_reason(sampler, task)
                if reason is not None:
                    self.skipped[(sampler, f"{suite}/{task.name}")] = reason
        self.keys = run_keys(tasks, samplers, seeds)

    @property
    def runnable(self) -> list[RunKey]:
        """The runs no sampler refuses."""
        return [k for k in self.keys if (k.sampler, f"{k.suite}/{k.task}") not in self.skipped]


def plan(
    suites: Sequence[str],
    samplers: Sequence[str],
    seeds: Sequence[int],
    budget: int,
    tasks: Sequence[str] = (),
) -> BenchPlan:
    """Resolve suites, tasks and samplers (unknown names fail here, before any run).

    Raises
    ------
    BenchError
        For an unknown suite or task, or nothing to run.
    UnknownSamplerError
        For an unknown sampler.
    MissingDependencyError
        For a suite or sampler whose package is not installed.
    """
    from hposampler.plugins.specs import check_options
    from hposampler.selection import get_sampler_spec

    if not samplers:
        raise BenchError("no samplers given; pass --samplers, e.g. --samplers random,tpe")
    for entry in samplers:
        name, options = parse_entry(entry)
        spec = get_sampler_spec(name)
        check_options("sampler", spec.name, spec.options, options)
    chosen = resolve_tasks(list(suites), list(tasks))
    if not chosen:
        raise BenchError(f"suite(s) {', '.join(suites)} hold no tasks to run")
    return BenchPlan(chosen, list(dict.fromkeys(samplers)), list(seeds), budget)


def _work(bench: BenchPlan, storage: Any, progress: Progress | None) -> None:
    """Claim and run every run this worker can, until none is left unclaimed."""
    pending = bench.runnable
    while pending:
        busy = []
        for key in pending:
            task = bench.by_key[f"{key.suite}/{key.task}"]

            def on_trial(key: RunKey = key) -> None:
                if progress is not None:
                    progress("trial", key)

            status = claim_and_run(storage, key, task, bench.budget, on_trial)
            if status == "busy":
                busy.append(key)
            elif progress is not None:
                progress("run", key)
        if busy and len(busy) == len(pending):
            time.sleep(0.5)  # every left run is another live worker's: wait for it
        pending = busy


def _child(
    suites: list[str],
    tasks: list[str],
    samplers: list[str],
    seeds: list[int],
    budget: int,
    storage: Any,
    queue: Any,
    parent: int,
) -> None:
    bench = plan(suites, samplers, seeds, budget, tasks)

    def progress(event: str, key: RunKey) -> None:
        if os.getppid() != parent:  # the bench was killed: stop (its runs resume later)
            raise SystemExit(1)
        queue.put((event, key.suite, key.task, key.sampler, key.seed))

    _work(bench, storage, progress)


def run_suite(
    bench: BenchPlan,
    storage: Any,
    workers: int = 1,
    progress: Progress | None = None,
    suites: Sequence[str] = (),
    tasks: Sequence[str] = (),
) -> BenchResults:
    """Run every run of ``bench`` (resuming what ``storage`` already holds) and
    read the results back.

    Parameters
    ----------
    bench : BenchPlan
        From :func:`plan`.
    storage : str or Path or Storage
        Where the runs' studies live (a SQLite path, a PostgreSQL URL, ...).
    workers : int
        Processes to run in; ``1`` runs here. Workers on other machines running
        the same command on the same storage share the runs too.
    progress : callable, optional
        Called with ``("trial" | "run", key)`` as runs advance.
    suites, tasks : sequence of str
        The names ``bench`` was planned from (worker processes plan again).
    """
    if workers <= 1:
        _work(bench, storage, progress)
    else:
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        args = (list(suites), list(tasks), bench.samplers, bench.seeds, bench.budget,
                str(storage), queue, os.getpid())  # fmt: skip
        procs = [context.Process(target=_child, args=args, daemon=True) for _ in range(workers)]
        for proc in procs:
            proc.start()
        try:
            while any(p.is_alive() for p in procs) or not queue.empty():
                try:
                    event, *fields = queue.get(timeout=0.2)
                except Exception:  # queue.Empty: look at the processes again
                    continue
                if progress is not None:
                    progress(event, RunKey(fields[0], fields[1], fields[2], fields[3]))
        finally:
            for proc in procs:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.terminate()
        failed = [p.exitcode for p in procs if p.exitcode not in (0, None)]
        if failed:
            raise BenchError(
                f"{len(failed)} bench worker(s) exited with code(s) {failed}; run again to "
                "resume (finished runs are kept)"
            )
    return collect(storage, bench.keys, bench.infos, bench.budget, bench.skipped)
