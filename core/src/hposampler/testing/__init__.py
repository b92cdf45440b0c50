"""Testing helpers for sampler authors.

* :func:`check_sampler` and :func:`parametrize_with_checks`: the conformance kit
  (:mod:`hposampler.testing.checks`);
* :func:`check_pruner`: the same for pruners (:mod:`hposampler.testing.pruners`);
* :func:`check_storage` and :func:`check_executor`: the same for storages and
  executors (:mod:`hposampler.testing.storages`, :mod:`hposampler.testing.executors`);
* :mod:`hposampler.testing.strategies`: hypothesis strategies for search spaces
  (needs ``hypothesis``).
"""

from hposampler.testing.checks import (
    CALL_TIMEOUT,
    CHECKS,
    SPACES,
    CheckHung,
    CheckNotApplicable,
    Configured,
    call_limit,
    check_sampler,
    machine_slowness,
    parametrize_with_checks,
    quick_mode,
    run_check,
    space_violation,
)
from hposampler.testing.executors import check_executor
from hposampler.testing.pruners import check_pruner
from hposampler.testing.storages import STORAGE_CHECKS, check_storage

__all__ = [
    "CALL_TIMEOUT",
    "CHECKS",
    "SPACES",
    "STORAGE_CHECKS",
    "CheckHung",
    "CheckNotApplicable",
    "Configured",
    "call_limit",
    "check_executor",
    "check_pruner",
    "check_sampler",
    "check_storage",
    "machine_slowness",
    "parametrize_with_checks",
    "quick_mode",
    "run_check",
    "space_violation",
]
