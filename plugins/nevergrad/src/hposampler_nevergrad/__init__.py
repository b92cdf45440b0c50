"""nevergrad optimizers for hposampler (see :mod:`hposampler_nevergrad.plugin`)."""

__all__: list[str] = []
