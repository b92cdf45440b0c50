"""``HposamplerSweeper``: a Hydra sweeper that runs an hposampler ``Study``.

The study (sampler, storage, resume, workers sharing it) is hposampler's own
:class:`~hposampler.Study`; the sweeper gives it an objective that hands each
sampled config to Hydra's launcher as command-line overrides. Configs sampled
together (``n_jobs`` at a time) are launched as one batch, as Hydra's other
sweepers do, so parallel launchers (joblib, submitit, ray) run them at once.

The task function's return value is the result: a number (one metric), a
sequence (one number per ``direction``) or a dict holding every metric of
``optim_metrics``. A job that raises ends its trial FAIL; the sweep goes on.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.core.plugins import Plugins
from hydra.errors import CompactHydraException
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from hposampler import MetricsError, SearchSpaceError, Study, TrialState
from hposampler.errors import HposamplerError, StudyError
from hposampler.study.arguments import fraction

from .params import space_from_params

__all__ = ["HposamplerSweeper", "SweeperError"]

log = logging.getLogger(__name__)

#: How long a partly filled batch waits before it looks whether more jobs can join it. A
#: batch goes as soon as it is full or holds every job the sweep still has to run, at
#: once when the sweep stops, and otherwise only once no other trial of this process
#: is in flight (the sampler ran out early), not while a sampled batch-mate is on its way.
GATHER_SECONDS = 5.0


def _directions(direction: Any, optim_metrics: Mapping[str, str] | None) -> dict[str, str]:
    if optim_metrics:
        return dict(optim_metrics)
    names = [direction] if isinstance(direction, str) else list(direction)
    out = {}
    for i, text in enumerate(names):
        word = str(text).lower()
        if word not in ("minimize", "maximize", "min", "max"):
            raise MetricsError(
                f"hydra.sweeper.direction: {text!r} is not minimize or maximize "
                "(or give optim_metrics: {name: min | max})"
            )
        key = "value" if len(names) == 1 else f"value_{i}"
        out[key] = "min" if word.startswith("min") else "max"
    return out


def _override(key: str, value: Any) -> str:
    """``key=value`` as Hydra's override parser reads it back exactly."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, str):
        text = (
            value
            if _reads_back(key, value)
            else ("'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'")
        )
    else:  # lists and dicts of JSON values: Hydra's grammar reads JSON's form of them
        text = json.dumps(value)
    return f"{key}={text}"


@functools.lru_cache(maxsize=4096)
def _reads_back(key: str, text: str) -> bool:
    """Whether ``key=text``, unquoted, is read by Hydra as the string ``text`` (then the
    job's override is written as the user wrote the choice: ``group1=file1``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        [override] = OverridesParser.create().parse_overrides([f"{key}={text}"])
    except HydraException:
        return False
    value = override.value()
    return isinstance(value, str) and value == text and not override.is_sweep_override()


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(_flatten(value, path))
        else:
            out[path] = value
    return out


class SweeperError(CompactHydraException, HposamplerError):
    """Bad sweeper config or input: Hydra prints its one line, without a traceback."""


class _Batches:
    """Gathers configs sampled at once by the study's threads into launcher batches."""

    def __init__(
        self,
        sweeper: HposamplerSweeper,
        size: int,
        planned: int,
        in_flight: Callable[[], int],
    ) -> None:
        self.sweeper = sweeper
        self.size = size
        self.in_flight = in_flight  # this process's trials sampled and not finished
        self.planned = planned  # the jobs this sweep expects to run ...
        self.started = 0  # ... and those launched so far
        self.cond = threading.Condition()
        self.waiting: list[dict[str, Any]] = []  # {"overrides", "order", "done", "ret"}
        self.launched: list[list[Any]] = []  # each batch's JobReturns: sweep()'s return value

    def run(self, overrides: list[str], order: int) -> Any:
        slot: dict[str, Any] = {"overrides": overrides, "done": False, "order": order}
        with self.cond:
            self.waiting.append(slot)
            self.cond.notify_all()
            while not slot["done"]:
                # a batch goes once full (or holding every job still to run); a partial
                # one when no trial that could join it is in flight (the study ran out)
                want = max(1, min(self.size, self.planned - self.started))
                full = len(self.waiting) >= want
                if full or (
                    not self.cond.wait(GATHER_SECONDS)
                    and self.waiting
                    and self.in_flight() <= len(self.waiting)
                ):
                    batch, self.waiting = self.waiting, []
                    if batch:
                        self.started += len(batch)
                        self._launch(batch)
        if "error" in slot:
            raise slot["error"]
        return slot["ret"]

    def flush(self) -> None:
        """The sweep stops: launch what waits, without waiting for batch-mates."""
        with self.cond:
            self.planned = self.started + len(self.waiting)
            self.cond.notify_all()

    def _launch(self, batch: list[dict[str, Any]]) -> None:
        """Launch ``batch`` (holding the lock: one batch at a time) and hand out results.

        The jobs go in trial order, whichever thread joined first: the same seed
        gives the same job numbers and folders.
        """
        batch.sort(key=lambda slot: slot["order"])
        try:
            returns = self.sweeper.launch([s["overrides"] for s in batch])
            self.launched.append(list(returns))
            for slot, ret in zip(batch, returns):
                try:
                    slot["ret"] = ret.return_value  # re-raises the job's exception
                except BaseException as exc:  # the job's own error, kept for its trial
                    slot["error"] = exc
        except BaseException as exc:  # the launcher failed: every job of the batch fails
            for slot in batch:
                slot["error"] = exc
        finally:
            for slot in batch:
                slot["done"] = True
            self.cond.notify_all()


