"""Ray for hposampler: trials as Ray tasks (:mod:`.executor`), and any hposampler sampler
as a Ray Tune searcher (:class:`HposamplerSearch`, needs ``ray[tune]``).

Importing this package does not import Ray; the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["HposamplerSearch", "space_from_tune"]

_WHERE = {"HposamplerSearch": ".search", "space_from_tune": ".search"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
