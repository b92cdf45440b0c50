"""The sampler contract: ablator's ``BaseSampler`` with its rules enforced.

:mod:`~hposampler.samplers.trial`
    :class:`TrialState` (ablator's states) and :class:`Trial`, what a sampler
    resumes from.
:mod:`~hposampler.samplers.tables`
    Compact per-trial tables (one byte of state per trial, dense id maps).
:mod:`~hposampler.samplers.base`
    :class:`BaseSampler`: ``eager_sample`` / ``unlock`` / ``update_trial`` /
    ``internal_repr``, seeds, metrics and constraints.
:mod:`~hposampler.samplers.pending`
    :class:`ConstantLiar`, pending trials for array-based backends.
:mod:`~hposampler.samplers.asktell`
    :class:`AskTellSampler`, the base of adapters around a minimising ask/tell
    optimiser (sign, deferred worst values, pending points, internal state,
    resume reseeding).

This package builds on :mod:`hposampler.space` and :mod:`hposampler.errors` only.
It knows nothing of plugins: lifecycle hooks reach a sampler through
:meth:`BaseSampler.attach_hooks`, which :func:`hposampler.make_sampler` calls.
"""

from __future__ import annotations

from hposampler.samplers.asktell import AskTellSampler
from hposampler.samplers.base import BaseSampler, Direction, check_seed, normalize_optim_metrics
from hposampler.samplers.pending import STRATEGIES, ConstantLiar
from hposampler.samplers.tables import DenseIntMap, StateTable
from hposampler.samplers.trial import Trial, TrialState

__all__ = [
    "STRATEGIES",
    "AskTellSampler",
    "BaseSampler",
    "ConstantLiar",
    "DenseIntMap",
    "Direction",
    "StateTable",
    "Trial",
    "TrialState",
    "check_seed",
    "normalize_optim_metrics",
]
