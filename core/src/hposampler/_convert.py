"""The cattrs converter shared by hposampler's data classes (JSON-friendly), and its errors."""

from __future__ import annotations

import cattrs
from cattrs import transform_error

__all__ = ["converter", "describe", "leaves"]

#: Structures JSON data into hposampler's attrs classes and back. Extra keys are
#: rejected so a typo in a stored record or a config file is an error, not ignored.
converter = cattrs.Converter(forbid_extra_keys=True)


def leaves(exc: BaseException) -> list[BaseException]:
    """The individual exceptions inside a cattrs validation error (or ``[exc]``)."""
    if isinstance(exc, cattrs.BaseValidationError):
        out: list[BaseException] = []
        for sub in exc.exceptions:
            out.extend(leaves(sub))
        return out
    return [exc]


def _format(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, (KeyError, TypeError, ValueError)) and not isinstance(
        exc, cattrs.BaseValidationError
    ):
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        if text:
            return text
    return str(cattrs.v.format_exception(exc, type_))


def describe(exc: BaseException) -> str:
    """One line for a structuring error, with cattrs' paths (``... @ $.seed``)."""
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(transform_error(exc, path="$", format_exception=_format))
    return _format(exc, None)
