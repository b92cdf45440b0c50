"""Study-backed bench runs: each (sampler, task, seed) is a study in one storage.

A worker *claims* a run by creating its study (creation is atomic: one worker
wins) and stamps a claim (host, pid, time) in the study's user attributes every
:data:`STAMP_EVERY` seconds and at the end. A run whose study exists but is
unfinished is taken over when its claim is stale: its process is gone from this
host (a live one keeps its run, however slow), or, on another host, it has
not stamped for :data:`STALE_AFTER` seconds. So an interrupted
bench resumes where it stopped (no run repeated or lost), and several processes
or machines share one bench. Taking over is not atomic: two workers that find
the same stale claim at once both run it, and then share it. Every ``ask``
passes the run's budget, so together they stop at exactly that many trials.

Every trial goes through :meth:`hposampler.Study.ask` / :meth:`~hposampler.Study.tell`;
the time spent in them (the sampler, plus the storage) is recorded apart from
the objective's, in the study's ``bench`` user attribute.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from hposampler.bench.tasks import Task
from hposampler.errors import BenchError, HposamplerError, StudyError
from hposampler.samplers.trial import TrialState

__all__ = [
    "STALE_AFTER",
    "STAMP_EVERY",
    "RunKey",
    "claim_and_run",
    "parse_entry",
    "run_keys",
    "skip_reason",
]

#: Seconds without a stamp after which another worker takes a run over.
STALE_AFTER = 120.0

#: Seconds between a running run's stamps (its claim and its sampler time so far).
STAMP_EVERY = 10.0

_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


@attrs.frozen(order=True)
class RunKey:
    """One run of a bench: a sampler on a task with a seed."""

    suite: str
    task: str
    sampler: str
    seed: int

    @property
    def study_name(self) -> str:
        """The run's study: ``bench:<suite>/<task>/<sampler>/seed=<seed>``."""
        return f"bench:{self.suite}/{self.task}/{self.sampler}/seed={self.seed}"


def parse_entry(entry: str) -> tuple[str, dict[str, Any]]:
    """A ``--samplers`` entry -> (sampler name, options).

    ``"tpe"`` is a sampler with its defaults; ``"tpe+multivariate"`` sets a
    boolean option, ``"skopt:gp+n_initial_points=5+acq_func=EI"`` any option (a
    value is read as JSON when it is JSON, else as text). The whole entry is the
    row's label.

    Raises
    ------
    BenchError
        For an empty name or option.
    """
    name, *parts = entry.split("+")
    options: dict[str, Any] = {}
    for part in parts:
        key, sep, text = part.partition("=")
        if not key.strip() or not name.strip():
            raise BenchError(
                f"sampler entry {entry!r} is not NAME or NAME+option[=value]+...; "
                "e.g. tpe+multivariate or skopt:gp+n_initial_points=5"
            )
        if not sep:
            options[key.strip()] = True
            continue
        try:
            options[key.strip()] = json.loads(text)
        except ValueError:
            options[key.strip()] = text
    return name.strip(), options


def run_keys(
    tasks: Sequence[tuple[str, Task]], samplers: Sequence[str], seeds: Sequence[int]
) -> list[RunKey]:
    """Every run, seed-major (so the first seeds of every pair finish first)."""
    return [
        RunKey(suite, task.name, sampler, seed)
        for seed in seeds
        for suite, task in tasks
        for sampler in samplers
    ]


def skip_reason(sampler: str, task: Task) -> str | None:
    """Why the ``sampler`` entry cannot run ``task`` (its space, its metrics), or ``None``."""
    from hposampler.selection import make_sampler

    name, options = parse_entry(sampler)
    try:
        make_sampler(name, task.search_space, optim_metrics=dict(task.metrics), seed=0,
                     **options)  # fmt: skip
    except HposamplerError as exc:
        return str(exc).splitlines()[0]
    return None


