"""scikit-optimize samplers for hposampler (see :mod:`hposampler_skopt.plugin`)."""

__all__: list[str] = []
