"""Study files (TOML) for ``hposampler run``.

.. code-block:: toml

    [study]
    name = "quickstart"
    objective = "hposampler.problems:branin"   # module:function
    trials = 40
    concurrency = 2
    executor = "thread"
    trial_timeout = 3600                        # seconds one trial may run (optional)
    storage = "quickstart.db"                   # a path (relative to this file), sqlite:///path
                                                # or a URL (postgresql://...); default
                                                # hposampler.db beside the file

    [sampler]
    name = "tpe"
    seed = 0
    options = { n_startup_trials = 10 }

    [pruner]                                    # optional: stop poor trials early
    name = "median"                             # hposampler list shows the pruners
    options = { n_startup_trials = 5 }

    [metrics]
    loss = "min"

    [search_space]
    x = { value_range = [-5, 10], value_type = "float" }

    [constraints]                               # optional: result keys that must be <= 0
    names = ["c1"]

    [[enqueue]]                                 # optional: configs to run first, once
    x = 1.0

    [warm_start]                                # optional: learn earlier studies' trials
    studies = ["earlier", "other.db:another"]
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

import attrs

from hposampler.errors import StudyError
from hposampler.study import arguments

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["StudyFile", "load_study_file"]

_SECTIONS: dict[str, dict[str, tuple[type, ...]] | None] = {
    "study": {
        "name": (str,),
        "objective": (str,),
        "trials": (int,),
        "concurrency": (int,),
        "executor": (str,),
        "executor_options": (dict,),
        "storage": (str,),
        "timeout": (int, float),
        "trial_timeout": (int, float),
        "skip_duplicates": (bool,),
    },
    "sampler": {"name": (str,), "seed": (int,), "options": (dict,)},
    "pruner": {"name": (str,), "options": (dict,)},
    "constraints": {"names": (list,)},
    "warm_start": {"studies": (list,)},
    "metrics": None,  # metric -> "min" | "max"
    "search_space": None,  # free-form, validated by parse_search_space
    "enqueue": None,  # [[enqueue]]: configs run first, in order (checked by Study.enqueue)
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "study": ("name", "objective", "trials"),
    "sampler": ("name",),
    "pruner": ("name",),
    "constraints": ("names",),
    "warm_start": ("studies",),
}
#: Sections a study file may leave out (their required keys apply when present).
_OPTIONAL = frozenset({"pruner", "constraints", "warm_start"})


@attrs.frozen
class StudyFile:
    """A parsed, validated study file."""

    path: Path
    name: str
    objective: str
    trials: int
    storage: str
    sampler: str
    metrics: dict[str, str]
    search_space: dict[str, Any]
    seed: int | None = None
    options: dict[str, Any] = attrs.field(factory=dict)
    concurrency: int = 1
    executor: str = "thread"
    executor_options: dict[str, Any] = attrs.field(factory=dict)
    timeout: float | None = None
    trial_timeout: float | None = None
    skip_duplicates: bool = False
    pruner: str | None = None
    pruner_options: dict[str, Any] = attrs.field(factory=dict)
    enqueue: list[dict[str, Any]] = attrs.field(factory=list)
    constraints: tuple[str, ...] = ()
    warm_start: tuple[str, ...] = ()


def _unknown(where: str, key: str, valid: list[str]) -> StudyError:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return StudyError(f"{where}: unknown key {key!r}{hint}; valid keys: {', '.join(valid)}")


def _storage(text: str, file: Path) -> str:
    """A storage path or URL of a study file; relative SQLite paths are beside the file."""
    scheme, sep, rest = text.partition("://")
    if sep and scheme != "sqlite":
        return text  # a server URL (postgresql://...), used as written
    if sep and not rest.startswith("/"):
        raise StudyError(
            f"[study] storage {text!r}: a SQLite URL has three slashes, "
            f"sqlite:///{rest} (beside this file) or sqlite:////absolute/path.db"
        )
    path = Path(rest[1:] if sep else text).expanduser()  # sqlite:///rel.db, ~/studies/x.db
    if not path.is_absolute():
        path = file.resolve().parent / path
    return str(path)


def _read(file: Path) -> dict[str, Any]:
    """The file's TOML, or one line saying why it cannot be read."""
    try:
        data: dict[str, Any] = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyError(f"study file {file} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(f"cannot read study file {file}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{file}: not valid TOML: {exc}") from None
    return data


def _table(file: Path, data: dict[str, Any], section: str) -> dict[str, Any]:
    """A section's table, its keys and their types checked, required keys present."""
    table = data.get(section, {})
    if not isinstance(table, dict):
        raise StudyError(f"{file}: [{section}] must be a table")
    keys = _SECTIONS[section]
    if keys is None:
        return table
    for key, value in table.items():
        if key not in keys:
            raise _unknown(f"{file} [{section}]", key, list(keys))
        kinds = keys[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise StudyError(f"{file} [{section}] {key}: expected {names}, got {value!r}")
    required = () if section in _OPTIONAL and section not in data else _REQUIRED.get(section, ())
    for key in required:
        if key not in table:
            raise StudyError(f"{file} [{section}]: missing required key {key!r}")
    return table


def _not_json(value: Any, path: str = "") -> tuple[str, Any] | None:
    """The first ``(key path, value)`` in ``value`` that JSON cannot hold, if any."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _not_json(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _not_json(item, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return None
    return path, value


def _sections(file: Path, data: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[Any]]:
    """Every section's table, checked, and the ``[[enqueue]]`` configs."""
    for section in data:
        if section not in _SECTIONS:
            raise _unknown(str(file), section, list(_SECTIONS))
    enqueued = data.get("enqueue", [])
    if not isinstance(enqueued, list) or not all(isinstance(t, dict) for t in enqueued):
        raise StudyError(
            f"{file}: enqueue must be an array of tables, one config each: [[enqueue]] "
            "then x = 1.5 under it"
        )
    for i, config in enumerate(enqueued, 1):
        bad = _not_json(config)
        if bad is not None:
            key, value = bad
            raise StudyError(
                f"{file} [[enqueue]] #{i} {key}: {type(value).__name__} {value!r} is not a "
                "config value (TOML dates and times have no JSON form); use a string or number"
            )
    values = {s: _table(file, data, s) for s in _SECTIONS if s != "enqueue"}
    if not values["metrics"]:
        raise StudyError(f'{file}: [metrics] is empty; add e.g. loss = "min"')
    if not values["search_space"]:
        raise StudyError(f"{file}: [search_space] is empty; add at least one parameter")
    study = values["study"]
    try:
        arguments.study_name(study["name"])
        arguments.count(study["trials"], "trials")
        arguments.count(study.get("concurrency", 1), "concurrency", minimum=1)
        arguments.seconds(study.get("timeout"), "timeout")
        arguments.seconds(study.get("trial_timeout"), "trial_timeout")
    except StudyError as exc:
        raise StudyError(f"{file} [study] {exc}") from None
    return values, enqueued


def load_study_file(path: str | Path) -> StudyFile:
    """Read and validate a study file.

    Raises
    ------
    StudyError
        Naming the file, section and key that are wrong.
    """
    file = Path(path)
    values, enqueued = _sections(file, _read(file))
    study, sampler = values["study"], values["sampler"]
    return StudyFile(
        path=file,
        name=study["name"],
        objective=study["objective"],
        trials=study["trials"],
        storage=_storage(study.get("storage", "hposampler.db"), file),
        sampler=sampler["name"],
        seed=sampler.get("seed"),
        options=dict(sampler.get("options", {})),
        metrics=dict(values["metrics"]),
        search_space=dict(values["search_space"]),
        concurrency=study.get("concurrency", 1),
        executor=study.get("executor", "thread"),
        executor_options=dict(study.get("executor_options", {})),
        timeout=study.get("timeout"),
        trial_timeout=study.get("trial_timeout"),
        skip_duplicates=study.get("skip_duplicates", False),
        pruner=values["pruner"].get("name"),
        pruner_options=dict(values["pruner"].get("options", {})),
        enqueue=[dict(t) for t in enqueued],
        constraints=tuple(values["constraints"].get("names", ())),
        warm_start=tuple(values["warm_start"].get("studies", ())),
    )
