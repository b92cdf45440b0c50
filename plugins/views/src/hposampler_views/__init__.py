"""Views of hposampler studies through Optuna: :func:`to_optuna`, :func:`importances`,
an offline HTML report (:mod:`.report`) and a live dashboard (:mod:`.dashboard`);
the ``report``, ``dashboard`` and ``importance`` commands (:mod:`.plugin`).

Importing this package does not import Optuna; the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["distributions_of", "importances", "to_optuna"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(".view", __name__), name)
