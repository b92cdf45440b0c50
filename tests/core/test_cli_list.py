"""`hposampler list`: table, JSON, empty installation."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from hposampler.cli import main


def test_list_json_shows_samplers_with_plugin_and_capabilities(uniform_registry: Any) -> None:
    result = CliRunner().invoke(main, ["list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    [sampler] = data["samplers"]
    assert sampler["name"] == "test:uniform" and sampler["aliases"] == ["uniform"]
    assert sampler["distribution"] == "test-dist"
    assert sampler["capabilities"]["deterministic"] is True
    assert sampler["options"] == [{"name": "flavour", "default": "plain", "doc": "unused"}]
    assert [e["name"] for e in data["executors"]] == ["process", "thread"]
    assert [s["scheme"] for s in data["storages"]] == ["sqlite"]


def test_list_table(uniform_registry: Any) -> None:
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0
    assert "test:uniform" in result.output and "Executors: process, thread" in result.output
    assert "Storages: sqlite://" in result.output


def test_list_with_no_plugins_says_how_to_install_one(isolated_plugins: Any) -> None:
    isolated_plugins()
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0
    assert "No samplers are installed" in result.output
    assert "pip install ./core ./plugins/grid ./plugins/optuna" in result.output


def test_names_are_never_cut_in_narrow_or_piped_output() -> None:
    import os
    import subprocess
    import sys

    from hposampler import available_samplers

    names = [s.name for s in available_samplers()]
    for columns in ("60", "200"):
        out = subprocess.run(
            [sys.executable, "-m", "hposampler", "list"], capture_output=True, text=True,
            env={**os.environ, "COLUMNS": columns}, check=True, timeout=120,
        ).stdout  # fmt: skip
        assert all(name in out for name in names), (columns, out)


def test_list_name_shows_one_samplers_options(uniform_registry: Any) -> None:
    result = CliRunner().invoke(main, ["list", "uniform"])  # an alias works
    assert result.exit_code == 0, result.output
    assert "test:uniform (sampler, from test-dist" in result.output
    assert "flavour" in result.output and "'plain'" in result.output
    assert "unused" in result.output  # the option's doc
    as_json = CliRunner().invoke(main, ["list", "--json", "test:uniform"])
    assert json.loads(as_json.output)["options"] == [
        {"name": "flavour", "default": "plain", "doc": "unused"}
    ]
    unknown = CliRunner().invoke(main, ["list", "unifrom"])
    assert unknown.exit_code != 0 and "Did you mean 'uniform'" in unknown.output
