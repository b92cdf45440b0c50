"""Testing helpers for sampler authors.

* :func:`check_sampler` and :func:`parametrize_with_checks`: the conformance kit
  (:mod:`hposampler.testing.checks`);
* :func:`check_pruner`: the same for pruners (:mod:`hposampler.testing.pruners`);
* :mod:`hposampler.testing.strategies`: hypothesis strategies for search spaces
  (needs ``hypothesis``).
"""

from .checks import (
    CHECK_TIMEOUT,
    CHECKS,
    SPACES,
    CheckNotApplicable,
    Configured,
    check_sampler,
    parametrize_with_checks,
    run_check,
    space_violation,
)
from .pruners import check_pruner

__all__ = [
    "CHECKS",
    "CHECK_TIMEOUT",
    "SPACES",
    "CheckNotApplicable",
    "Configured",
    "check_pruner",
    "check_sampler",
    "parametrize_with_checks",
    "run_check",
    "space_violation",
]
