"""Ray executor for hposampler (see :mod:`hposampler_ray.executor`)."""

__all__: list[str] = []
