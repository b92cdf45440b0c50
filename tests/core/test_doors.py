"""Every door answers in one line (issue 39, D8): odd storage names, damaged times."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hposampler import Study

SPACE = {"x": {"value_range": [0.0, 1.0]}}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hposampler", *args], cwd=cwd, capture_output=True, text=True,
        timeout=1800, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_storage_path_too_long_for_the_filesystem_is_one_line(tmp_path: Path) -> None:
    line = _one_line(_cli("studies", "--storage", "a" * 5000 + ".db", cwd=tmp_path))
    assert "(5003 characters): File name too long; give a shorter path" in line
    assert len(line) < 300


def test_a_time_after_the_year_9999_is_refused_on_load_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Study.create(db, "s", "random", SPACE, {"loss": "min"}, seed=0).optimize(lambda c: c["x"], 2)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE trials SET heartbeat_at = 1e12 WHERE trial_id = 1")
    for command in (["studies"], ["show", "s"], ["export", "s"]):
        line = _one_line(_cli(*command, "--storage", str(db), cwd=tmp_path))
        assert "trial 1: column heartbeat_at holds 1000000000000.0, a time after the year" in line


@pytest.mark.skipif(
    importlib.util.find_spec("hposampler_postgresql") is None, reason="needs the plugin"
)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://[::1/db", r"postgresql://\[::1/db is not a valid URL \(Invalid IPv6"),
        (
            "postgresql://u:p@ss@db.invalid/x",
            r"postgresql://u:\*\*\*@db.invalid/x: the user name or password holds an '@'.* %40",
        ),
        ("postgresql://u:pw@localhost:abc/db", r"is not a valid URL \(Port could not be cast"),
    ],
)
def test_a_malformed_server_url_is_one_line_before_any_connection(
    tmp_path: Path, url: str, message: str
) -> None:
    import re

    line = _one_line(_cli("studies", "--storage", url, cwd=tmp_path))
    assert re.search(message, line), line
    assert "p@ss" not in line and ":pw@" not in line


def test_a_trial_of_a_machine_whose_clock_is_ahead_is_named_not_waited_on_silently(
    tmp_path: Path,
) -> None:
    import time

    from hposampler import TrialState
    from hposampler.storage import TrialRecord

    (tmp_path / "s.toml").write_text(
        '[study]\nname = "s"\nobjective = "hposampler.problems:branin"\ntrials = 3\n'
        'storage = "s.db"\n[sampler]\nname = "random"\n[metrics]\nloss = "min"\n'
        "[search_space]\nx = { value_range = [-5, 10] }\ny = { value_range = [0, 15] }\n"
    )
    study = Study.create(tmp_path / "s.db", "s", "random",
                         {"x": {"value_range": [-5, 10]}, "y": {"value_range": [0, 15]}},
                         {"loss": "min"})  # fmt: skip
    ahead = time.time() + 3600  # a worker on a machine an hour ahead
    study.storage.create_trial("s", TrialRecord(0, TrialState.RUNNING, {"x": 1.0, "y": 2.0},
                               attempts=1, started_at=ahead, heartbeat_at=ahead,
                               driver="fastclock:7:abc"))  # fmt: skip
    result = _cli("run", "s.toml", "--resume", "--timeout", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "in this machine's future" in line]
    assert len(said) == 1, result.stderr  # once, not at every poll
    assert "trial 0 runs on fastclock" in said[0] and "Synchronise the clocks (NTP)" in said[0]
    import re

    # the skew it names: the hour ahead, less however long this machine took to get there
    shown = int(re.search(r"heartbeat is (\d+) s in this machine's future", said[0])[1])
    assert 3600 - (time.time() - ahead + 3600) - 1 <= shown <= 3600, said[0]


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        (":memory:", "keeps nothing once the process ends"),
        (" ", "keeps nothing once the process ends"),
        ("x.db?mode=ro", "is written as an SQLite URI; give the file's path only"),
        ("file:x.db", "is written as an SQLite URI; give the file's path only"),
        ("a\tb.db", "holds a control character"),
        (" x.db", "starts or ends with a space"),
    ],
)
def test_storage_names_that_keep_nothing_or_make_odd_files_are_refused(
    tmp_path: Path, storage: str, message: str
) -> None:
    (tmp_path / "s.toml").write_text(
        '[study]\nname = "s"\nobjective = "hposampler.problems:branin"\ntrials = 2\n'
        '[sampler]\nname = "random"\n[metrics]\nloss = "min"\n'
        "[search_space]\nx = { value_range = [-5, 10] }\ny = { value_range = [0, 15] }\n"
    )
    assert message in _one_line(_cli("run", "s.toml", "--storage", storage, cwd=tmp_path))
    assert message in _one_line(_cli("show", "s", "--storage", storage, cwd=tmp_path))
    Study.create(tmp_path / "ok.db", "s", "random", SPACE, {"loss": "min"})
    line = _one_line(_cli("copy", "s", "--from", "ok.db", "--to", storage, cwd=tmp_path))
    assert message in line
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("ok.db")) == [
        "s.toml"
    ]


def test_an_optuna_database_is_named_and_never_written(tmp_path: Path) -> None:
    db = tmp_path / "optuna.db"
    with sqlite3.connect(db) as conn:  # the shape of Optuna's RDB storage
        for table in ("alembic_version", "studies", "trials", "trial_params", "trial_values"):
            conn.execute(f"CREATE TABLE {table} (id INTEGER)")
    before = db.read_bytes()
    (tmp_path / "s.toml").write_text(
        '[study]\nname = "s"\nobjective = "hposampler.problems:branin"\ntrials = 2\n'
        '[sampler]\nname = "random"\n[metrics]\nloss = "min"\n'
        "[search_space]\nx = { value_range = [-5, 10] }\ny = { value_range = [0, 15] }\n"
    )
    for command in (["show", "s"], ["studies"], ["run", "s.toml"]):
        line = _one_line(_cli(*command, "--storage", str(db), cwd=tmp_path))
        assert "is an Optuna database, not a hposampler one" in line
    assert db.read_bytes() == before
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    line = _one_line(_cli("studies", "--storage", "other.db", cwd=tmp_path))
    assert "holds another program's tables (notes), not hposampler's" in line
