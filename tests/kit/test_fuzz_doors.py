"""Fuzz pass over every door (issue 39): study files through ``hposampler run``,
storage URLs, and the three frontends' space inputs.

Each input either works or is refused with an :class:`hposampler.HposamplerError`
(one line, exit 2 on the command line) and a refused study file stores nothing.
Seeded generators, bounded counts: the same inputs on every run.
"""

from __future__ import annotations

import importlib.util
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hposampler import HposamplerError
from hposampler.cli import main

VALID = """\
[study]
name = "f"
objective = "hposampler.problems:branin"
trials = 2
storage = "runs.db"

[sampler]
name = "random"
seed = 0

[metrics]
loss = "min"

[search_space]
x = { value_range = [-5, 10], value_type = "float" }
y = { value_range = [0, 15], n_bins = 4 }

[[enqueue]]
x = 1.0
"""

#: Pieces the structural mutations put in place of a value or a line.
PIECES = [
    "0", "-1", "1e400", "99999999999999999999999", "nan", "inf", '""', '"x"', "true",
    "[]", "[1, 2]", "{}", '{ value_range = [1, 0] }', "1979-05-27T07:32:00Z", "07:32:00",
    '"\\u0000"', '"' + "a" * 300 + '"', '{ n_bins = 0 }', '{ value_range = [0, 1], log = true }',
    '"hposampler.problems:nothing"', '"tpe"', '"optuna:nope"', '":memory:"', '" "',
]  # fmt: skip


def _structural(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    kind = rng.randrange(4)
    if kind == 0 and "=" in lines[i]:  # a value replaced
        key = lines[i].split("=", 1)[0]
        lines[i] = f"{key}= {rng.choice(PIECES)}"
    elif kind == 1:  # a line dropped
        del lines[i]
    elif kind == 2:  # a line repeated (duplicate keys, tables)
        lines.insert(i, lines[i])
    else:  # a stray key
        lines.insert(i, f"{rng.choice(['zz', 'name', 'n_bins', 'trials'])} = {rng.choice(PIECES)}")
    return "\n".join(lines) + "\n"


def _bytes(rng: random.Random, text: str) -> bytes:
    data = bytearray(text.encode())
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(data))
        choice = rng.randrange(3)
        if choice == 0:
            data[i] = rng.randrange(256)
        elif choice == 1:
            del data[i]
        else:
            data.insert(i, rng.choice(b"[]{}=\"'\n\\#,.0123456789\x00\xff"))
    return bytes(data)


def _studies(db: Path) -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "studies" not in tables:
            return []
        return [r[0] for r in conn.execute("SELECT name FROM studies")]


@pytest.mark.parametrize("kind", ["structural", "bytes"])
def test_mutated_study_files_run_or_are_refused_in_one_line_storing_nothing(
    tmp_path: Path, kind: str
) -> None:
    rng = random.Random(f"study-files-{kind}")
    runner = CliRunner()
    outcomes: dict[int, int] = {}
    for n in range(150):
        folder = tmp_path / f"{kind}{n}"
        folder.mkdir()
        path = folder / "study.toml"
        if kind == "structural":
            text = VALID
            for _ in range(rng.randint(1, 3)):
                text = _structural(rng, text)
            path.write_text(text)
        else:
            path.write_bytes(_bytes(rng, VALID))
        result = runner.invoke(main, ["run", str(path)])
        outcomes[result.exit_code] = outcomes.get(result.exit_code, 0) + 1
        shown = path.read_bytes()[:2000]
        if not isinstance(result.exception, SystemExit) and result.exception is not None:
            raise AssertionError(f"input {n}: {shown!r}") from result.exception
        assert result.exit_code in (0, 2, 3), (n, result.output, shown)
        if result.exit_code == 2:
            assert "Traceback" not in result.output, (n, result.output)
            errors = [line for line in result.output.splitlines() if line.startswith("error:")]
            assert len(errors) == 1, (n, result.output)
            stored = [db for db in folder.rglob("*.db") if _studies(db)]
            assert not stored or "every trial" in result.output, (n, result.output, shown)
    assert outcomes.get(2, 0) > 20, outcomes  # the mutations do reach the refusals


