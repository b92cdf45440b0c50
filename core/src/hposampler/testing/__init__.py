"""Testing helpers for sampler authors.

* :func:`check_sampler` and :func:`parametrize_with_checks`: the conformance kit
  (:mod:`hposampler.testing.checks`);
* :func:`check_pruner`: the same for pruners (:mod:`hposampler.testing.pruners`);
* :mod:`hposampler.testing.strategies`: hypothesis strategies for search spaces
  (needs ``hypothesis``).
"""

from hposampler.testing.checks import (
    CALL_TIMEOUT,
    CHECK_TIMEOUT,
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
from hposampler.testing.pruners import check_pruner

__all__ = [
    "CALL_TIMEOUT",
    "CHECKS",
    "CHECK_TIMEOUT",
    "SPACES",
    "CheckHung",
    "CheckNotApplicable",
    "Configured",
    "call_limit",
    "check_pruner",
    "check_sampler",
    "machine_slowness",
    "parametrize_with_checks",
    "quick_mode",
    "run_check",
    "space_violation",
]