def _claim() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "at": time.time()}


def _stale(claim: Any) -> bool:
    """Whether a run's claim is abandoned: on this host, its process is gone (a live
    one is never stale, however slow); elsewhere, no stamp for :data:`STALE_AFTER` s."""
    if not isinstance(claim, dict):
        return True
    if claim.get("host") == socket.gethostname() and isinstance(claim.get("pid"), int):
        try:
            os.kill(claim["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return False
    at = claim.get("at")
    return not isinstance(at, (int, float)) or time.time() - at > STALE_AFTER


def _finished(study: Any) -> int:
    return sum(1 for r in study.records() if r.state in _FINISHED)


def _held(study: Any) -> int:
    """The run's trials that count towards its budget (every state but duplicates)."""
    return sum(1 for r in study.records() if r.state != TrialState.PRUNED_DUPLICATE)


def claim_and_run(
    storage: Any,
    key: RunKey,
    task: Task,
    budget: int,
    on_trial: Callable[[], None] | None = None,
) -> str:
    """Run ``key`` to ``budget`` finished trials if this worker can claim it.

    Returns
    -------
    str
        ``"ran"`` (this worker ran or finished it), ``"done"`` (already
        finished), ``"busy"`` (claimed by a live worker) or ``"failed"`` (the
        sampler raised; the error is kept in the study's ``bench`` attribute).
    """
    from hposampler.study.study import Study

    name, options = parse_entry(key.sampler)
    try:
        study = Study.create(
            storage, key.study_name, name, task.search_space, dict(task.metrics),
            seed=key.seed, sampler_options=options,
        )  # fmt: skip
    except StudyError:
        if key.study_name not in _names(storage):
            raise
        study = Study.load(storage, key.study_name)
        bench = study.user_attrs.get("bench")
        if isinstance(bench, dict) and bench.get("error"):
            return "failed"
        done = _finished(study)
        if done >= budget or (isinstance(bench, dict) and bench.get("exhausted")):
            return "done"
        if not isinstance(bench, dict) or not _stale(bench.get("claim")):
            return "busy"
        bench = dict(bench)
    else:
        bench, done = {"sampler_seconds": 0.0}, 0
    bench["claim"] = _claim()
    study.set_user_attr("bench", bench)
    return _run(study, task, key.seed, budget, bench, done, on_trial)


def _names(storage: Any) -> list[str]:
    from hposampler.storage import make_storage

    return list(make_storage(storage).study_names())


def _run(
    study: Any,
    task: Task,
    seed: int,
    budget: int,
    bench: dict[str, Any],
    done: int,
    on_trial: Callable[[], None] | None,
) -> str:
    spent = float(bench.get("sampler_seconds", 0.0))
    while done < budget:
        start = time.perf_counter()
        try:
            trial = study.ask(budget=budget)
        except StopIteration:
            if _held(study) < budget:  # a finite sampler used up its space
                bench["exhausted"] = True
            break  # else the run holds its budget: another worker finishes its trials
        except HposamplerError as exc:
            bench["error"] = str(exc).splitlines()[0]
            study.set_user_attr("bench", bench)
            return "failed"
        asked = time.perf_counter()
        try:
            metrics = dict(task.objective(trial.config, seed))
        except Exception:  # a task's own failure is a failed trial, as in a study
            told = time.perf_counter()
            study.tell(trial, state=TrialState.FAIL)
        else:
            told = time.perf_counter()
            study.tell(trial, metrics)
        spent += (asked - start) + (time.perf_counter() - told)
        done += 1
        bench["sampler_seconds"] = spent
        if time.time() - bench["claim"]["at"] > STAMP_EVERY:  # one write per STAMP_EVERY
            bench["claim"] = _claim()
            study.set_user_attr("bench", bench)
        if on_trial is not None:
            on_trial()
    bench["claim"] = _claim()
    study.set_user_attr("bench", bench)
    return "ran"
