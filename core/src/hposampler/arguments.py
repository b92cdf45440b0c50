"""Checks of the arguments users give a study (API and CLI share them).

Each check returns the value or raises :class:`~hposampler.errors.StudyError`
naming the argument, what it got and what it accepts, before anything is stored.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import StudyError

__all__ = ["MAX_NAME_LENGTH", "count", "seconds", "study_name"]

#: The longest study name accepted (names are shown in tables and plot titles).
MAX_NAME_LENGTH = 200


def study_name(name: Any) -> str:
    """A study name: non-empty printable text of at most :data:`MAX_NAME_LENGTH` characters."""
    if not isinstance(name, str):
        raise StudyError(f"a study name must be text, got {type(name).__name__} {name!r}")
    if not name or len(name) > MAX_NAME_LENGTH:
        raise StudyError(
            f"a study name must have 1 to {MAX_NAME_LENGTH} characters, got {len(name)}"
        )
    if not name.isprintable():
        raise StudyError(
            f"study name {name!r} holds a control character (newline, tab, NUL, ...); "
            "use printable text"
        )
    return name


def count(value: Any, what: str, minimum: int = 0) -> int:
    """An int of at least ``minimum`` (``bool`` is not a count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise StudyError(f"{what} must be {kind}, got {value!r}")
    return value


def seconds(value: Any, what: str, optional: bool = True) -> float | None:
    """A positive, finite number of seconds (or ``None`` when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StudyError(
            f"{what} must be a number of seconds, got {type(value).__name__} {value!r}"
        )
    if not math.isfinite(value) or value <= 0:
        raise StudyError(f"{what} must be a positive, finite number of seconds, got {value!r}")
    return float(value)
