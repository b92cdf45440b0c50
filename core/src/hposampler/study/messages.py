"""What travels between a running objective and the runner: typed records, not tuples.

* An objective's requests (:class:`Report`, :class:`ShouldPrune`,
  :class:`SetUserAttr`, :class:`StopStudy`) travel through an executor's
  channels and are answered in the driver thread.
* A :class:`Reply` comes back: a value, or the error's class name and message,
  so that the objective sees the same error class the runner raised
  (:func:`raise_reply`).
* :class:`Outcome` is what an objective's run ends in: its result or its
  exception, with the traceback captured where it ran and the worker's name.

All are small frozen records, picklable, so they cross thread, process and Ray
boundaries alike.
"""

from __future__ import annotations

from typing import Any

import attrs

from hposampler import errors

__all__ = [
    "Outcome",
    "Reply",
    "Report",
    "Request",
    "SetUserAttr",
    "ShouldPrune",
    "StopStudy",
    "error_reply",
    "raise_reply",
]


@attrs.frozen
class Report:
    """``trial.report(step, metrics)``: store an intermediate result."""

    trial_id: int
    step: Any
    metrics: Any


@attrs.frozen
class ShouldPrune:
    """``trial.should_prune()``: ask the study's pruner."""

    trial_id: int


@attrs.frozen
class SetUserAttr:
    """``trial.set_user_attr(key, value)``: store a JSON value with the trial."""

    trial_id: int
    key: str
    value: Any


@attrs.frozen
class StopStudy:
    """``trial.stop_study()``: start no new trial."""

    trial_id: int


#: Any request an objective sends to the runner.
Request = Report | ShouldPrune | SetUserAttr | StopStudy


@attrs.frozen
class Reply:
    """The runner's answer to a :data:`Request`.

    Attributes
    ----------
    value : object
        The answer when ``error`` is ``None``.
    error : str or None
        The class name of the error the runner raised (a class of
        :mod:`hposampler.errors`, or any other exception's name).
    message : str
        The error's message.
    """

    value: Any = None
    error: str | None = None
    message: str = ""


def error_reply(exc: BaseException) -> Reply:
    """The :class:`Reply` that carries ``exc`` back to the objective."""
    if isinstance(exc, errors.HposamplerError):
        return Reply(error=type(exc).__name__, message=str(exc))
    return Reply(error=type(exc).__name__, message=f"{type(exc).__name__}: {exc}")


def raise_reply(reply: Reply) -> Any:
    """The reply's value, or its error raised as the same :mod:`hposampler.errors` class.

    An error of a class outside :mod:`hposampler.errors` (a broken pruner's
    ``ZeroDivisionError``, say), or of one that needs more than a message to
    build, is raised as :class:`~hposampler.errors.StudyError` with its name.
    """
    if reply.error is None:
        return reply.value
    cls = getattr(errors, reply.error, None)
    if isinstance(cls, type) and issubclass(cls, errors.HposamplerError):
        try:
            exc = cls(reply.message)
        except TypeError:  # a constructor that takes more than a message
            exc = None
        if exc is not None and str(exc) == reply.message:
            raise exc
    raise errors.StudyError(reply.message)


@attrs.frozen
class Outcome:
    """How one run of an objective ended.

    Attributes
    ----------
    ok : bool
        Whether it returned.
    value : object
        What it returned, or the exception it raised.
    traceback : str
        The traceback, captured where the objective ran (empty when ``ok``).
    worker : str
        ``host:pid:thread`` of the worker that ran it.
    """

    ok: bool
    value: Any
    traceback: str = ""
    worker: str = ""