class HposamplerSweeper(Sweeper):
    """Runs an hposampler study over a Hydra app (see :class:`.config.HposamplerSweeperConf`)."""

    def __init__(
        self,
        sampler: str,
        seed: int | None,
        n_trials: int,
        n_jobs: int,
        direction: Any,
        optim_metrics: Mapping[str, str] | None,
        storage: str | None,
        study_name: str | None,
        sampler_options: Mapping[str, Any],
        pruner: str | None,
        params: Mapping[str, str] | None,
        search_space: Mapping[str, Any] | None,
        max_failure_rate: float | None = None,
        warm_start: Sequence[str] = (),
        custom_search_space: str | None = None,
    ) -> None:
        try:
            self.max_failure_rate = fraction(max_failure_rate, "hydra.sweeper.max_failure_rate")
        except StudyError as exc:  # Hydra prints a SweeperError as one line
            raise SweeperError(str(exc)) from None
        self.custom_search_space = custom_search_space
        self.warm_start = list(_plain(warm_start) or [])
        self.sampler = sampler
        self.seed = seed
        self.n_trials = int(n_trials)
        self.n_jobs = int(n_jobs)
        self._direction = _plain(direction)
        self._metrics = _plain(optim_metrics)
        self.optim_metrics: dict[str, str] = {}  # checked in sweep(), where errors read well
        self.storage = storage
        self.study_name = study_name
        self.sampler_options = _plain(sampler_options) or {}
        self.pruner = pruner
        self.params = dict(params or {})
        self.search_space = _plain(search_space) or {}
        self.job_idx = 0
        self.config: DictConfig | None = None
        self.launcher: Any = None
        self.hydra_context: HydraContext | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Keep Hydra's context and build its launcher (Hydra calls this first)."""
        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def launch(self, batch: Sequence[Sequence[str]]) -> Sequence[Any]:
        """Run one batch of jobs through Hydra's launcher."""
        overrides = [list(o) for o in batch]
        self.validate_batch_is_legal(overrides)
        returns = self.launcher.launch(overrides, initial_job_idx=self.job_idx)
        self.job_idx += len(returns)
        return returns  # type: ignore[no-any-return]

    def sweep(self, arguments: list[str]) -> Any:
        """Run (or continue) the study; write ``optimization_results.yaml``.

        Raises
        ------
        SweeperError
            For a bad sampler, option, search space or direction: one line.
        """
        try:
            return self._sweep(arguments)
        except HposamplerError as exc:
            if isinstance(exc, SweeperError):
                raise
            raise SweeperError(f"hydra.sweeper: {type(exc).__name__}: {exc}") from exc

    def _sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None  # setup() ran: Hydra's contract, not user input
        self.optim_metrics = _directions(self._direction, self._metrics)
        params = dict(self.params)
        deletions = []
        for argument in arguments:  # command-line sweeps join hydra.sweeper.params
            if argument.startswith("~"):  # a deletion (~z, ~z=value) goes to every job as is
                deletions.append(argument)
                continue
            key, _, value = argument.partition("=")
            params[key] = value
        space, fixed = space_from_params(params)
        fixed = [*fixed, *deletions]
        overlap = sorted(set(space) & set(self.search_space))
        if overlap:
            raise SearchSpaceError(
                overlap[0], "given both in hydra.sweeper.params and hydra.sweeper.search_space"
            )
        space.update(self.search_space)
        if self.custom_search_space:
            for key, entry in _custom_space(self.custom_search_space, self.config).items():
                if key in space:
                    raise SearchSpaceError(
                        key, f"defined by {self.custom_search_space} and by params/search_space"
                    )
                space[key] = entry
        sweep_dir = Path(str(self.config.hydra.sweep.dir)).absolute()
        sweep_dir.mkdir(parents=True, exist_ok=True)
        # as Hydra's own sweepers do: the sweep's config, with its command-line overrides
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        if not space:
            return self._repeat(fixed, sweep_dir)
        # not in the sweep folder: Hydra's default one is new at every run (timestamped),
        # and the same command should continue the same study
        launched = Path(str(self.config.hydra.runtime.cwd))
        storage = self.storage or str(launched / "hposampler.db")
        name = self.study_name or str(self.config.hydra.job.name)
        study = Study.create(
            storage, name, self.sampler, space, self.optim_metrics, seed=self.seed,
            sampler_options=self.sampler_options, load_if_exists=True, pruner=self.pruner,
            warm_start=self.warm_start,
        )  # fmt: skip
        self.job_idx = len(study.records())
        log.info("hposampler study %s in %s: sampler %s, %d trials", name, study.storage.url,
                 self.sampler, self.n_trials)  # fmt: skip
        finished = sum(r.state.is_finished for r in study.records())
        batches = _Batches(
            self, self.n_jobs, max(0, self.n_trials - finished), lambda: _in_flight(study)
        )
        metrics = list(self.optim_metrics)

        def objective(config: dict[str, Any], trial: Any) -> Any:
            overrides = [*fixed, *(_override(k, v) for k, v in _flatten(config).items())]
            return _result(batches.run(overrides, trial.trial_id), metrics)

        failures = _FailureRate(self.max_failure_rate, batches)
        study.optimize(objective, self.n_trials, concurrency=self.n_jobs, callbacks=[failures])
        self._write_results(study, sweep_dir)
        failures.raise_if_exceeded()
        every = _FailureRate(None)  # the whole study, earlier runs of the command included
        for record in study.records():
            every.record(record)
        every.raise_if_exceeded()
        return batches.launched

    def _repeat(self, fixed: list[str], sweep_dir: Path) -> list[list[Any]]:
        """No parameter to optimise: run the job ``n_trials`` times with the same
        config, ``n_jobs`` at a time (as the Optuna sweeper does); nothing is stored."""
        log.info("no parameter to optimise: running the job %d times with the same config",
                 self.n_trials)  # fmt: skip
        metrics = list(self.optim_metrics)
        values: list[Any] = []
        failures = _FailureRate(self.max_failure_rate)
        left = self.n_trials
        launched: list[list[Any]] = []
        while left > 0 and not failures.exceeded():
            size = min(self.n_jobs, left)
            launched.append(list(self.launch([list(fixed) for _ in range(size)])))
            for ret in launched[-1]:
                try:
                    values.append(_result(ret.return_value, metrics))
                    failures.count(False)
                except BaseException as exc:  # the job's own error (or a bad return value)
                    failures.count(True, f"{type(exc).__name__}: {exc}")
            left -= size
        failures.raise_if_exceeded()
        results: dict[str, Any] = {"name": "hposampler", "sampler": None, "best_params": {}}
        if len(metrics) == 1:
            name = metrics[0]
            done = [v[name] for v in values if v[name] is not None]
            pick = min if self.optim_metrics[name] == "min" else max
            results["best_value"] = pick(done) if done else None
        else:
            results["solutions"] = [{"params": {}, "values": list(v.values())} for v in values]
        OmegaConf.save(OmegaConf.create(results), sweep_dir / "optimization_results.yaml")
        return launched

    def _write_results(self, study: Study, sweep_dir: Path) -> None:
        done = [r for r in study.records() if r.state == TrialState.COMPLETE]
        results: dict[str, Any] = {"name": "hposampler", "sampler": self.sampler}
        if not done:
            results["best_params"], results["best_value"] = None, None
            log.warning("no trial completed: optimization_results.yaml has no best trial")
        elif len(self.optim_metrics) == 1:
            best = study.best_trial
            results["best_params"] = _flatten(best.config)
            results["best_value"] = next(iter((best.final_metrics or {}).values()))
        else:
            results["solutions"] = [
                {"params": _flatten(r.config), "values": list((r.final_metrics or {}).values())}
                for r in study.best_trials
            ]
        OmegaConf.save(OmegaConf.create(results), sweep_dir / "optimization_results.yaml")


