"""Optuna for hposampler: Optuna's samplers as hposampler backends (:mod:`.plugin`), and
the way back, any hposampler sampler in an Optuna study (:class:`HposamplerSampler`),
and an Optuna view of any hposampler study for Optuna's plots and importances
(:func:`to_optuna`).

Importing this package does not import Optuna; the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "HposamplerSampler",
    "distributions_of",
    "importances",
    "space_from_distributions",
    "to_optuna",
]

_WHERE = {
    "HposamplerSampler": ".frontend",
    "space_from_distributions": ".frontend",
    "to_optuna": ".view",
    "distributions_of": ".view",
    "importances": ".view",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
