"""Testing helpers for sampler authors.

* :func:`check_sampler` and :func:`parametrize_with_checks`: the conformance kit
  (:mod:`hposampler.testing.checks`);
* :mod:`hposampler.testing.strategies`: hypothesis strategies for search spaces
  (needs ``hypothesis``).
"""

from .checks import CHECKS, SPACES, check_sampler, parametrize_with_checks, space_violation

__all__ = ["CHECKS", "SPACES", "check_sampler", "parametrize_with_checks", "space_violation"]
