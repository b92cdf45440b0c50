"""Repairs for scikit-optimize 0.10.2 on current scikit-learn and NumPy.

skopt is archived; 0.10.2 breaks in two places, fixed here and nowhere else:

1. ``sklearn.base.is_regressor`` reads estimator tags since scikit-learn 1.6.
   skopt calls it on ``None`` (``base_estimator="dummy"``: "'NoneType' object has
   no attribute '__sklearn_tags__'") and on its ``GradientBoostingQuantileRegressor``,
   which has no regressor tag ("... has to be a regressor"). skopt's modules get
   a tolerant ``is_regressor``.
2. NumPy 2.4 removed ``np.in1d``, which ``GradientBoostingQuantileRegressor.predict``
   calls. skopt's ``learning.gbrt`` module sees NumPy through a proxy that adds
   the removed alias (as ``np.isin``).

:func:`apply` is idempotent and only touches skopt's own module globals.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = ["apply", "is_regressor"]

_applied = False


def is_regressor(estimator: Any) -> bool:
    """scikit-learn's ``is_regressor``, tolerant of ``None`` and skopt's own regressors."""
    if estimator is None:
        return False
    from sklearn.base import is_regressor as sk_is_regressor
    from skopt.learning import GradientBoostingQuantileRegressor

    if isinstance(estimator, GradientBoostingQuantileRegressor):
        return True
    return bool(sk_is_regressor(estimator))


class _NumpyWithAliases(ModuleType):
    """NumPy, plus aliases that NumPy removed but skopt 0.10.2 still uses."""

    def __init__(self, numpy: ModuleType) -> None:
        super().__init__("numpy")
        self._numpy = numpy

    def __getattr__(self, name: str) -> Any:
        if name == "in1d" and not hasattr(self._numpy, "in1d"):
            return self._numpy.isin
        return getattr(self._numpy, name)


def apply() -> None:
    """Patch skopt's module globals once (safe to call many times)."""
    global _applied
    if _applied:
        return
    import numpy
    import skopt.learning.gbrt as gbrt
    import skopt.optimizer.optimizer as optimizer
    import skopt.utils as utils

    optimizer.is_regressor = is_regressor
    utils.is_regressor = is_regressor
    if not hasattr(numpy, "in1d"):
        gbrt.np = _NumpyWithAliases(numpy)
    _applied = True
