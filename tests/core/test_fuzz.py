"""Fuzzing the inputs users and files give: success or an HposamplerError, nothing else.

Each test draws hundreds of malformed (and some valid) inputs; the counts are in
the ``settings`` below. A crash here is an exception that is not a subclass of
:class:`hposampler.HposamplerError`, or a finished trial that changed.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hposampler import HposamplerError, Study, TrialState, make_sampler, parse_search_space
from hposampler.samplers.trial import Trial
from hposampler.storage import TRIAL_COLUMNS, TrialRecord, record_from_row, record_to_row
from hposampler.study.objective import split_result
from hposampler.study.studyfile import load_study_file

FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
keys = st.one_of(
    st.sampled_from(["value_range", "value_type", "categorical_values", "subspaces",
                     "sub_configuration", "n_bins", "log", "x", "lr", "name"]),
    st.text(max_size=5),
)  # fmt: skip
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)
spaces = st.one_of(
    json_like,
    st.dictionaries(keys, json_like, max_size=4),
    st.dictionaries(st.text(min_size=1, max_size=4), st.fixed_dictionaries({}, optional={
        "value_range": st.lists(st.one_of(scalars, st.text(max_size=4)), max_size=3),
        "value_type": st.sampled_from(["int", "float", "bool", None]),
        "n_bins": scalars,
        "log": scalars,
        "categorical_values": st.lists(json_like, max_size=4),
    }), min_size=1, max_size=3),
)  # fmt: skip


@FUZZ
@given(spaces)
def test_search_spaces_parse_or_raise_a_search_space_error(space: Any) -> None:
    try:
        parsed = parse_search_space(space)
    except HposamplerError:
        event("refused")
        return
    try:
        sampler = make_sampler("random", parsed, optim_metrics={"loss": "min"}, seed=0)
        trial_id, config, internal = sampler.eager_sample()
    except HposamplerError:
        event("parsed, refused by the sampler")
        return
    event("sampled")
    json.dumps(config)  # a config is JSON data
    assert sampler.tree.violation(config) is None


@FUZZ
@given(json_like, st.sampled_from([{"loss": "min"}, {"loss": "min", "acc": "max"}]))
def test_objective_results_are_metrics_or_a_metrics_error(result: Any, metrics: Any) -> None:
    if isinstance(result, list) and result and isinstance(result[0], (int, float)):
        result = {"loss": result[0], "acc": result[-1], "extra": result}  # near-valid
    try:
        values, extras = split_result(result, metrics)
    except HposamplerError:
        event("refused")
        return
    event("accepted")
    assert list(values) == list(metrics)
    assert all(v is None or not math.isnan(v) for v in values.values())
    json.dumps(extras, allow_nan=False)


json_text = st.one_of(st.text(max_size=30), json_like.map(json.dumps))
row_values = st.tuples(
    st.one_of(st.integers(-5, 2**64), st.none(), st.text(max_size=3), st.booleans()),
    st.one_of(st.integers(-2, 12), st.text(max_size=3), st.none()),
    *[st.one_of(json_text, st.none(), st.integers()) for _ in range(4)],
    *[st.one_of(scalars, st.text(max_size=5)) for _ in range(len(TRIAL_COLUMNS) - 6)],
)


VALID_ROW = record_to_row(
    TrialRecord(3, TrialState.COMPLETE, {"x": 0.5, "c": [1, "a"]}, [{"loss": 0.25}],
                {"acc": 0.9}, {"index": 2}, None, "h:1:t", 1, 1.0, 2.0, "h:1:a", 1.5)
)  # fmt: skip
mutated_rows = st.tuples(
    st.lists(st.integers(0, len(VALID_ROW) - 1), max_size=3),
    st.lists(st.one_of(scalars, json_text), min_size=3, max_size=3),
).map(lambda m: tuple(
    m[1][m[0].index(i)] if i in m[0] else v for i, v in enumerate(VALID_ROW)
))  # fmt: skip


@FUZZ
@given(st.one_of(row_values, mutated_rows))
def test_stored_rows_validate_or_raise_a_storage_error(row: tuple[Any, ...]) -> None:
    try:
        record = record_from_row("s", row)
    except HposamplerError:
        event("refused")
        return
    event("accepted")
    assert isinstance(record.trial_id, int) and isinstance(record.config, dict)


@FUZZ
@given(st.dictionaries(st.sampled_from(["trial_id", "config", "state", "metrics", "internal",
                                        "extra"]), json_like, max_size=6))  # fmt: skip
def test_trial_records_validate_or_raise(data: dict[str, Any]) -> None:
    try:
        Trial.from_dict(data)
    except HposamplerError:
        pass


def toml_value(value: Any) -> str:
    """A TOML rendering of JSON-like data (inline tables and arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if isinstance(value, float) and math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()
                               if v is not None) + "}"  # fmt: skip
    return '""'