class _FailureRate:
    """Counts finished jobs and failures; as a study callback, stops the study once
    failed / finished jobs exceed ``max_failure_rate``."""

    def __init__(self, limit: float | None, batches: _Batches | None = None) -> None:
        self.limit, self.failed, self.finished = limit, 0, 0
        self.batches = batches
        self.first_error: str | None = None

    def __call__(self, study: Study, record: Any) -> None:
        self.record(record)
        if self.exceeded():
            study.stop()
            if self.batches is not None:
                self.batches.flush()

    def record(self, record: Any) -> None:
        """One finished trial of the study."""
        lines = (record.error or "").strip().splitlines()
        self.count(record.state == TrialState.FAIL, lines[-1] if lines else "no error stored")

    def count(self, failed: bool, error: str = "") -> None:
        """One finished job; ``error`` is kept for the message if it is the first failure."""
        self.finished += 1
        if failed:
            self.failed += 1
            if self.first_error is None:
                self.first_error = error

    def exceeded(self) -> bool:
        return (
            self.limit is not None
            and self.finished > 0
            and self.failed / self.finished > self.limit
        )

    def raise_if_exceeded(self) -> None:
        """Raise when the sweep stopped for too many failures, or every job failed
        (a non-zero exit, as ``hposampler run`` exits 3 then).

        Raises
        ------
        SweeperError
            Naming the rate, the limit (or the count) and the first failed job's error.
        """
        where = "the jobs' logs are in the sweep dir"
        if self.exceeded():
            raise SweeperError(
                f"{self.failed} of {self.finished} finished jobs failed, more than "
                f"max_failure_rate={self.limit}; the first: {self.first_error}; {where}"
            )
        if self.finished and self.failed == self.finished:
            raise SweeperError(
                f"every job of the sweep failed ({self.failed}); the first: "
                f"{self.first_error}; {where}"
            )


