"""Backend-neutral search spaces, compatible with ablator's ``SearchSpace``.

A search space maps parameter paths to one of:

* a :class:`SearchSpace` (or an ablator-style dict describing one),
* a plain nested ``dict`` whose values are again search spaces, dicts or constants,
* a constant (any JSON value), copied into every sampled config.

A :class:`SearchSpace` is exactly one of five kinds:

``value_range``
    ``[low, high]`` with ``value_type`` ``"int"`` or ``"float"``; ``log`` samples
    log-uniformly (needs ``low > 0``); ``n_bins`` restricts it to that many grid
    points (linspace, or geomspace when ``log``).
``categorical_values``
    a non-empty list of distinct JSON values; their types are kept.
``values``
    an increasing list of numbers whose order means something (batch sizes
    ``[16, 32, 64, 128]``, a learning rate from a table): only those values are
    sampled, and every backend is told they are ordered (an index, a stepped or
    ``Integer`` dimension, a ``TransitionChoice``), unlike ``categorical_values``.
``subspaces``
    a list of alternative search spaces; a sample picks one branch.
``sub_configuration``
    a dict whose values are search spaces, nested dicts or constants.

Example
-------
>>> space = parse_search_space({
...     "lr": {"value_range": ["1e-4", "1e-1"], "value_type": "float", "log": True},
...     "layers": {"categorical_values": [1, 2, 4]},
... })
>>> space["lr"].value_range
(0.0001, 0.1)
>>> space["layers"].contains(2), space["layers"].contains("2")
(True, False)
"""

from __future__ import annotations

import difflib
import enum
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from hposampler._convert import converter
from hposampler.errors import SearchSpaceError
from hposampler.space.params import (
    CategoricalParam,
    Choice,
    ChoiceParam,
    Constant,
    FloatParam,
    Group,
    IntParam,
    Leaf,
    Node,
    node_contains,
)
from hposampler.space.values import MAX_LOG_INT_BINS, json_equal, json_key

__all__ = [
    "SearchSpace",
    "SearchSpaceLike",
    "compile_node",
    "compile_value",
    "dump_search_space",
    "is_search_space_dict",
    "json_equal",
    "parse_search_space",
    "search_space_paths",
]

#: What a search-space mapping may hold for each path.
SearchSpaceLike = Any

_KIND_FIELDS = ("value_range", "categorical_values", "values", "subspaces", "sub_configuration")
_FIELDS = (*_KIND_FIELDS, "value_type", "n_bins", "log")
# the kinds ablator's own SearchSpace objects have (read by attribute)
_ABLATOR_KIND_FIELDS = ("value_range", "categorical_values", "subspaces", "sub_configuration")
# a dict with any of these keys is read as a search space, not a nested dict constant
_MARKER_FIELDS = frozenset((*_ABLATOR_KIND_FIELDS, "value_type", "n_bins"))


