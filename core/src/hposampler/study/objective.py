"""Objectives: loading one by name, the trial handle it runs against, reading its result.

An objective is ``objective(config)`` or ``objective(config, trial)``; it returns a
number (one optimised metric) or a dict holding every optimised metric (other
keys are kept as JSON extras). ``trial`` is a :class:`TrialHandle`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import json
import numbers
import os
import signal
import socket
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from hposampler.errors import MetricsError, StudyError
from hposampler.samplers.trial import metric_value, short_repr
from hposampler.study.messages import (
    Outcome,
    Report,
    Request,
    SetUserAttr,
    ShouldPrune,
    StopStudy,
    raise_reply,
)

#: The most characters of JSON an objective's extras may take: well below what a
#: storage reads back per column (``hposampler.storage.base.MAX_JSON_CHARS``), so a
#: trial with huge extras fails with this reason instead of failing to be stored.
MAX_EXTRA_CHARS = 1024 * 1024

__all__ = [
    "Objective",
    "ObjectiveExit",
    "TrialHandle",
    "TrialTimeout",
    "import_problem",
    "load_objective",
    "run_objective",
    "split_result",
    "take_constraints",
]

#: An objective: ``objective(config)`` or ``objective(config, trial)``.
Objective = Callable[..., Any]


@attrs.frozen
class TrialHandle:
    """What an objective runs against: the trial being evaluated.

    An objective that takes a second positional argument receives one. It is a
    small picklable value, so it reaches thread, process and Ray workers alike.

    Attributes
    ----------
    trial_id : int
        The trial's id in the study (dense: 0, 1, 2, ...).
    config : dict
        The sampled configuration (the same dict as the first argument).
    attempt : int
        1 for the first run of this trial, more when a lost trial is re-run.

    Examples
    --------
    An objective that reports each epoch and stops when the pruner says so::

        def objective(config, trial):
            for epoch in range(100):
                loss = train_one_epoch(config)
                trial.report(epoch, loss)          # stored now; a crash keeps it
                if trial.should_prune():
                    raise hposampler.TrialPruned()
            return loss
    """

    trial_id: int
    config: dict[str, Any]
    attempt: int = 1
    channel: Any = attrs.field(default=None, eq=False, repr=False)

    def _call(self, message: Request) -> Any:
        if self.channel is None:
            raise StudyError(
                "this trial handle is not attached to a running study: report(), "
                "should_prune(), set_user_attr() and stop_study() work inside "
                "Study.optimize (or `hposampler run`), with an executor that carries "
                "reports (thread, process, ray)"
            )
        return raise_reply(self.channel.call(message))

    def report(self, step: int, metrics: Any) -> None:
        """Store an intermediate result of this trial (e.g. after an epoch).

        Parameters
        ----------
        step : int
            Where the trial is (epoch, iteration, ...); steps must not decrease.
        metrics : float or dict
            The optimised metric (a number, when the study has one) or a dict of
            every optimised metric.

        Raises
        ------
        MetricsError
            For a decreasing step, a step that is not an int, or metrics that
            are not the study's optimised metrics.

        Notes
        -----
        The report is stored before this returns, reaches the sampler as
        ``update_trial(..., RUNNING)`` and the pruner as one more point of this
        trial's learning curve.
        """
        self._call(Report(self.trial_id, step, metrics))

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON value to this trial under ``key`` (stored before this returns).

        Raises
        ------
        StudyError
            If ``key`` is not a string or ``value`` is not JSON (numbers, strings,
            booleans, ``None``, lists and dicts of them).
        """
        from hposampler.study.arguments import user_attr

        self._call(SetUserAttr(self.trial_id, *user_attr(key, value)))

    def stop_study(self) -> None:
        """Stop the study after the running trials: ``Study.stop()`` from an objective.

        Works from every executor (threads, processes, Ray): the request reaches the
        runner, which starts no new trial; running ones finish and are stored.
        """
        self._call(StopStudy(self.trial_id))

    def should_prune(self) -> bool:
        """Whether the study's pruner says this trial should stop now.

        Always ``False`` in a study without a pruner. Stop by raising
        :class:`hposampler.TrialPruned`; the trial then ends in
        ``PRUNED_POOR_PERFORMANCE``.
        """
        return bool(self._call(ShouldPrune(self.trial_id)))


class ObjectiveExit(RuntimeError):
    """An objective called ``sys.exit()``: its trial fails, the study goes on."""


class TrialTimeout(Exception):
    """An objective ran longer than the study's ``trial_timeout``: its trial fails."""


@contextlib.contextmanager
def _alarm(timeout: float | None) -> Iterator[None]:
    """Raise :class:`TrialTimeout` in the running code after ``timeout`` seconds.

    Only in a process's main thread (worker processes, Ray tasks), where signals
    are delivered; elsewhere the runner abandons a late trial instead.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if timeout is None or not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TrialTimeout(f"the objective ran longer than trial_timeout={timeout:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_objective(path: str) -> Objective:
    """Import ``"package.module:function"`` and return the function.

    Raises
    ------
    StudyError
        If the string is malformed, the module cannot be imported or the name
        is not a callable.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise StudyError(
            f"objective {path!r} must look like 'package.module:function', "
            "e.g. 'hposampler.problems:branin'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StudyError(
            f"cannot import objective module {module_name!r}: {exc}. Is it installed, or in "
            "the folder of the study file?"
        ) from None
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
    if not callable(target):
        raise StudyError(f"objective {path!r}: {module_name} has no callable {attr!r}")
    objective: Objective = target
    return objective


