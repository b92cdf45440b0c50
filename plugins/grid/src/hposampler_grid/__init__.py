"""Lazy, seeded, resumable grid search for hposampler."""

from .permutation import FeistelPermutation
from .sampler import GridSampler
from .space import GridIndex

__all__ = ["FeistelPermutation", "GridIndex", "GridSampler"]