study_keys = st.sampled_from(
    [
        "name",
        "objective",
        "trials",
        "concurrency",
        "executor",
        "storage",
        "timeout",
        "trial_timeout",
        "skip_duplicates",
        "nme",
    ]
)
study_tables = st.fixed_dictionaries(
    {"study": st.dictionaries(study_keys, scalars, max_size=6),
     "sampler": st.dictionaries(st.sampled_from(["name", "seed", "options", "sead"]),
                                json_like, max_size=3),
     "metrics": st.dictionaries(st.text(min_size=1, max_size=4), json_like, max_size=2),
     "search_space": st.dictionaries(st.text(min_size=1, max_size=4), json_like, max_size=2)},
)  # fmt: skip


VALID_TABLES: dict[str, dict[str, Any]] = {
    "study": {"name": "s", "objective": "m:f", "trials": 10, "concurrency": 2},
    "sampler": {"name": "tpe", "seed": 0, "options": {"n_startup_trials": 3}},
    "metrics": {"loss": "min"},
    "search_space": {"x": {"value_range": [0, 1]}},
}
mutated_tables = st.tuples(
    st.sampled_from(list(VALID_TABLES)), st.one_of(study_keys, keys), json_like
).map(lambda m: {s: ({**t, m[1]: m[2]} if s == m[0] else t) for s, t in VALID_TABLES.items()})


@FUZZ
@given(st.one_of(study_tables, mutated_tables, st.just(VALID_TABLES)), st.booleans())
def test_study_files_load_or_raise_a_study_error(tables: dict[str, Any], garble: bool) -> None:
    lines = []
    for section, table in tables.items():
        lines.append(f"[{section}]")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items() if v is not None]
    text = "\n".join(lines)
    if garble:
        text = text.replace("=", "", 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.toml"
        path.write_text(text)
        try:
            load_study_file(path)
        except HposamplerError:
            event("refused")
            return
        event("loaded")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(json_like, min_size=1, max_size=4))
def test_misbehaving_objectives_never_change_a_finished_trial(results: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        study = Study.create(Path(folder) / "s.db", "s", "random",
                             {"x": {"value_range": [0, 1]}}, {"loss": "min"}, seed=0)  # fmt: skip
        study.optimize(lambda c: c["x"], 3)
        before = {r.trial_id: r for r in study.records()}
        queue = iter(results)

        def objective(config: dict[str, Any]) -> Any:
            value = next(queue, 0.5)
            if isinstance(value, str) and value.startswith("r"):
                raise ValueError(value)
            return value

        try:
            study.optimize(objective, 3 + len(results))
        except HposamplerError:
            pass
        after = {r.trial_id: r for r in study.records()}
        assert all(after[tid] == record for tid, record in before.items())
        assert all(r.state.is_finished or r.state == TrialState.WAITING for r in after.values())
        assert sorted(after) == list(range(len(after)))
