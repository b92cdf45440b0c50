"""Optuna samplers for hposampler (see :mod:`hposampler_optuna.plugin`)."""

__all__: list[str] = []
