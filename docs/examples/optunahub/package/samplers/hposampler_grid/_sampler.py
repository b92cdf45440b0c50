"""An hposampler backend as an OptunaHub sampler package.

The package's sampler is ``HposamplerSampler`` with the backend's name fixed: any
installed hposampler backend can be published this way.
"""

from __future__ import annotations

from typing import Any

from hposampler_optuna import HposamplerSampler


class HposamplerGridSampler(HposamplerSampler):
    """hposampler's ``grid`` (every point of a finite space once per cycle, in a
    seeded shuffled order) as an Optuna sampler."""

    def __init__(self, *, seed: int | None = None, **options: Any) -> None:
        super().__init__("grid", seed=seed, **options)
