"""hyperopt samplers for hposampler (see :mod:`hposampler_hyperopt.plugin`)."""

__all__: list[str] = []
