"""Exceptions raised by hposampler.

Every error a user can cause derives from :class:`HposamplerError` and also from
the built-in exception a Python programmer would expect (``ValueError`` for bad
values, ``LookupError`` for unknown names, ...), so code can catch either.
Messages name the culprit (a parameter path, a sampler, a plugin) and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "AblatorMetricsError",
    "AblatorSearchAlgoError",
    "AblatorSearchSpaceError",
    "AblatorUnknownTrialError",
    "BenchError",
    "HposamplerError",
    "MetricsError",
    "MissingDependencyError",
    "PluginError",
    "SamplerLockedError",
    "SamplerOptionsError",
    "SearchSpaceError",
    "StorageError",
    "StudyError",
    "UnknownPluginError",
    "UnknownSamplerError",
    "UnknownTrialError",
]


class HposamplerError(Exception):
    """Base class of every error raised by hposampler."""


class UnknownPluginError(HposamplerError, LookupError):
    """No installed plugin provides a sampler, pruner, executor, storage or command of that name.

    ``UnknownSamplerError`` is another name of this class (kept from 0.3), so
    ``except UnknownSamplerError`` still catches every kind.

    Parameters
    ----------
    kind : str
        ``"sampler"``, ``"pruner"``, ``"executor"``, ``"storage"``, ``"command"``, ...
    name : str
        The name that was asked for.
    installed : iterable of str
        Every installed name of that kind.
    suggestions : iterable of str
        Close matches among them.
    note : str
        A sentence to add (e.g. plugins that failed to load may provide it).

    Attributes
    ----------
    kind, name : str
        As given.
    suggestions : list of str
        Close matches among the installed names.
    installed : list of str
        Every installed name, sorted.
    """

    def __init__(
        self,
        kind: str,
        name: str,
        installed: Iterable[str] = (),
        suggestions: Iterable[str] = (),
        note: str = "",
    ) -> None:
        self.kind = kind
        self.name = name
        self.note = note
        self.installed = sorted(installed)
        self.suggestions = list(suggestions)
        msg = f"unknown {kind} {name!r}."
        if self.suggestions:
            msg += " Did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        if self.installed:
            msg += f" Installed {kind}s: " + ", ".join(self.installed) + "."
        else:
            msg += (
                f" No {kind}s are installed: install a plugin distribution, e.g. from"
                " a clone of hposampler `pip install ./core ./plugins/grid ./plugins/optuna`."
            )
        if note:
            msg += f" {note}"
        super().__init__(msg)

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes, like any error
        return (type(self), (self.kind, self.name, self.installed, self.suggestions, self.note))

    def __str__(self) -> str:  # LookupError would repr() the message otherwise
        return str(self.args[0])


#: The name of :class:`UnknownPluginError` before 0.4 (every kind raised it).
UnknownSamplerError = UnknownPluginError


class SearchSpaceError(HposamplerError, ValueError):
    """A search space (or a config checked against one) is malformed.

    Attributes
    ----------
    path : str
        The full path of the offending parameter, e.g.
        ``train_config.optimizer_config.subspaces[1].arguments.lr``.
    reason : str
        What is wrong, without the path.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path else reason)

    def under(self, prefix: str) -> SearchSpaceError:
        """Return the same error with ``prefix`` put in front of its path."""
        if not prefix:
            return self
        if not self.path:
            path = prefix
        elif self.path.startswith("["):
            path = prefix + self.path
        else:
            path = f"{prefix}.{self.path}"
        return SearchSpaceError(path, self.reason)


class MetricsError(HposamplerError, ValueError):
    """Metrics do not match the study's ``optim_metrics`` (names, directions, values)."""


class UnknownTrialError(HposamplerError, KeyError):
    """A trial id that the sampler never issued (or that was dropped)."""

    def __str__(self) -> str:  # KeyError would repr() the message otherwise
        return str(self.args[0])


class SamplerLockedError(HposamplerError, RuntimeError):
    """``eager_sample`` / ``unlock`` were called out of order."""


class SamplerOptionsError(HposamplerError, TypeError):
    """A backend option is unknown or has the wrong type; the message lists the valid ones."""


class MissingDependencyError(HposamplerError, ImportError):
    """A sampler needs an optional library that is not installed."""


class PluginError(HposamplerError, RuntimeError):
    """A plugin failed to load or registered something invalid or clashing."""


class StudyError(HposamplerError, RuntimeError):
    """A study cannot be created, loaded or run as asked (e.g. it already exists)."""


class BenchError(StudyError):
    """A benchmark cannot run as asked: unknown suite or task, a broken suite, a
    results file that does not match (``hposampler bench``)."""


class StorageError(HposamplerError, ValueError):
    """Stored study data is missing, corrupted or of an unknown schema version."""


# -- ablator compatibility (hposampler.compat.ablator) ---------------------------------
# Each is the hposampler error *and* the built-in class ablator raises in that case, so
# code written against ablator's samplers (``except ValueError`` ...) keeps working.


class AblatorSearchAlgoError(UnknownSamplerError, ValueError):
    """An unknown ``search_algo``: ablator raises ``ValueError``, hposampler a ``LookupError``."""

    def __init__(self, name: str, installed: Iterable[str], suggestions: Iterable[str] = ()):
        super().__init__("sampler", name, installed, suggestions)
        self.args = (f"{name!r} is not a valid SearchAlgo: {self.args[0]}",)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.installed, self.suggestions))


class AblatorSearchSpaceError(SearchSpaceError):
    """A search space ablator's samplers refuse, with ablator's message (and the path)."""

    def __init__(self, path: str, reason: str, message: str) -> None:
        super().__init__(path, reason)
        self.message = message

    def __str__(self) -> str:
        return self.message


class AblatorMetricsError(MetricsError):
    """Metrics or ``optim_metrics`` ablator's ``OptunaSampler`` refuses (a ``ValueError``)."""


class AblatorUnknownTrialError(UnknownTrialError, RuntimeError):
    """ablator's ``RuntimeError("Trial N was not found.")``, also an :class:`UnknownTrialError`."""
