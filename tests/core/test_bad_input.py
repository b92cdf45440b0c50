"""Every bad input is one clear line and changes nothing stored (issue table, row by row)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hposampler import SearchSpaceError, Study, TrialState
from hposampler.errors import StorageError, StudyError
from support import interruptible

SPACE = 'x = { value_range = [0, 1], value_type = "float" }'


def write_study(folder: Path, study: str = "", sampler: str = "", space: str = SPACE,
                objective: str = "o:f") -> Path:  # fmt: skip
    (folder / "o.py").write_text("def f(config):\n    return config['x']\n")
    path = folder / "s.toml"
    path.write_text(
        f'[study]\nname = "s"\nobjective = "{objective}"\ntrials = 3\n{study}\n'
        f'[sampler]\nname = "random"\nseed = 0\n{sampler}\n'
        f'[metrics]\nloss = "min"\n[search_space]\n{space}\n'
    )
    return path


def cli(
    *args: str, user: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hposampler", *args], capture_output=True, text=True,
        timeout=timeout, user=user,
    )  # fmt: skip


def one_line_error(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("study", "sampler", "fragment"),
    [
        ("concurrency = 0", "", "concurrency must be a positive int, got 0"),
        ("", "", "trials must be an int >= 0"),  # trials = -1 below
        ('executor = "threads"', "", "unknown executor 'threads'. Did you mean 'thread'?"),
        ("timeout = -5", "", "timeout must be a positive, finite number of seconds, got -5"),
        ("timeout = nan", "", "timeout must be a positive, finite number of seconds, got nan"),
        ("", 'options = { gamma = "os.system" }',
         "option 'gamma' of sampler 'optuna:tpe' must be a Python callable or None"),
        ("", 'options = { exhausted = "never" }', "sampler 'hposampler:random' has no option"),
    ],
)  # fmt: skip
def test_refused_runs_store_nothing(
    tmp_path: Path, study: str, sampler: str, fragment: str
) -> None:
    path = write_study(tmp_path, study, sampler)
    if "trials must" in fragment:
        path.write_text(path.read_text().replace("trials = 3", "trials = -1"))
    if "gamma" in sampler:
        path.write_text(path.read_text().replace('name = "random"', 'name = "tpe"'))
    one_line_error(cli("run", str(path)), fragment)
    assert not (tmp_path / "hposampler.db").exists()  # nothing stored: fixing the file works
    if "gamma" not in sampler and "exhausted" not in sampler:
        fixed = path.read_text().replace(study, "") if study else path.read_text()
        path.write_text(fixed.replace("trials = -1", "trials = 3"))
        assert cli("run", str(path)).returncode == 0


def test_an_overflowing_range_is_a_space_error_and_stores_nothing(tmp_path: Path) -> None:
    path = write_study(tmp_path, space="x = { value_range = [-1.7e308, 1.7e308] }")
    one_line_error(cli("run", str(path)), "x: value_range [-1.7e+308, 1.7e+308] is too wide")
    assert not (tmp_path / "hposampler.db").exists()


@pytest.mark.parametrize("code", ["0", "3", "'bye'"])
def test_sys_exit_in_the_objective_fails_the_trial_and_the_study_goes_on(
    tmp_path: Path, code: str
) -> None:
    (tmp_path / "quitter.py").write_text(
        f"import sys\ndef objective(config):\n    if config['x'] > 0.5:\n        sys.exit({code})\n"
        "    return config['x']\n"
    )
    path = write_study(tmp_path, "trials = 8", objective="quitter:objective")
    path.write_text(path.read_text().replace("trials = 3\n", ""))
    proc = cli("run", str(path))
    assert proc.returncode == 0, proc.stderr
    records = Study.load(tmp_path / "hposampler.db", "s").records()
    assert len(records) == 8 and all(r.state.is_finished for r in records)
    failed = [r for r in records if r.state == TrialState.FAIL]
    assert failed and all(r.config["x"] > 0.5 for r in failed)
    assert all(f"the objective called sys.exit({code})" in (r.error or "") for r in failed)


def test_any_real_number_is_a_result_and_infinities_round_trip(tmp_path: Path) -> None:
    import decimal

    import numpy as np

    results = iter([np.float32(1.5), np.int64(2), decimal.Decimal("0.25"), np.array(3.0),
                    float("-inf")])  # fmt: skip
    study = Study.create(tmp_path / "s.db", "s", "random", {"x": {"value_range": [0, 1]}},
                         {"loss": "min"}, seed=0)  # fmt: skip
    study.optimize(lambda c: next(results), 5)
    records = Study.load(tmp_path / "s.db", "s").records()
    assert [r.final_metrics for r in records] == [
        {"loss": 1.5},
        {"loss": 2.0},
        {"loss": 0.25},
        {"loss": 3.0},
        {"loss": float("-inf")},
    ]
    assert study.best_trial.trial_id == 4
    out = cli("show", "s", "--storage", str(tmp_path / "s.db"))
    assert out.returncode == 0 and "-inf" in out.stdout and "no completed trial" not in out.stdout


def test_an_unpicklable_objective_is_refused_before_the_first_trial(tmp_path: Path) -> None:
    import functools

    import support

    study = Study.create(tmp_path / "s.db", "s", "random", {"x": {"value_range": [0, 1]}},
                         {"loss": "min"}, seed=0)  # fmt: skip
    with pytest.raises(StudyError, match="'process' executor sends the objective.*it is a lambda"):
        study.optimize(lambda c: c["x"], 3, executor="process")

    def nested(config: dict[str, Any]) -> float:
        return float(config["x"])

    with pytest.raises(StudyError, match="nested is defined inside another function"):
        study.optimize(functools.partial(nested), 3, executor="process")
    assert study.records() == []
    study.optimize(functools.partial(support.quadratic), 2, executor="process")  # importable
    assert len(study.records()) == 2


def test_the_first_ctrl_c_stops_a_threaded_run(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(
        "import time\ndef objective(config):\n    time.sleep(60)\n    return config['x']\n"
    )
    path = write_study(tmp_path, "concurrency = 2", objective="slow:objective")
    proc = subprocess.Popen([sys.executable, "-m", "hposampler", "run", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)  # fmt: skip
    db = tmp_path / "hposampler.db"
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    running = conn.execute("SELECT count(*) FROM trials WHERE state=0").fetchone()
                if running[0] == 2:
                    break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)  # the objectives sleep 60 s: not waited for
    assert proc.returncode == 130, err
    assert "interrupted" in out and "--resume" in out
    states = [r.state for r in Study.load(db, "s").records()]
    assert states == [TrialState.WAITING, TrialState.WAITING]


def test_an_unreadable_study_file_is_one_line(tmp_path: Path) -> None:
    path = write_study(tmp_path)
    path.write_bytes(b"\xff\xfe not utf-8")
    one_line_error(cli("run", str(path)), f"cannot read study file {path}")


def test_show_and_export_of_a_missing_file_create_nothing(tmp_path: Path) -> None:
    for command in (["show", "s"], ["export", "s"], ["plot", "s", "-o", str(tmp_path / "p.png")]):
        one_line_error(cli(*command, "--storage", str(tmp_path / "none.db")),
                       f"storage file {tmp_path / 'none.db'} does not exist")  # fmt: skip
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a command as another user")
def test_a_read_only_database_reads_fine_and_refuses_writes_in_one_line(tmp_path: Path) -> None:
    folder = Path("/tmp") / f"hposampler-ro-{os.getpid()}"
    folder.mkdir(mode=0o755)
    try:
        study = Study.create(folder / "s.db", "s", "random", {"x": {"value_range": [0, 1]}},
                             {"loss": "min"}, seed=0)  # fmt: skip
        study.optimize(lambda c: c["x"], 3)
        for p in folder.iterdir():
            p.chmod(0o644)
        shown = cli("show", "s", "--storage", str(folder / "s.db"), user="nobody")
        assert shown.returncode == 0 and "3 trials: 3 COMPLETE" in shown.stdout, shown.stderr
        exported = cli("export", "s", "--storage", str(folder / "s.db"), user="nobody")
        assert exported.returncode == 0 and exported.stdout.startswith("trial_id,state")
        files = folder / "files"
        files.mkdir(mode=0o755)
        path = write_study(files)
        for p in files.iterdir():
            p.chmod(0o644)
        ran = cli("run", str(path), "--resume", "--storage", str(folder / "s.db"), user="nobody")
        assert ran.returncode == 2 and len(ran.stderr.strip().splitlines()) == 1, ran.stderr
        assert str(folder / "s.db") in ran.stderr
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tamper(db: Path, sql: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(sql)


def test_tampered_databases_are_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    study = Study.create(db, "s", "random", {"x": {"value_range": [0, 1]}}, {"loss": "min"},
                         seed=0)  # fmt: skip
    study.optimize(lambda c: c["x"], 2)
    copy = tmp_path / "dropped.db"
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    tamper(copy, "ALTER TABLE trials DROP COLUMN worker")
    one_line_error(cli("show", "s", "--storage", str(copy)),
                   "is not a hposampler database of schema 4: table trials lacks column(s) worker")  # fmt: skip
    tamper(db, f"UPDATE trials SET trial_id = {2**63 - 2} WHERE trial_id = 1")
    with pytest.raises(StorageError, match=r"trial_id must be an int in \[0, 2\*\*53\)"):
        Study.load(db, "s")
    tamper(db, f"UPDATE trials SET trial_id = 1 WHERE trial_id = {2**63 - 2}")
    tamper(db, "UPDATE trials SET config = '" + "[" * 100_000 + "' WHERE trial_id = 1")
    with pytest.raises(StorageError, match="trial 1: column config is not valid JSON"):
        Study.load(db, "s")
    tamper(db, "UPDATE trials SET config = '{\"x\": 0.5}' WHERE trial_id = 1")
    definition = json.dumps({"sampler": "r" * 20_000_000, "search_space": {}})
    tamper(db, f"UPDATE studies SET definition = '{definition}'")
    one_line_error(cli("show", "s", "--storage", str(db)), "over the limit of")


def test_absurdly_nested_spaces_are_refused() -> None:
    space: dict[str, Any] = {"value_range": [0, 1]}
    for _ in range(200):
        space = {"subspaces": [space]}
    with pytest.raises(SearchSpaceError, match="nests deeper than 64 levels"):
        Study.create(":memory:", "s", "random", {"x": space}, {"loss": "min"})


def test_names_are_text_never_markup(tmp_path: Path) -> None:
    name = "$\\badcmd{$ study"
    study = Study.create(tmp_path / "s.db", name, "random", {"$x$": {"value_range": [0, 1]}},
                         {"$loss$": "min"}, seed=0)  # fmt: skip
    study.optimize(lambda c: {"$loss$": c["$x$"]}, 4)
    out = cli("plot", name, "--storage", str(tmp_path / "s.db"), "-o", str(tmp_path / "p.png"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "p.png").stat().st_size > 1000


@pytest.mark.parametrize("name", [None, 5, b"abc", "", "a\nb", "a\x00b", "x" * 201])
def test_study_names_are_validated(tmp_path: Path, name: Any) -> None:
    with pytest.raises(StudyError, match="study name"):
        Study.create(tmp_path / "s.db", name, "random", {"x": {"value_range": [0, 1]}},
                     {"loss": "min"})  # fmt: skip
    assert Study.create(tmp_path / "s.db", "ok", "random", {"x": {"value_range": [0, 1]}},
                        {"loss": "min"}).storage.study_names() == ["ok"]  # fmt: skip


def test_api_arguments_get_the_librarys_errors(tmp_path: Path) -> None:
    with pytest.raises(SearchSpaceError, match="must be a dict"):
        Study.create(tmp_path / "s.db", "s", "random", [1, 2], {"loss": "min"})  # type: ignore[arg-type]
    with pytest.raises(StudyError, match="storage must be a file path"):
        Study.create(5, "s", "random", {"x": {"value_range": [0, 1]}}, {"loss": "min"})  # type: ignore[arg-type]
    study = Study.create(tmp_path / "s.db", "s", "random", {"x": {"value_range": [0, 1]}},
                         {"loss": "min"})  # fmt: skip
    with pytest.raises(StudyError, match="timeout must be a number of seconds, got str '10'"):
        study.optimize(lambda c: 0.0, 3, timeout="10")  # type: ignore[arg-type]
    with pytest.raises(StudyError, match="catch must be a tuple of exception classes"):
        study.optimize(lambda c: 0.0, 3, catch=ValueError)  # type: ignore[arg-type]
    assert study.records() == []


def test_sqlite_urls_in_study_files_and_no_shadowing(tmp_path: Path) -> None:
    (tmp_path / "optuna.py").write_text("raise ImportError('the study folder shadowed optuna')\n")
    path = write_study(tmp_path, f'storage = "sqlite:///{tmp_path / "url.db"}"')
    path.write_text(path.read_text().replace('name = "random"', 'name = "tpe"'))
    proc = cli("run", str(path))
    assert proc.returncode == 0, proc.stderr
    assert len(Study.load(tmp_path / "url.db", "s").records()) == 3


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_a_hanging_objective_fails_its_trial_after_trial_timeout(
    tmp_path: Path, executor: str
) -> None:
    import support

    study = Study.create(tmp_path / "s.db", "s", "random", {"x": {"value_range": [0, 1]}},
                         {"loss": "min"}, seed=0)  # fmt: skip
    # without trial_timeout this would block for an hour (and hit pytest's timeout)
    study.optimize(support.hang, 6, concurrency=2, executor=executor, trial_timeout=1.0)
    records = study.records()
    assert sum(r.state.is_finished for r in records) == 6
    late = [r for r in records if r.config["x"] > 0.5]
    assert late and all(r.state == TrialState.FAIL for r in late)
    assert all("TrialTimeout" in (r.error or "") and "trial_timeout=1" in (r.error or "")
               for r in late)  # fmt: skip
    assert all(r.state == TrialState.COMPLETE for r in records if r.config["x"] <= 0.5)


def test_trial_timeout_is_validated(tmp_path: Path) -> None:
    path = write_study(tmp_path, "trial_timeout = 0")
    one_line_error(cli("run", str(path)), "trial_timeout must be a positive, finite number")
    assert not (tmp_path / "hposampler.db").exists()


def test_large_values_are_refused_or_shown_cut(tmp_path: Path) -> None:
    with pytest.raises(SearchSpaceError, match="over the limit of 1048576"):
        Study.create(tmp_path / "s.db", "s", "random",
                     {"c": {"categorical_values": ["a" * 3_000_000, "b"]}}, {"loss": "min"})  # fmt: skip
    assert not Study.create(tmp_path / "t.db", "t", "random", {"x": {"value_range": [0, 1]}},
                            {"loss": "min"}).records()  # fmt: skip
    study = Study.create(tmp_path / "s.db", "s", "tpe",
                         {"c": {"categorical_values": ["a" * 900_000, "b"]},
                          "x": {"value_range": [0, 1]}}, {"loss": "min"}, seed=0)  # fmt: skip
    study.optimize(lambda c: c["x"], 6)
    shown = cli("show", "s", "--storage", str(tmp_path / "s.db"))
    assert shown.returncode == 0 and len(shown.stdout) < 20_000 and "aaaa…" in shown.stdout
    plotted = cli("plot", "s", "--storage", str(tmp_path / "s.db"), "-o", str(tmp_path / "p.png"))
    assert plotted.returncode == 0, plotted.stderr
    exported = cli("export", "s", "--storage", str(tmp_path / "s.db"))
    assert "a" * 900_000 in exported.stdout  # the full value is one export away
