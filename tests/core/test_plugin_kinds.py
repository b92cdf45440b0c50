"""Every plugin kind the same way: commands and executor flags from installed plugins,
one clash policy, UnknownPluginError."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hposampler
from hposampler.errors import PluginError, UnknownPluginError, UnknownSamplerError
from support import build_registry, make_dist

COMMANDS = """
import click
import hposampler
from hposampler.plugins.specs import CommandSpec, ExecutorSpec, OptionSpec
from hposampler.study.executors import make_executor


def _hello():
    @click.command()
    @click.argument("who")
    def hello(who):
        "Say hello."
        click.echo(f"hello {who}")
    return hello


def _shadow():
    raise AssertionError("a plugin's `run` must never be built")


def _pool(max_workers, label="x"):
    print(f"pool label={label}")
    return make_executor("thread", max_workers)


@hposampler.hookimpl
def register_commands(register):
    register(CommandSpec("hello", _hello, "Say hello from a plugin."))
    register(CommandSpec("run", _shadow, "A clash with the core's run."))


@hposampler.hookimpl
def register_executors(register):
    register(ExecutorSpec("labelled", _pool, "threads with a label",
                          options=(OptionSpec("label", "x", (str,), "what to print"),),
                          run_flags=("label",)))
    register(ExecutorSpec("thread", _pool, "a second thread executor: a clash"))
"""

STUDY = """
[study]
name = "flags"
objective = "hposampler.problems:branin"
trials = 2
storage = "flags.db"
[sampler]
name = "grid"
[metrics]
loss = "min"
[search_space]
x = { categorical_values = [0.0, 1.0] }
y = { categorical_values = [2.0] }
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    make_dist(site, "hposampler-commands", "hpo_commands", COMMANDS)
    return site


def cli(site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPOSAMPLER_")}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-m", "hposampler", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=1800, check=False)  # fmt: skip


def test_a_plugin_adds_a_command_and_cannot_replace_a_core_one(site: Path) -> None:
    helped = cli(site, "--help")
    assert "hello" in helped.stdout and "Say hello from a plugin." in helped.stdout
    ran = cli(site, "hello", "world")
    assert ran.returncode == 0 and ran.stdout == "hello world\n", ran.stderr
    listed = json.loads(cli(site, "list", "--json").stdout)
    assert {
        "name": "hello",
        "description": "Say hello from a plugin.",
        "plugin": "hpo_commands",
        "distribution": "hposampler-commands",
    } in listed["commands"]
    clashes = {(c["value"], c["kept"], c["ignored"]) for c in listed["clashes"]}
    assert ("run", "run", "run") in clashes  # the core's run stays
    assert ("thread", "thread", "thread") in clashes  # the core's thread executor stays
    assert "Usage: python -m hposampler run" in cli(site, "run", "--help").stdout


def test_an_executor_flag_sets_its_option_and_picks_the_executor(
    site: Path, tmp_path: Path
) -> None:
    (tmp_path / "study.toml").write_text(STUDY)
    helped = cli(site, "run", "--help")
    assert "--labelled-label" in helped.stdout and "picks --executor labelled" in helped.stdout
    ran = cli(site, "run", "study.toml", "--labelled-label", "hi", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "pool label=hi" in ran.stdout and "executor labelled" in ran.stdout


def test_strict_mode_refuses_an_executor_clash(isolated_plugins: Any) -> None:
    class Clashing:
        @hposampler.hookimpl
        def register_executors(self, register: Any) -> None:
            from hposampler.plugins.specs import ExecutorSpec

            register(ExecutorSpec("thread", lambda max_workers: None, "a clash"))

    from hposampler.plugins.registry import reset_plugins

    reset_plugins(build_registry(("clashing", Clashing()), strict=True))
    from hposampler.study.executors import make_executor

    with pytest.raises(PluginError, match="executor 'thread' from plugin clashing"):
        make_executor("thread", 1)


def test_unknown_names_of_every_kind_are_one_error_class(isolated_plugins: Any) -> None:
    isolated_plugins()
    from hposampler.storage import make_storage
    from hposampler.study.executors import make_executor

    with pytest.raises(UnknownPluginError) as executor:
        make_executor("threads", 1)
    assert (executor.value.kind, executor.value.name) == ("executor", "threads")
    assert "Did you mean 'thread'?" in str(executor.value)
    with pytest.raises(UnknownPluginError) as storage:
        make_storage("nosql://x")
    assert storage.value.kind == "storage" and "unknown storage 'nosql://'" in str(storage.value)
    with pytest.raises(UnknownSamplerError) as sampler:  # the old name is the same class
        hposampler.make_sampler("tpee", {"x": {"value_range": [0.0, 1.0]}})
    assert sampler.value.kind == "sampler" and UnknownSamplerError is UnknownPluginError


def test_an_unknown_plugin_error_crosses_processes_whole() -> None:
    import pickle

    error = UnknownPluginError("pruner", "medain", ["median"], ["median"], note="see list")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is UnknownPluginError and str(again) == str(error)


def test_a_command_name_must_be_a_word() -> None:
    from hposampler.plugins.specs import CommandSpec, ExecutorSpec

    with pytest.raises(ValueError, match="lower-case letters"):
        CommandSpec("Do It", lambda: None)
    with pytest.raises(ValueError, match="run flag 'adress' is not one of its options"):
        ExecutorSpec("x", lambda max_workers: None, run_flags=("adress",))
