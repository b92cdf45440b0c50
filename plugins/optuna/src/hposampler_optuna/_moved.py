"""The views' old paths in this distribution (``hposampler_optuna.view``, ``.report``,
``.dashboard``, ``hposampler_optuna.to_optuna``), kept for one release."""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any

__all__ = ["moved", "moved_name"]

_WHERE = "the hposampler-views distribution"


def _load(new: str, old: str) -> Any:
    try:
        return importlib.import_module(new)  # not a static import: plugins stay independent
    except ImportError as exc:
        raise ImportError(
            f"{old} moved to {new} in {_WHERE}, which is not installed ({exc}); "
            "install hposampler-views"
        ) from None


def moved(old: str, new: str) -> None:
    """Make module ``old`` (being imported) the module ``new``, with a warning."""
    warnings.warn(
        f"{old} moved to {new} ({_WHERE}); import it from there (the old path goes in the "
        "next release)",
        DeprecationWarning,
        stacklevel=3,
    )
    sys.modules[old] = _load(new, old)


def moved_name(name: str) -> Any:
    """``hposampler_optuna.<name>`` of the views, from ``hposampler_views``, with a warning."""
    warnings.warn(
        f"hposampler_optuna.{name} moved to hposampler_views.{name} ({_WHERE}); import it "
        "from there (the old name goes in the next release)",
        DeprecationWarning,
        stacklevel=3,
    )
    return getattr(_load("hposampler_views.view", f"hposampler_optuna.{name}"), name)
