"""Checks of the arguments users give a study (API and CLI share them).

Each check returns the value or raises :class:`~hposampler.errors.StudyError`
naming the argument, what it got and what it accepts, before anything is stored.
"""

from __future__ import annotations

import math
from typing import Any

from hposampler.errors import StudyError

__all__ = [
    "MAX_COUNT",
    "MAX_NAME_LENGTH",
    "count",
    "seconds",
    "study_name",
    "user_attr",
    "user_attrs",
]

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


#: The largest count of trials (or of anything else) accepted: trial ids stay below it.
MAX_COUNT = 2**53


def count(value: Any, what: str, minimum: int = 0) -> int:
    """An int of at least ``minimum`` and at most :data:`MAX_COUNT` (``bool`` is not a
    count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise StudyError(f"{what} must be {kind}, got {value!r}")
    if value > MAX_COUNT:
        raise StudyError(f"{what} must be at most 2**53 ({MAX_COUNT}), got {value}")
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


def fraction(value: Any, what: str) -> float | None:
    """A share from 0.0 to 1.0, or ``None`` (e.g. ``max_failure_rate``)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0.0 <= value <= 1.0  # NaN fails this too
    ):
        raise StudyError(f"{what} must be a number from 0.0 to 1.0 (or None), got {value!r}")
    return float(value)


#: The longest user attribute key accepted.
MAX_KEY_LENGTH = 200


def user_attr(key: Any, value: Any) -> tuple[str, Any]:
    """A user attribute: a text key and a JSON value (returned as JSON reads it back).

    Tuples become lists, as in JSON; NaN and infinities are refused (JSON has none).
    """
    import json

    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise StudyError(
            f"a user attribute key must be text of 1 to {MAX_KEY_LENGTH} characters, got {key!r}"
        )
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StudyError(
            f"user attribute {key!r}: {type(value).__name__} {value!r:.80} is not JSON ({exc}); "
            "give numbers, strings, booleans, None, or lists and dicts of them"
        ) from None
    return key, json.loads(text)


def user_attrs(values: Any) -> dict[str, Any]:
    """A mapping of user attributes, each checked by :func:`user_attr`."""
    from collections.abc import Mapping

    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise StudyError(f"user_attrs must be a dict of keys to JSON values, got {values!r}")
    return dict(user_attr(k, v) for k, v in values.items())
