"""An example hposampler plugin: the Halton sequence sampler."""

from .halton import HaltonSampler

__all__ = ["HaltonSampler"]