def _check_json_value(value: Any, path: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SearchSpaceError(path, f"constant {value!r} is not a finite number")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json_value(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SearchSpaceError(path, f"dict keys must be strings, got {key!r}")
            _check_json_value(item, f"{path}.{key}" if path else key)
        return
    raise SearchSpaceError(
        path,
        f"{type(value).__name__} value {value!r} is not JSON data; constants and "
        "categorical values must be str, int, float, bool, None, lists or dicts",
    )


def _parse_bound(value: Any, value_type: str, which: str) -> int | float:
    if isinstance(value, bool):
        raise SearchSpaceError("", f"value_range {which} bound {value!r} is a bool, not a number")
    if isinstance(value, str):
        text = value.strip()
        try:
            number: float | int = int(text) if value_type == "int" else float(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise SearchSpaceError(
                    "", f"value_range {which} bound {value!r} is not a number"
                ) from None
    elif isinstance(value, (int, float)):
        number = value
    else:
        raise SearchSpaceError(
            "", f"value_range {which} bound {value!r} must be a number or a numeric string"
        )
    try:
        finite = math.isfinite(number)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        shown = value if len(repr(value)) <= 40 else f"{repr(value)[:30]}..."
        raise SearchSpaceError(
            "", f"value_range {which} bound {shown} is not finite (or too large for a float)"
        )
    if value_type == "int":
        if isinstance(number, float):
            if not number.is_integer():
                raise SearchSpaceError(
                    "",
                    f"value_range {which} bound {value!r} is not an integer but value_type "
                    "is 'int'; use value_type 'float' or an integer bound",
                )
            number = int(number)
        return number
    return float(number)


def is_search_space_dict(value: Any) -> bool:
    """Whether ``value`` is a dict meant to describe a :class:`SearchSpace`.

    A dict is read as a search space when it has any of the keys
    ``value_range``, ``categorical_values``, ``subspaces``, ``sub_configuration``,
    ``value_type`` or ``n_bins``, or a ``values`` key and only search-space
    fields (so a group may still hold a parameter named ``values``); any other
    dict is a nested group of parameters.
    """
    if not isinstance(value, Mapping):
        return False
    if any(k in _MARKER_FIELDS for k in value):
        return True
    return "values" in value and all(k in _FIELDS for k in value)


def _is_space_like(value: Any) -> bool:
    """A search-space object of another library (ablator's), read by its fields."""
    return not isinstance(value, (Mapping, SearchSpace, str, bytes)) and any(
        getattr(value, f, None) is not None for f in _ABLATOR_KIND_FIELDS
    )


def _plain(value: Any) -> Any:
    """An enum's value (ablator's ``FieldType.continuous`` is ``"float"``), else the value."""
    return value.value if isinstance(value, enum.Enum) else value


def space_like_fields(value: Any) -> dict[str, Any]:
    """The ablator-style dict of a search-space object read by its fields.

    Enums become their values, a ``SubConfiguration`` its ``arguments`` dict; a
    ``value_type`` on anything but a range is dropped (ablator keeps its default
    ``continuous`` on every space).
    """
    data: dict[str, Any] = {}
    for field in _FIELDS:
        if field == "values":  # not one of ablator's fields (an object's .values is not it)
            continue
        item = _plain(getattr(value, field, None))
        if item is None or (field == "log" and item is False):
            continue
        if field == "sub_configuration" and not isinstance(item, Mapping):
            item = getattr(item, "arguments", item)
        if field == "subspaces" and isinstance(item, (list, tuple)):
            item = [space_like_fields(s) if _is_space_like(s) else s for s in item]
        data[field] = item
    if "value_range" not in data:
        data.pop("value_type", None)
    return data


def _structure_value(value: Any, path: str) -> Any:
    """Structure one entry of a search-space mapping (space, nested dict or constant)."""
    if isinstance(value, SearchSpace):
        return value
    if _is_space_like(value):
        return _structure_space(space_like_fields(value), path)
    if is_search_space_dict(value):
        return _structure_space(value, path)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SearchSpaceError(path, f"keys must be strings, got {key!r}")
            out[key] = _structure_value(item, f"{path}.{key}" if path else key)
        return out
    _check_json_value(value, path)
    return list(value) if isinstance(value, tuple) else value


def _structure_space(data: Mapping[str, Any], path: str) -> SearchSpace:
    unknown = [k for k in data if k not in _FIELDS]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), _FIELDS, n=1)
            if key in ("step", "q"):  # Optuna's step, hyperopt's q: evenly spaced values
                hints.append(
                    f"{key!r} (a range with evenly spaced values is written with n_bins: "
                    '{"value_range": [0, 1], "n_bins": 11} is 0, 0.1, ..., 1)'
                )
                continue
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise SearchSpaceError(
            path,
            "unknown search-space field(s) "
            + ", ".join(hints)
            + "; valid fields are "
            + ", ".join(_FIELDS),
        )
    try:
        return SearchSpace(**dict(data))
    except SearchSpaceError as exc:
        raise exc.under(path) from None


def _as_tuple(value: Any, field: str) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise SearchSpaceError("", f"{field} must be a list, got {type(value).__name__} {value!r}")


def _categorical_tuple(value: Any) -> tuple[Any, ...] | None:
    return _as_tuple(value, "categorical_values")


def _subspaces_tuple(value: Any) -> tuple[Any, ...] | None:
    return _as_tuple(value, "subspaces")


def _values_tuple(value: Any) -> tuple[Any, ...] | None:
    return _as_tuple(value, "values")


@attrs.frozen(eq=True, unsafe_hash=False)
class SearchSpace:
    """One tunable parameter (or group of them), with ablator's fields and rules.

    Exactly one of ``value_range``, ``categorical_values``, ``values``,
    ``subspaces`` and ``sub_configuration`` is set. Construction validates and normalises: numeric
    strings in ``value_range`` are parsed per ``value_type``, nested dicts become
    :class:`SearchSpace` objects. Invalid input raises
    :class:`~hposampler.errors.SearchSpaceError` naming the offending path.

    Parameters
    ----------
    value_range : pair of numbers or numeric strings, optional
        Inclusive ``[low, high]`` bounds, parsed per ``value_type``.
    categorical_values : list, optional
        Distinct JSON values to choose from; types are kept.
    subspaces : list of SearchSpace or dict, optional
        Alternative spaces; a sampled value comes from exactly one of them.
    sub_configuration : dict, optional
        Maps keys to search spaces, nested dicts or constants; sampled as a dict.
    value_type : {"int", "float"}, optional
        Type of a ``value_range``; defaults to ``"float"`` as in ablator (its
        ``FieldType.continuous``). With ``values``: ``"int"`` if they are all
        ints, else ``"float"`` (ints then become floats). Forbidden with the
        other kinds.
    n_bins : int, optional
        Number of grid points of a range (linspace, or geomspace when ``log``).
        Accepted on categoricals for ablator compatibility, where it has no effect.
    log : bool, default False
        Sample a range on a log scale; needs ``low > 0``.
    values : list of numbers, optional
        Ordered values: numbers in increasing order, each sampled as itself,
        their order known to every backend. Last so that positional arguments
        keep ablator's order.
    """

    value_range: tuple[int | float, int | float] | None = None
    categorical_values: tuple[Any, ...] | None = attrs.field(
        default=None, converter=_categorical_tuple
    )
    subspaces: tuple[SearchSpace, ...] | None = attrs.field(
        default=None, converter=_subspaces_tuple
    )
    sub_configuration: dict[str, Any] | None = None
    value_type: Literal["int", "float"] | None = None
    n_bins: int | None = None
    log: bool = False
    values: tuple[int | float, ...] | None = attrs.field(default=None, converter=_values_tuple)

    def __attrs_post_init__(self) -> None:
        kinds = [f for f in _KIND_FIELDS if getattr(self, f) is not None]
        if len(kinds) != 1:
            found = ", ".join(kinds) if kinds else "none"
            raise SearchSpaceError(
                "",
                "a search space needs exactly one of value_range, categorical_values, "
                f"values, subspaces, sub_configuration (found: {found})",
            )
        kind = kinds[0]
        if not isinstance(self.log, bool):
            raise SearchSpaceError("", f"log must be true or false, got {self.log!r}")
        if self.n_bins is not None:
            if isinstance(self.n_bins, bool) or not isinstance(self.n_bins, int):
                raise SearchSpaceError("", f"n_bins must be an integer, got {self.n_bins!r}")
            if self.n_bins < 1:
                raise SearchSpaceError("", f"n_bins must be >= 1, got {self.n_bins}")
            if kind not in ("value_range", "categorical_values"):
                raise SearchSpaceError(
                    "", f"n_bins only applies to value_range or categorical_values, not {kind}"
                )
        if kind == "value_range":
            self._init_range()
            return
        if kind == "values":
            self._init_values()
            return
        if self.value_type is not None:
            raise SearchSpaceError(
                "", f"value_type only applies to value_range; remove it from this {kind} space"
            )
        if self.log:
            raise SearchSpaceError("", f"log only applies to value_range, not {kind}")
        if kind == "categorical_values":
            self._init_categorical()
        elif kind == "subspaces":
            self._init_subspaces()
        else:
            self._init_sub_configuration()

    def _init_range(self) -> None:
        vr = self.value_range
        if isinstance(self.value_type, enum.Enum):  # ablator's FieldType
            object.__setattr__(self, "value_type", self.value_type.value)
        if self.value_type is None:  # ablator's default (FieldType.continuous)
            object.__setattr__(self, "value_type", "float")
        if self.value_type not in ("int", "float"):
            raise SearchSpaceError(
                "",
                f"value_type must be 'int' or 'float' with value_range, got {self.value_type!r}",
            )
        if not isinstance(vr, (list, tuple)) or len(vr) != 2:
            raise SearchSpaceError("", f"value_range must be a [low, high] pair, got {vr!r}")
        low = _parse_bound(vr[0], self.value_type, "low")
        high = _parse_bound(vr[1], self.value_type, "high")
        if low > high:
            raise SearchSpaceError("", f"value_range low {low} > high {high}")
        if not math.isfinite(float(high) - float(low)):
            raise SearchSpaceError(
                "",
                f"value_range [{low}, {high}] is too wide: high - low overflows a float; "
                "narrow it or sample its logarithm",
            )
        if self.log and low <= 0:
            raise SearchSpaceError("", f"log needs value_range low > 0, got low {low}")
        if self.log and self.value_type == "int" and (self.n_bins or 0) > MAX_LOG_INT_BINS:
            raise SearchSpaceError(
                "",
                f"n_bins={self.n_bins} on a log int range is more than {MAX_LOG_INT_BINS}; "
                "use fewer bins, or leave n_bins out (every int in range is allowed)",
            )
        object.__setattr__(self, "value_range", (low, high))

    def _init_values(self) -> None:
        values = self.values or ()
        if self.log:
            raise SearchSpaceError(
                "", "log does not apply to values (they are sampled as listed, in order)"
            )
        if not values:
            raise SearchSpaceError("", "values must not be empty")
        for i, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SearchSpaceError(
                    "",
                    f"values[{i}] is {value!r}, not a number; values are ordered numbers "
                    "(use categorical_values for other choices)",
                )
            if not math.isfinite(value):
                raise SearchSpaceError("", f"values[{i}] is {value!r}; values must be finite")
        for i in range(1, len(values)):
            if not values[i - 1] < values[i]:
                raise SearchSpaceError(
                    "",
                    f"values must be increasing, but values[{i - 1}] = {values[i - 1]!r} "
                    f"and values[{i}] = {values[i]!r}; write them as "
                    f"{sorted(set(values))!r}",
                )
        all_ints = all(isinstance(v, int) for v in values)
        value_type = (
            self.value_type.value if isinstance(self.value_type, enum.Enum) else self.value_type
        )
        if value_type is None:
            value_type = "int" if all_ints else "float"
        if value_type not in ("int", "float"):
            raise SearchSpaceError(
                "", f"value_type must be 'int' or 'float' with values, got {value_type!r}"
            )
        if value_type == "int" and not all_ints:
            raise SearchSpaceError(
                "",
                "value_type is 'int' but values holds floats; use value_type 'float' or "
                "integer values",
            )
        typed = tuple(int(v) if value_type == "int" else float(v) for v in values)
        if any(not a < b for a, b in itertools.pairwise(typed)):  # ints too close as floats
            raise SearchSpaceError("", "values has two numbers that are the same as floats")
        object.__setattr__(self, "value_type", value_type)
        object.__setattr__(self, "values", typed)

    def _init_categorical(self) -> None:
        values = self.categorical_values or ()
        if not values:
            raise SearchSpaceError("", "categorical_values must not be empty")
        seen: set[str] = set()
        normalised = []
        for i, value in enumerate(values):
            _check_json_value(value, f"categorical_values[{i}]")
            key = json_key(value)
            if key in seen:
                raise SearchSpaceError("", f"categorical_values has {value!r} twice")
            seen.add(key)
            normalised.append(list(value) if isinstance(value, tuple) else value)
        object.__setattr__(self, "categorical_values", tuple(normalised))

    def _init_subspaces(self) -> None:
        branches = self.subspaces or ()
        if not branches:
            raise SearchSpaceError("", "subspaces must not be empty")
        out = []
        for i, branch in enumerate(branches):
            where = f"subspaces[{i}]"
            if isinstance(branch, SearchSpace):
                out.append(branch)
            elif isinstance(branch, Mapping):
                out.append(_structure_space(branch, where))
            else:
                raise SearchSpaceError(
                    where, f"a subspace must be a search-space dict, got {branch!r}"
                )
        object.__setattr__(self, "subspaces", tuple(out))

    def _init_sub_configuration(self) -> None:
        sub = self.sub_configuration
        if not isinstance(sub, Mapping):
            raise SearchSpaceError(
                "", f"sub_configuration must be a dict, got {type(sub).__name__}"
            )
        out = {}
        for key, value in sub.items():
            if not isinstance(key, str):
                raise SearchSpaceError("", f"sub_configuration keys must be strings: {key!r}")
            out[key] = _structure_value(value, key)
        object.__setattr__(self, "sub_configuration", out)

    # -- queries ---------------------------------------------------------------

    @property
    def kind(self) -> str:
        """Which of the five kinds this space is, e.g. ``"value_range"``."""
        return next(f for f in _KIND_FIELDS if getattr(self, f) is not None)

    def grid(self) -> Sequence[Any] | None:
        """The grid points of a range with ``n_bins`` (or the categorical values): a
        tuple, or above :data:`~hposampler.space.values.LAZY_GRID_ABOVE` points a
        :class:`~hposampler.space.values.LazyGrid` (the same points, computed on demand).

        Floats use linspace (geomspace when ``log``) with exact end points; ints
        are the distinct rounded points. ``None`` for a continuous range and for
        ``subspaces`` / ``sub_configuration``. Answered by the compiled parameter
        (:mod:`hposampler.space.params`), the one definition every backend uses.
        """
        node = compile_node(self)
        return node.param.grid() if isinstance(node, Leaf) else None

    def contains(self, value: Any) -> bool:
        """Whether ``value`` could have been sampled from this space.

        Ranges check type, bounds and (with ``n_bins``) grid membership up to
        float round-off; categoricals compare with types kept; subspaces accept a
        value of any branch; sub-configurations need the exact keys. Answered by
        the compiled tree, exactly as samplers check configs when they resume.
        """
        return node_contains(compile_node(self), value)

    def __hash__(self) -> int:
        return hash(json_key(self.to_dict()))

    def paths(self, prefix: str = "") -> list[str]:
        """Paths of the tunable parameters inside this space.

        A range or categorical is the path itself; ``subspaces`` adds the choice
        (the path itself) and every branch's paths as ``prefix.subspaces[i]...``;
        ``sub_configuration`` adds ``prefix.key...`` for each tunable key.
        """
        if self.subspaces is not None:
            out = [prefix]
            for i, branch in enumerate(self.subspaces):
                out.extend(
                    branch.paths(f"{prefix}.subspaces[{i}]" if prefix else f"subspaces[{i}]")
                )
            return out
        if self.sub_configuration is not None:
            return _value_paths(self.sub_configuration, prefix)
        return [prefix]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (ablator-style dict); :func:`parse_search_space` reads it back."""
        out: dict[str, Any] = {}
        if self.value_range is not None:
            out["value_range"] = list(self.value_range)
            out["value_type"] = self.value_type
        elif self.categorical_values is not None:
            out["categorical_values"] = list(self.categorical_values)
        elif self.values is not None:
            out["values"] = list(self.values)
            if self.value_type == "float" and all(float(v).is_integer() for v in self.values):
                out["value_type"] = "float"  # else read back as ints
        elif self.subspaces is not None:
            out["subspaces"] = [s.to_dict() for s in self.subspaces]
        else:
            out["sub_configuration"] = _dump_value(self.sub_configuration)
        if self.n_bins is not None:
            out["n_bins"] = self.n_bins
        if self.log:
            out["log"] = True
        return out


def compile_value(value: Any, path: str) -> Node:
    """Compile a parsed search-space value (a space, a dict of them, or a constant)."""
    if isinstance(value, SearchSpace):
        return _compile_space(value, path)
    if isinstance(value, dict):
        return Group(tuple((k, compile_value(v, f"{path}.{k}")) for k, v in value.items()))
    return Constant(value)


def _compile_space(space: SearchSpace, path: str) -> Node:
    if space.value_range is not None:
        low, high = space.value_range
        if space.value_type == "int":
            return Leaf(IntParam(path, int(low), int(high), space.log, space.n_bins))
        return Leaf(FloatParam(path, float(low), float(high), space.log, space.n_bins))
    if space.values is not None:
        points = space.values
        if space.value_type == "int":
            ints = tuple(int(v) for v in points)
            return Leaf(IntParam(path, ints[0], ints[-1], points=ints))
        floats = tuple(float(v) for v in points)
        return Leaf(FloatParam(path, floats[0], floats[-1], points=floats))
    if space.categorical_values is not None:
        return Leaf(CategoricalParam(path, tuple(space.categorical_values)))
    if space.subspaces is not None:
        branches = tuple(
            _compile_space(b, f"{path}.subspaces[{i}]") for i, b in enumerate(space.subspaces)
        )
        return Choice(ChoiceParam(path, len(branches)), branches)
    return compile_value(space.sub_configuration, path)


def compile_node(space: SearchSpace, path: str = "") -> Node:
    """Compile one :class:`~hposampler.SearchSpace` (parameters named from ``path``)."""
    return _compile_space(space, path)


def _value_paths(value: Any, prefix: str) -> list[str]:
    if isinstance(value, SearchSpace):
        return value.paths(prefix)
    if isinstance(value, dict):
        out: list[str] = []
        for key, item in value.items():
            out.extend(_value_paths(item, f"{prefix}.{key}" if prefix else key))
        return out
    return []


def _dump_value(value: Any) -> Any:
    if isinstance(value, SearchSpace):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _dump_value(v) for k, v in value.items()}
    return value


def parse_search_space(search_space: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise a whole search-space mapping.

    Parameters
    ----------
    search_space : mapping
        ``{path: SearchSpace | ablator-style dict | nested dict | constant}``.
        Top-level keys are kept as written (dotted paths stay single keys).

    Returns
    -------
    dict
        The same mapping with every search-space dict turned into a
        :class:`SearchSpace`, nested dicts normalised and constants checked.

    Raises
    ------
    SearchSpaceError
        With the full path of the first offending parameter.
    """
    if not isinstance(search_space, Mapping):
        raise SearchSpaceError(
            "",
            "the search space must be a dict mapping parameter paths to search spaces, got "
            f"{type(search_space).__name__}",
        )
    if not search_space:
        raise SearchSpaceError("", "the search space is empty; give at least one parameter")
    _check_depth(search_space)
    _check_size(search_space)
    out: dict[str, Any] = {}
    for key, value in search_space.items():
        if not isinstance(key, str) or not key:
            raise SearchSpaceError("", f"parameter paths must be non-empty strings, got {key!r}")
        out[key] = _structure_value(value, key)
    return out


#: The deepest nesting of dicts and lists a search space may have (JSON levels).
MAX_DEPTH = 64


def _check_depth(value: Any) -> None:
    """Refuse absurdly deep nesting before parsing it recursively."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SearchSpaceError(
                "", f"the search space nests deeper than {MAX_DEPTH} levels; flatten it"
            )
        if isinstance(item, SearchSpace):
            item = item.to_dict()
        elif _is_space_like(item):
            item = space_like_fields(item)
        if isinstance(item, Mapping):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)


#: The largest search space accepted, as JSON text (every trial stores values from it).
MAX_SPACE_CHARS = 1024 * 1024


def _check_size(value: Any) -> None:
    def default(item: Any) -> Any:
        if isinstance(item, SearchSpace):
            return item.to_dict()
        if _is_space_like(item):
            return space_like_fields(item)
        return _plain(item) if isinstance(item, enum.Enum) else repr(item)

    size = len(json.dumps(value, default=default))
    if size > MAX_SPACE_CHARS:
        raise SearchSpaceError(
            "",
            f"the search space is {size} characters of JSON, over the limit of "
            f"{MAX_SPACE_CHARS}; keep large data out of it (pass a key or a path instead)",
        )


def dump_search_space(search_space: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON form of a (parsed) search-space mapping; exact inverse of parsing."""
    return {key: _dump_value(value) for key, value in parse_search_space(search_space).items()}


def search_space_paths(search_space: Mapping[str, Any]) -> list[str]:
    """Full paths of every tunable parameter of a search-space mapping."""
    out: list[str] = []
    for key, value in parse_search_space(search_space).items():
        out.extend(_value_paths(value, key))
    return out


def _register_cattrs_hooks() -> None:
    converter.register_structure_hook(
        SearchSpace,
        lambda data, _: data if isinstance(data, SearchSpace) else _structure_value_strict(data),
    )
    converter.register_unstructure_hook(SearchSpace, SearchSpace.to_dict)


def _structure_value_strict(data: Any) -> SearchSpace:
    if not isinstance(data, Mapping):
        raise SearchSpaceError("", f"a search space must be a dict, got {data!r}")
    return _structure_space(data, "")


_register_cattrs_hooks()
