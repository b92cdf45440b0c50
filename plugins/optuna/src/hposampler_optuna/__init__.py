"""Optuna for hposampler: Optuna's samplers and pruners as hposampler backends
(:mod:`.plugin`), and the way back, any hposampler sampler in an Optuna study
(:class:`HposamplerSampler`). The views of a study through Optuna (``to_optuna``,
the report, the dashboard) moved to hposampler-views (``hposampler_views``); their
old names here still work for one release, with a ``DeprecationWarning``.

Importing this package does not import Optuna; the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["HposamplerSampler", "space_from_distributions"]

_WHERE = {
    "HposamplerSampler": ".frontend",
    "space_from_distributions": ".frontend",
}
_VIEWS = ("to_optuna", "distributions_of", "importances")  # moved to hposampler_views


def __getattr__(name: str) -> Any:
    if name in _VIEWS:
        from ._moved import moved_name

        return moved_name(name)
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
