"""The ``hposampler`` program against the click group called in-process."""

from __future__ import annotations

import gc
import subprocess
import sys

from click.testing import CliRunner

from hposampler.cli import main

PROGRAM = """
import atexit, gc, sys
atexit.register(lambda: print("frozen", gc.get_freeze_count(), file=sys.stderr))
sys.argv = ["hposampler", "--version"]
import runpy
runpy.run_module("hposampler", run_name="__main__")
"""


def test_the_program_freezes_its_imports_out_of_the_collector() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "hposampler, version" in proc.stdout
    frozen = int(proc.stderr.split("frozen")[-1])
    assert frozen > 10_000  # the core, click, the standard library


def test_calling_the_group_in_a_process_of_ones_own_leaves_its_collector_alone() -> None:
    before = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == before
