"""A study file is checked whole before anything is stored (issue 39, D7)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAD = """
[study]
name = "s"
objective = "hposampler.problems:branin"
trials = {trials}
storage = "runs.db"
[sampler]
name = "random"
[metrics]
loss = "min"
[search_space]
x = {{ value_range = [-5, 10] }}
y = {{ value_range = [0, 15] }}
"""


def _run(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "study.toml"
    path.write_text(textwrap.dedent(text))
    return subprocess.run(
        [sys.executable, "-m", "hposampler", "run", str(path)],
        capture_output=True, text=True, timeout=1800, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("trials", "tail", "message"),
    [
        ("99999999999999999999999", "", r"\[study\] trials must be at most 2\*\*53"),
        (
            "3",
            "[[enqueue]]\nx = 1979-05-27T07:32:00Z\n",
            r"\[\[enqueue\]\] #1 x: datetime .* is not a config value",
        ),
        (
            "3",
            "[[enqueue]]\nx = 1.0\n[[enqueue]]\ny = 1.0\nw = 1979-05-27\n",
            r"\[\[enqueue\]\] #2 w: date .* is not a config value",
        ),
        (
            "3",
            "[[enqueue]]\nx = 1.0\n[[enqueue]]\nx = 99.0\n",
            r"\[\[enqueue\]\] #2: study 's': cannot enqueue .* outside \[-5.0, 10.0\]",
        ),
        ("3", "[[enqueue]]\nz = 1.0\n", r"\[\[enqueue\]\] #1: "),
    ],
)
def test_a_bad_study_file_is_one_line_and_stores_nothing(
    tmp_path: Path, trials: str, tail: str, message: str
) -> None:
    import re

    result = _run(tmp_path, HEAD.format(trials=trials) + tail)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(message, lines[0]), lines[0]
    assert not (tmp_path / "runs.db").exists()


def test_a_good_file_with_enqueued_configs_still_runs(tmp_path: Path) -> None:
    result = _run(tmp_path, HEAD.format(trials=3) + "[[enqueue]]\nx = 1.0\n")
    assert result.returncode == 0, result.stderr
    from hposampler import Study

    records = Study.load(tmp_path / "runs.db", "s").records()
    assert len(records) == 3 and records[0].config["x"] == 1.0
