from ._sampler import HposamplerGridSampler

__all__ = ["HposamplerGridSampler"]
