"""ablator's search-space rules, as data for hposampler's backends.

ablator 0.0.1b3 turns a ``SearchSpace`` into values in two ways, and the compat
classes reproduce both by rewriting the space before a backend sees it:

* its ``GridSampler`` takes ``sorted(set(numpy.linspace(low, high, n_bins,
  dtype=int | float)))`` for a range (NumPy's integer conversion, so int grids
  keep the points NumPy gives), a categorical's values, the union of the
  ``subspaces`` and the product of a ``sub_configuration``
  (:func:`grid_space`: ranges become categoricals of exactly those points);
* its ``OptunaSampler`` asks Optuna for ``FloatDistribution(low, high,
  step=(high - low) / n_bins)`` and ``IntDistribution(low, high,
  step=max((high - low) // n_bins, 1))``, whose points are ``low + k * step``
  up to the largest not above ``high`` (:func:`optuna_space`: the same points
  as an hposampler grid, so every backend gets them).

It stores, per trial, the Optuna parameters by ablator's names (a ``subspaces``
branch ``i`` of ``path`` is ``path_i``) with their distributions' type names and
attributes (:class:`OptEncoding`); ablator's own sampler reads them back.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Mapping
from typing import Any

from hposampler.errors import AblatorSearchSpaceError
from hposampler.space.model import SearchSpace, parse_search_space
from hposampler.space.tree import CategoricalParam, FloatParam, IntParam, SpaceTree, compile_space

__all__ = ["EMPTY_KEY", "OptEncoding", "ablator_name", "grid_space", "optuna_space", "parse"]

#: ablator accepts an empty search space (every config is ``{}``); hposampler's
#: samplers need a key, so the compat classes give them this constant and strip it.
EMPTY_KEY = "__hposampler_empty_space__"

_BRANCH = re.compile(r"\.subspaces\[(\d+)\]")


def parse(search_space: Mapping[str, Any]) -> dict[str, Any]:
    """hposampler's parsed form of an ablator space (ablator's objects or dicts); ``{}`` kept."""
    if isinstance(search_space, Mapping) and len(search_space) == 0:
        return {}
    return parse_search_space(search_space)


def backend_space(parsed: Mapping[str, Any]) -> dict[str, Any]:
    """The space handed to a backend: ``parsed``, or one constant when it is empty."""
    return dict(parsed) if parsed else {EMPTY_KEY: 0}


def ablator_name(name: str) -> str:
    """ablator's Optuna parameter name for an hposampler parameter name.

    ``a.subspaces[1].c.subspaces[0].i`` -> ``a_1.c_0.i``.
    """
    return _BRANCH.sub(r"_\1", name)


def _map_leaves(
    value: Any,
    path: str,
    keys: tuple[str, ...],
    leaf: Callable[[SearchSpace, str, tuple[str, ...]], SearchSpace],
) -> Any:
    """``value`` with every range rebuilt by ``leaf(space, path, keys)``.

    ``keys`` are the dict keys on the way down (ablator's error messages name them).
    """
    if isinstance(value, dict):
        return {k: _map_leaves(v, f"{path}.{k}", (*keys, k), leaf) for k, v in value.items()}
    if not isinstance(value, SearchSpace):
        return value
    if value.value_range is not None:
        return leaf(value, path, keys)
    if value.subspaces is not None:
        return SearchSpace(
            subspaces=[
                _map_leaves(b, f"{path}.subspaces[{i}]", keys, leaf)
                for i, b in enumerate(value.subspaces)
            ]
        )
    if value.sub_configuration is not None:
        return SearchSpace(sub_configuration=_map_leaves(value.sub_configuration, path, keys, leaf))
    return value


def _rewrite(parsed: Mapping[str, Any], leaf: Callable[..., SearchSpace]) -> dict[str, Any]:
    return {k: _map_leaves(v, k, (k,), leaf) for k, v in parsed.items()}


def _ablator_repr(space: SearchSpace) -> str:
    """ablator's ``repr`` of a range (``SearchSpace(value_range=(-10.0, 10.0), ...)``)."""
    assert space.value_range is not None  # only ranges are described
    low, high = space.value_range
    text = f"SearchSpace(value_range=({low!r}, {high!r}), value_type='{space.value_type}'"
    if space.n_bins is not None:
        text += f", n_bins='{space.n_bins}'"
    return text + ")"


def grid_space(parsed: Mapping[str, Any]) -> dict[str, Any]:
    """The space with every range replaced by ablator's grid points (a categorical).

    Raises
    ------
    AblatorSearchSpaceError
        For a range without ``n_bins``, with ablator's message.
    """
    import numpy as np

    def leaf(space: SearchSpace, path: str, keys: tuple[str, ...]) -> SearchSpace:
        if space.n_bins is None:
            message = (
                "".join(f"Invalid search space for {k}. " for k in keys)
                + f"`n_bins` must be specified for {_ablator_repr(space)}."
            )
            raise AblatorSearchSpaceError(
                path, "value_range needs n_bins for grid search; add n_bins", message
            )
        assert space.value_range is not None
        low, high = space.value_range
        dtype = int if space.value_type == "int" else float
        points = sorted(set(np.linspace(low, high, space.n_bins, dtype=dtype).tolist()))
        return SearchSpace(categorical_values=points)

    return _rewrite(parsed, leaf)


def _stepped_high(low: float, high: float, step: float) -> float:
    """The largest ``low + k * step`` not above ``high``, computed as Optuna does (decimal)."""
    d_low, d_high, d_step = (decimal.Decimal(str(v)) for v in (low, high, step))
    span = d_high - d_low
    if span % d_step == 0:
        return high
    return float((span // d_step) * d_step + d_low)


def _float_steps(space: SearchSpace) -> tuple[float, float, int]:
    """``(step, high, number of steps)`` of a float range with ``n_bins`` under ablator's rule."""
    assert space.value_range is not None and space.n_bins is not None
    low, high = (float(v) for v in space.value_range)
    step = (high - low) / space.n_bins
    top = _stepped_high(low, high, step) if step > 0 else high
    return step, top, round((top - low) / step) if step > 0 else 0


def _int_steps(space: SearchSpace) -> tuple[int, int, int]:
    """``(step, high, number of steps)`` of an int range under ablator's rule."""
    assert space.value_range is not None
    low, high = (int(v) for v in space.value_range)
    step = 1 if space.n_bins is None else max((high - low) // space.n_bins, 1)
    count = (high - low) // step
    return step, low + count * step, count


def optuna_space(parsed: Mapping[str, Any]) -> dict[str, Any]:
    """The space with ``n_bins`` ranges turned into ablator's Optuna steps (as grids).

    Raises
    ------
    AblatorSearchSpaceError
        For ``log`` together with a step (``n_bins``), which Optuna refuses.
    """

    def leaf(space: SearchSpace, path: str, keys: tuple[str, ...]) -> SearchSpace:
        if space.n_bins is None:
            return space
        assert space.value_range is not None
        low = space.value_range[0]
        high: float
        if space.value_type == "int":
            step, high, count = _int_steps(space)
            if step == 1:  # every int in range: ablator's step 1 is no grid at all
                return SearchSpace(value_range=space.value_range, value_type="int", log=space.log)
        else:
            _, high, count = _float_steps(space)
        if space.log:
            reason = (
                "log with n_bins is not supported by ablator's OptunaSampler (Optuna has no "
                "stepped log distribution); drop n_bins or log"
            )
            raise AblatorSearchSpaceError(path, reason, f"{path}: {reason}")
        return SearchSpace(value_range=(low, high), value_type=space.value_type, n_bins=count + 1)

    return _rewrite(parsed, leaf)


class OptEncoding:
    """ablator's ``_opt_*`` record of a trial, for the parameters of ``parsed``.

    Parameters
    ----------
    parsed : dict
        The space as the user gave it (parsed), before any rewriting: the
        distributions are ablator's, computed from its ``n_bins``.
    """

    def __init__(self, parsed: Mapping[str, Any]) -> None:
        self._dists: dict[str, tuple[str, dict[str, Any]]] = {}
        if not parsed:
            return
        ranges: dict[str, SearchSpace] = {}

        def collect(space: SearchSpace, path: str, keys: tuple[str, ...]) -> SearchSpace:
            ranges[path] = space
            return space

        _rewrite(parsed, collect)
        for name, param in compile_space(parsed).params.items():
            if isinstance(param, CategoricalParam):
                self._dists[name] = ("CategoricalDistribution", {"choices": tuple(param.choices)})
            elif isinstance(param, (FloatParam, IntParam)):
                self._dists[name] = _range_distribution(param, ranges[name])

    def record(
        self, tree: SpaceTree, config: Mapping[str, Any], branches: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``{"_opt_params", "_opt_distributions_kwargs", "_opt_distributions_types"}``.

        ``tree`` is the backend's (rewritten) tree; ``branches`` the sampled
        ``subspaces`` branches by choice name, when the backend reports them.
        """
        params: dict[str, Any] = {}
        kwargs: dict[str, Any] = {}
        kinds: dict[str, str] = {}
        if self._dists:
            for name, value in tree.encode(config, branches).items():
                if name not in self._dists:
                    continue  # a subspaces choice: ablator keeps no parameter for it
                key = ablator_name(name)
                kinds[key], kwargs[key] = self._dists[name][0], dict(self._dists[name][1])
                params[key] = value
        return {
            "_opt_params": params,
            "_opt_distributions_kwargs": kwargs,
            "_opt_distributions_types": kinds,
        }


def _range_distribution(
    param: FloatParam | IntParam, space: SearchSpace
) -> tuple[str, dict[str, Any]]:
    """The type name and attributes of ablator's Optuna distribution for a range."""
    if isinstance(param, IntParam):
        int_step, int_high, _ = _int_steps(space)
        ints: dict[str, Any] = {"log": param.log, "step": int_step, "low": param.low}
        return "IntDistribution", {**ints, "high": int_high}
    if param.n_bins is None:
        attributes = {"step": None, "low": param.low, "high": param.high, "log": param.log}
        return "FloatDistribution", attributes
    step, high, _ = _float_steps(space)
    return "FloatDistribution", {"step": step, "low": param.low, "high": high, "log": param.log}
