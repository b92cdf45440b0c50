"""Seeing a study in hposampler's own terms: the matplotlib plot of ``hposampler plot``.

:mod:`~hposampler.viz.plotting` draws a study's history and best-so-far line, with
infeasible trials marked. It builds on :mod:`hposampler.study` and the compiled
search space, and imports matplotlib only when it draws. Optuna's own views (the
HTML report, the dashboard) live in the ``hposampler-optuna`` plugin.
"""

from __future__ import annotations

from hposampler.viz.plotting import cut, new_figure, plot_study, study_figure

__all__ = ["cut", "new_figure", "plot_study", "study_figure"]
