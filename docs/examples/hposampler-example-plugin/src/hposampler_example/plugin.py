"""The module named by the entry point: registers ``example:halton``."""

from __future__ import annotations

from collections.abc import Callable

from hposampler import OptionSpec, SamplerSpec, hookimpl

from .halton import HaltonSampler


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register the Halton sampler."""
    register(
        SamplerSpec(
            "example:halton",
            HaltonSampler,
            aliases=("halton",),
            description="scrambled Halton sequence: even, quasi-random coverage",
            options=(OptionSpec("skip", 20, (int,), "leading sequence points to skip"),),
            multi_objective=True,  # it ignores metrics, so any number is fine
            conditional=False,  # samples branches evenly but does not learn them
            concurrent=True,
            deterministic=True,
            needs_metrics=False,  # result-blind by design: the kit skips its learning checks
        )
    )
