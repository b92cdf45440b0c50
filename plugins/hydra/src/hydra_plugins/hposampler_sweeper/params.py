"""Hydra's sweep syntax as an hposampler search space.

=========================================  =========================================
Hydra                                      hposampler
=========================================  =========================================
``interval(a, b)``                         float range ``[a, b]``
``tag(int, interval(a, b))``               int range ``[a, b]`` (whole-number bounds)
``int(interval(a, b))``                    int range ``[a, b]`` too
``tag(log, interval(a, b))``               log scale (``log: true``)
``range(a, b[, step])``                    the points ``a, a + step, ...`` below ``b``
                                           (``n_bins`` grid points of an int or float
                                           range)
``choice(x, y, ...)`` / ``x,y,...``        categorical
a plain value (``x: 5``)                   fixed: passed to every job as is
=========================================  =========================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hposampler import SearchSpaceError


def space_from_params(params: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """``(search space, fixed overrides)`` from ``hydra.sweeper.params``.

    Raises
    ------
    SearchSpaceError
        Naming the key whose value Hydra cannot parse or hposampler cannot model.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    space: dict[str, Any] = {}
    fixed: list[str] = []
    for key, text in params.items():
        line = f"{key}={text}"
        try:
            [override] = parser.parse_overrides([line])
        except HydraException as exc:
            first = str(exc).strip().splitlines()[0]
            raise SearchSpaceError(
                f"hydra.sweeper.params.{key}",
                f"{text!r} is not Hydra sweep syntax ({first}); use interval(a, b), "
                "range(a, b), choice(x, y) or a plain value",
            ) from None
        if not override.is_sweep_override():
            fixed.append(line)
            continue
        space[override.get_key_element()] = _parameter(key, override)
    return space, fixed


#: The tags of an interval sweep the sweeper reads.
_TAGS = frozenset({"int", "log"})


def _interval(where: str, low: Any, high: Any, tags: set[str]) -> dict[str, Any]:
    """An interval sweep as a range: int when tagged ``int`` or written ``int(interval(...))``
    (Hydra then gives int bounds), log-scaled when tagged ``log``.

    Raises
    ------
    SearchSpaceError
        For an int range whose bounds are not whole numbers.
    """
    as_int = "int" in tags or (type(low) is int and type(high) is int)
    entry: dict[str, Any] = {"value_range": [low, high], "value_type": "float"}
    if as_int:
        if not all(float(b).is_integer() for b in (low, high)):
            raise SearchSpaceError(
                where, f"an int range needs whole-number bounds, got interval({low}, {high}); "
                "write interval(1, 5) with tag(int, ...), or drop the int tag for floats",
            )  # fmt: skip
        entry = {"value_range": [int(low), int(high)], "value_type": "int"}
    if "log" in tags:
        entry["log"] = True
    return entry


def _parameter(key: str, override: Any) -> dict[str, Any]:
    where = f"hydra.sweeper.params.{key}"
    from hydra.core.override_parser.types import Glob

    value = override.value()
    if isinstance(value, Glob):
        raise SearchSpaceError(
            where, "glob(...) selects config groups for Hydra's basic sweeper; it cannot be "
            "optimised: list the options with choice(a, b, ...)",
        )  # fmt: skip
    tags = set(getattr(value, "tags", ()) or ())
    unknown = sorted(tags - _TAGS)
    if unknown:
        raise SearchSpaceError(
            where, f"unknown tag(s) {', '.join(unknown)}; the sweeper reads "
            f"{', '.join(sorted(_TAGS))} (tag(log, interval(a, b)), tag(int, interval(a, b)))",
        )  # fmt: skip
    if override.is_choice_sweep():
        return {"categorical_values": list(value.list)}
    if override.is_interval_sweep():
        return _interval(where, value.start, value.end, tags)
    if override.is_range_sweep():
        start, stop, step = value.start, value.stop, value.step
        if step <= 0 or stop <= start:
            raise SearchSpaceError(where, f"range({start}, {stop}, {step}) is empty")
        count = math.ceil((stop - start) / step - 1e-9)  # points below stop
        last = start + (count - 1) * step
        if all(isinstance(v, int) for v in (start, stop, step)):  # n_bins: finite, for grids
            return {"value_range": [start, last], "value_type": "int", "n_bins": count}
        return {"value_range": [float(start), float(last)], "value_type": "float",
                "n_bins": count}  # fmt: skip
    raise SearchSpaceError(where, "only interval, range and choice sweeps can be optimised")