def _in_flight(study: Study) -> int:
    """This process's trials of ``study`` that are sampled and not finished."""
    mine = f"{socket.gethostname()}:{os.getpid()}:"
    return sum(r.state.is_pending and (r.driver or "").startswith(mine) for r in study.records())


class _SpaceRecorder:
    """The ``trial`` a ``custom_search_space`` function is given: its ``suggest_*``
    calls declare parameters (the space is declared once, before any trial)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.space: dict[str, Any] = {}

    def _add(self, name: str, entry: dict[str, Any]) -> None:
        if name in self.space:
            raise SearchSpaceError(name, f"suggested twice by {self.where}")
        self.space[name] = entry

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> None:
        entry: dict[str, Any] = {"value_range": [float(low), float(high)], "value_type": "float"}
        if log:
            entry["log"] = True
        if step is not None:
            entry["n_bins"] = round((high - low) / step) + 1
        self._add(name, entry)

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> None:
        entry: dict[str, Any] = {"value_range": [int(low), int(high)], "value_type": "int"}
        if log:
            entry["log"] = True
        if step != 1:
            entry["n_bins"] = (high - low) // step + 1
        self._add(name, entry)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> None:
        self._add(name, {"categorical_values": list(_plain(choices))})

    @property
    def params(self) -> Any:
        raise SweeperError(
            f"{self.where} read trial.params: hposampler declares the search space once, "
            "before any trial, so a custom_search_space function can add parameters but "
            "not depend on sampled values; for parameters that exist only for some "
            "choices, give hydra.sweeper.search_space with subspaces"
        )


def _custom_space(path: str, config: Any) -> dict[str, Any]:
    """The parameters ``path``'s function declares, given the app's config.

    Raises
    ------
    SweeperError
        When the path names no function.
    """
    from hydra.utils import get_method

    try:
        function = get_method(path)
    except Exception as exc:
        raise SweeperError(
            f"hydra.sweeper.custom_search_space: cannot import {path!r} ({exc}); give the "
            "dotted path of a function (cfg, trial) -> None"
        ) from exc
    recorder = _SpaceRecorder(f"custom_search_space {path}")
    function(config, recorder)
    return recorder.space


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def _result(value: Any, metrics: list[str]) -> Any:
    """The task function's return value as the study's metrics."""
    if isinstance(value, Mapping):
        return dict(value)
    if OmegaConf.is_config(value):
        return _result(OmegaConf.to_container(value), metrics)
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != len(metrics):
            raise MetricsError(
                f"the task returned {len(value)} values for {len(metrics)} directions"
            )
        return {m: float(v) for m, v in zip(metrics, value)}
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MetricsError(
            f"the task function returned {value!r}; return a number (or one per direction)"
        ) from None
    if len(metrics) != 1:
        raise MetricsError(f"the task returned one number for {len(metrics)} directions")
    return {metrics[0]: number if math.isfinite(number) else None}
