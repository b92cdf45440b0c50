"""Studies and the runner: what runs trials, stores them and resumes them.

:mod:`~hposampler.study.arguments`
    Checks of the arguments users give a study (API and CLI share them).
:mod:`~hposampler.study.channels`
    How a running objective's requests (reports, pruning questions, attributes)
    reach the runner, whatever the executor.
:mod:`~hposampler.study.executors`
    The :class:`Executor` contract (a protocol with an :class:`ExecutorCapabilities`
    record), the ``thread`` and ``process`` executors (a built-in plugin) and
    choosing one.
:mod:`~hposampler.study.objective`
    The objective a trial runs and its :class:`TrialHandle`.
:mod:`~hposampler.study.messages`
    The typed records between objectives and the runner (requests, replies,
    :class:`~hposampler.study.messages.Outcome`).
:mod:`~hposampler.study.ledger`
    One worker's account of a study in its storage (sync, takeover,
    compare-and-set, settling); told about the study through the
    :class:`~hposampler.study.ledger.RunnerStudy` protocol.
:mod:`~hposampler.study.runner`
    The dispatcher ``Study.optimize`` runs on a ledger (trials in flight,
    deadlines, retries).
:mod:`~hposampler.study.records`
    Reading a study's trials: validated once, then incrementally.
:mod:`~hposampler.study.optimizing`, :mod:`~hposampler.study.asktell`
    ``Study.optimize`` around the runner; ``Study.ask`` / ``Study.tell``.
:mod:`~hposampler.study.steering`, :mod:`~hposampler.study.results`
    Enqueuing and copying; the best trial, the Pareto front, export rows.
:mod:`~hposampler.study.study`
    :class:`Study`: create, load, optimize, ask and tell, steer and read a study.
:mod:`~hposampler.study.studyfile`
    Study files (TOML) for ``hposampler run``.
:mod:`~hposampler.study.progress`
    The progress bar ``optimize(progress=True)`` and the CLI show.

This package builds on storage, selection, pruning, the plugin registry, the
sampler contract and search spaces; the views (:mod:`hposampler.viz`), the
benchmark and the command line build on it.
"""

from __future__ import annotations

from hposampler.study.executors import Executor, ExecutorCapabilities
from hposampler.study.objective import Objective, TrialHandle, load_objective, run_objective
from hposampler.study.steering import delete_study
from hposampler.study.study import (
    MAX_ATTEMPTS,
    MAX_CONSECUTIVE_DUPLICATES,
    Callback,
    Study,
    flatten_config,
    is_feasible,
    study_summary,
)

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_CONSECUTIVE_DUPLICATES",
    "Callback",
    "Executor",
    "ExecutorCapabilities",
    "Objective",
    "Study",
    "TrialHandle",
    "delete_study",
    "flatten_config",
    "is_feasible",
    "load_objective",
    "run_objective",
    "study_summary",
]