def test_storage_urls_open_or_are_refused_in_one_line(tmp_path: Path, monkeypatch: Any) -> None:
    from hposampler.storage import make_storage
    from hposampler.storage.base import url_secrets

    monkeypatch.chdir(tmp_path)
    rng = random.Random("urls")
    bases = ["runs.db", "sqlite:///runs.db", "postgresql://u:pw-secret@127.0.0.1:1/db",
             "postgresql://u@[::1]:1/db?reconnect_wait=0"]  # fmt: skip
    noise = ["@", "[", "]", ":", "/", "?", "%", "#", "\t", " ", "\x00", "é", "://", "%40",
             "reconnect_wait=", "password=hidden", ":memory:", "file:", "a" * 300]  # fmt: skip
    refused = 0
    for _ in range(300):
        url = rng.choice(bases)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(url) + 1)
            url = url[:i] + rng.choice(noise) + url[i:]
        if url.startswith("postgresql") and "reconnect_wait" not in url:
            url += ("&" if "?" in url else "?") + "reconnect_wait=0"
        try:
            storage = make_storage(url)
        except HposamplerError as exc:
            refused += 1
            assert "\n" not in str(exc), url
            for secret in url_secrets(url):  # a URL's password is never shown
                if len(secret) >= 4:  # (a one-letter "secret" is in any sentence)
                    assert secret not in str(exc), (url, exc)
            continue
        storage.close()
    assert refused > 100


SPACES: list[Any] = [
    None, 1, "x", [1, 2], {}, {"x": 1}, {"x": [1, 2]}, {"x": {}}, {"x": None},
    {"x": {"value_range": [1, 0]}}, {"x": {"value_range": ["a", "b"]}},
    {"x": {"value_range": [0, 1], "n_bins": -1}}, {"x": {"categorical_values": []}},
    {"x": {"subspaces": []}}, {"": {"value_range": [0, 1]}}, {1: {"value_range": [0, 1]}},
    {"x": {"value_range": [0, 10**400]}}, {"x": {"value_range": [float("nan"), 1]}},
    {"x": {"value_range": [0, 1], "log": True}}, {"x": {"value_range": [0, 1]}},
]  # fmt: skip


def _fuzzed_spaces() -> list[Any]:
    rng = random.Random("spaces")
    keys = ["value_range", "value_type", "categorical_values", "n_bins", "log", "subspaces"]
    values: list[Any] = [None, 0, -1, 1.5, "int", "float", [], [0], [0, 1], [1, 0], {}, True]
    out = list(SPACES)
    for _ in range(120):
        entry = {rng.choice(keys): rng.choice(values) for _ in range(rng.randint(1, 3))}
        out.append({rng.choice(["x", "y", "a.b"]): entry})
    return out


@pytest.mark.parametrize("frontend", ["optuna", "ray", "hydra"])
def test_frontend_space_inputs_work_or_raise_an_hposampler_error(frontend: str) -> None:
    module = {"optuna": "hposampler_optuna", "ray": "hposampler_ray",
              "hydra": "hydra_plugins.hposampler_sweeper"}[frontend]  # fmt: skip
    if importlib.util.find_spec(module.split(".")[0]) is None:
        pytest.skip(f"{module} is not installed")
    refused = 0
    for space in _fuzzed_spaces():
        try:
            if frontend == "optuna":
                from hposampler_optuna import HposamplerSampler

                HposamplerSampler("tpe", search_space=space)
            elif frontend == "ray":
                from hposampler_ray import HposamplerSearch

                HposamplerSearch("tpe", space=space, metric="loss", mode="min")
            else:
                from hydra_plugins.hposampler_sweeper.params import space_from_params

                params = {str(k): str(v) for k, v in (space or {}).items()} if isinstance(
                    space, dict) else {"x": str(space)}  # fmt: skip
                space_from_params(params)
        except HposamplerError as exc:
            refused += 1
            assert "\n" not in str(exc).strip(), str(exc)
    assert refused > 10
