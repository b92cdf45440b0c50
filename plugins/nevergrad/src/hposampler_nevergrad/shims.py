"""Three repairs for nevergrad 1.0 (nevergrad's own module globals, and one warning).

1. NGOpt's metamodel on NumPy 2.x.
   ``nevergrad.optimization.metamodel.learn_on_k_best`` minimises a surrogate
   whose loss is ``float(model.predict(x[None, :]))``: the prediction is a
   1-element *1-d* array, and NumPy 2.x refuses ``float()`` of an array with
   ``ndim > 0`` ("only 0-dimensional arrays can be converted to Python
   scalars"). NGOpt picks that metamodel for many budgets with
   ``num_workers > 1``, so every such study failed after its first few trials.
   The metamodel module gets its own ``float`` (:func:`scalar_float`), which
   takes the single element of a size-1 array and is the builtin otherwise.
2. Processes that never exit. Optimizers recast from scipy (COBYLA, SQP, ...,
   which NGOpt picks for one worker) run scipy in a non-daemon thread that waits
   for the next tell and is only stopped when the optimizer is
   garbage-collected, which the waiting thread itself prevents. A process that
   stopped asking before the budget was spent (a timeout, Ctrl-C, a resumable
   study) hung at exit. These threads are made daemons: at exit the
   interpreter drops them.
3. A warning users cannot act on. NGOpt's COBYLA asks scipy for a final trust
   radius larger than its first, and scipy says so on every such run
   ("COBYLA: Invalid RHOEND ... it is set to 1e-06", a ``UserWarning`` from
   ``scipy._lib.pyprima``), so every ``auto`` study on continuous parameters
   printed it. That one message, from that module, is ignored.

:func:`apply` is idempotent.
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any

__all__ = ["apply", "scalar_float"]

_applied = False


def scalar_float(value: Any = 0.0) -> float:
    """``float(value)``, also for a NumPy array holding exactly one element."""
    size = getattr(value, "size", None)
    if size == 1 and getattr(value, "ndim", 0) > 0:
        return builtins.float(value.reshape(-1)[0])
    return builtins.float(value)


def apply() -> None:
    """Install the three repairs (the warning filter again on every call: a
    ``warnings.catch_warnings()`` block around an earlier call restores the
    filters it found, dropping it)."""
    global _applied
    warnings.filterwarnings(  # the same filter is replaced, never stacked
        "ignore", message="COBYLA: Invalid RHOEND", category=UserWarning, module=r"scipy\."
    )
    if _applied:
        return
    from nevergrad.optimization import metamodel, recaster

    metamodel.float = scalar_float
    thread_init = recaster._MessagingThread.__init__

    def daemon_init(self: Any, *args: Any, **kwargs: Any) -> None:
        thread_init(self, *args, **kwargs)
        self.daemon = True

    recaster._MessagingThread.__init__ = daemon_init
    _applied = True
