"""Moved to :mod:`hposampler_views.report` (the hposampler-views distribution).

This path works for one release: importing it warns with a ``DeprecationWarning``
and gives the moved module itself.
"""

from __future__ import annotations

from hposampler_optuna._moved import moved

moved(__name__, "hposampler_views.report")