def import_problem(objective: Any) -> str | None:
    """Why worker processes could not import ``objective`` by name, or ``None``.

    Worker processes receive a function by reference (``module.qualname``), so
    it must be defined at module level and reachable under that name: not a
    lambda, not a function nested in another. ``functools.partial`` objects are
    judged by their function; other callable objects by their class.
    """
    while isinstance(objective, functools.partial):
        objective = objective.func
    target = (
        objective
        if callable(objective) and hasattr(objective, "__qualname__")
        else (type(objective))
    )
    qualname = getattr(target, "__qualname__", "")
    module_name = getattr(target, "__module__", None)
    if "<lambda>" in qualname:
        return "it is a lambda"
    if "<locals>" in qualname:
        return f"{qualname} is defined inside another function"
    if not module_name:
        return f"{qualname or target!r} belongs to no module"
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return f"{module_name}.{qualname} cannot be imported by that name"
    if found is not target:
        return f"{module_name}.{qualname} names another object"
    return None


def wants_trial(objective: Objective) -> bool:
    """Whether ``objective`` takes a second positional argument (the trial handle)."""
    try:
        signature = inspect.signature(objective)
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 2


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def run_objective(
    objective: Objective,
    trial: TrialHandle,
    pass_trial: bool = False,
    timeout: float | None = None,
) -> Outcome:
    """Run the objective on a trial in a worker; never raises an ``Exception``.

    Returns the :class:`~hposampler.study.messages.Outcome`. Executors call
    this so that the traceback is captured where it happened. With ``timeout``,
    a worker process interrupts the objective with :class:`TrialTimeout`.
    """
    worker = _worker_name()
    try:
        with _alarm(timeout):
            if pass_trial:
                return Outcome(True, objective(trial.config, trial), "", worker)
            return Outcome(True, objective(trial.config), "", worker)
    except Exception as exc:
        return Outcome(False, exc, traceback.format_exc(), worker)
    except SystemExit as exc:  # sys.exit() in an objective fails the trial, not the study
        error = ObjectiveExit(
            f"the objective called sys.exit({exc.code!r}); raise an exception to fail a "
            "trial instead"
        )
        return Outcome(False, error, traceback.format_exc() + f"{error}\n", worker)


def take_constraints(extra: dict[str, Any], names: Sequence[str]) -> dict[str, float | None]:
    """Move the study's constraint values out of an objective's extras (in place).

    Raises
    ------
    MetricsError
        When a constraint value is missing or not a number.
    """
    out: dict[str, float | None] = {}
    for name in names:
        if name not in extra:
            raise MetricsError(
                f"the objective returned no value for constraint {name!r}; return it in the "
                f'result dict beside the metrics, e.g. {{"loss": ..., "{name}": ...}} '
                "(feasible when <= 0)"
            )
        out[name] = metric_value(extra.pop(name), name)
    return out


def split_result(
    result: Any, optim_metrics: Mapping[str, str]
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """An objective's result -> (metrics for the sampler, JSON extras).

    Raises
    ------
    MetricsError
        When the result is not a number / dict of the optimised metrics.
    """
    names = list(optim_metrics)
    if not isinstance(result, Mapping):
        if len(names) == 1:
            try:
                return {names[0]: metric_value(result, names[0])}, {}
            except MetricsError:
                if isinstance(result, numbers.Real) and not isinstance(result, bool):
                    raise  # a number, but too large for a float: that is the reason
        elif _is_number(result):
            raise MetricsError(
                f"the objective returned a single number but the study optimises "
                f"{len(names)} metrics ({', '.join(names)}); return a dict with those keys"
            )
        raise MetricsError(
            f"the objective returned {type(result).__name__} {short_repr(result)}; return a "
            f"number or a dict with keys {', '.join(names)}"
        )
    missing = [n for n in names if n not in result]
    if missing:
        raise MetricsError(
            f"the objective's result {sorted(map(str, result))} lacks the optimised metric(s) "
            f"{', '.join(missing)}; optim_metrics are {', '.join(names)}"
        )
    metrics = {name: metric_value(result[name], name) for name in names}
    extras: dict[str, Any] = {}
    size = 0
    for key, extra in result.items():
        if key in optim_metrics:
            continue
        try:
            text = json.dumps(extra, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            try:
                extra = repr(extra)  # stored as text: extras must be plain JSON
            except (ValueError, RecursionError):  # a huge int, a structure nested too deep
                raise MetricsError(
                    f"extra {str(key)!r} of the objective's result cannot be stored (neither "
                    f"JSON nor printable): {short_repr(extra)}; return plain numbers, strings, "
                    "lists and dicts"
                ) from None
            text = json.dumps(extra)
        clash = _key_clash({key: extra}) or (str(key) if str(key) in extras else None)
        if clash is not None or str(key) in optim_metrics:
            raise MetricsError(
                f"the objective's result holds two keys stored as {clash or str(key)!r} "
                "(JSON keys are text: 1 and '1' are one key, and an extra may not take a "
                "metric's name); rename one of them"
            )
        size += len(text)
        if size > MAX_EXTRA_CHARS:
            raise MetricsError(
                f"the objective's extras are over {MAX_EXTRA_CHARS} characters (at {str(key)!r}), "
                "more than a storage reads back; return summaries, and save large outputs "
                "to files"
            )
        extras[str(key)] = extra
    return metrics, extras


def _key_clash(value: Any, path: str = "") -> str | None:
    """The path of a dict whose keys collide once made text (``1`` and ``"1"``), if any."""
    if isinstance(value, Mapping):
        texts: set[str] = set()
        for key, item in value.items():
            text = str(key) if not isinstance(key, bool) else json.dumps(key)
            where = f"{path}.{text}" if path else text
            if text in texts:
                return where
            texts.add(text)
            found = _key_clash(item, where)
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _key_clash(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def _is_number(value: Any) -> bool:
    try:
        metric_value(value)
    except MetricsError:
        return False
    return value is not None
