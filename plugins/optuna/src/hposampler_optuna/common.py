"""What the sampler, the pruners and the views of this plugin share.

The bottom module of ``hposampler_optuna``: it imports none of the others, and
imports Optuna only when a function runs.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator

__all__ = ["STUDY_NAME", "quiet_experimental", "quiet_optuna"]

#: The study name of the pruners' mirror and of samplers that share a pruner, so that
#: Optuna's Hyperband puts a trial in the same bracket in both.
STUDY_NAME = "hposampler"

_quiet_lock = threading.Lock()
_quieted = False


def quiet_optuna() -> None:
    """Optuna logs every finished trial at INFO; keep its default handler at WARNING once."""
    import optuna

    global _quieted
    with _quiet_lock:
        if not _quieted and optuna.logging.get_verbosity() == optuna.logging.INFO:
            optuna.logging.set_verbosity(optuna.logging.WARNING)
        _quieted = True


@contextlib.contextmanager
def quiet_experimental() -> Iterator[None]:
    """Silence Optuna's ExperimentalWarning while building a sampler the user asked for."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield
