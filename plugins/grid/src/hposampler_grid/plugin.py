"""hposampler plugin: registers ``grid:shuffled`` (alias ``grid``) and ``grid:ordered``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hposampler import OptionSpec, SamplerSpec, hookimpl

EXHAUSTED = OptionSpec(
    "exhausted",
    "cycle",
    doc="when every point was sampled: 'cycle' (new order, ablator's behaviour) or 'stop'",
    choices=("cycle", "stop"),
)


def shuffled(search_space: Any, **kwargs: Any) -> Any:
    """Build a grid sampler visiting points in a seeded shuffled order."""
    from .sampler import GridSampler

    return GridSampler(search_space, order="shuffled", **kwargs)


def ordered(search_space: Any, **kwargs: Any) -> Any:
    """Build a grid sampler visiting points in lexicographic order."""
    from .sampler import GridSampler

    return GridSampler(search_space, order="ordered", **kwargs)


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register the grid samplers."""
    common: dict[str, Any] = {
        "options": (EXHAUSTED,),
        "exhaustive": True,
        "conditional": True,
        "concurrent": True,
        "multi_objective": True,
        "deterministic": True,
        "needs_metrics": False,
    }
    register(
        SamplerSpec(
            "grid:shuffled",
            shuffled,
            aliases=("grid",),
            description="every grid point once per cycle, seeded shuffled order, O(1) memory",
            **common,
        )
    )
    register(
        SamplerSpec(
            "grid:ordered",
            ordered,
            description="every grid point once per cycle in lexicographic order",
            **common,
        )
    )
