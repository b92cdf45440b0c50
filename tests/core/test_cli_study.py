"""`hposampler run | show | export | plot`, user errors, and kill -9 + --resume."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hposampler import Study, TrialState
from hposampler.cli import main

TESTS = Path(__file__).resolve().parent.parent


def study_file(
    tmp_path: Path,
    trials: int = 12,
    objective: str = "support:quadratic",
    sampler: str = "random",
    extra: str = "",
    metrics: tuple[str, ...] = ("loss",),
    params: tuple[str, ...] = ("x",),
) -> Path:
    """A study file: every metric minimised, every parameter a float in [0, 1]."""
    indent = "\n        "
    minimised = indent.join(f'{m} = "min"' for m in metrics)
    space = indent.join(f'{p} = {{ value_range = [0, 1], value_type = "float" }}' for p in params)
    path = tmp_path / "study.toml"
    path.write_text(
        textwrap.dedent(f"""
        [study]
        name = "demo"
        objective = "{objective}"
        trials = {trials}
        concurrency = 2
        storage = "demo.db"
        {extra}

        [sampler]
        name = "{sampler}"
        seed = 0

        [metrics]
        {minimised}

        [search_space]
        {space}
    """)
    )
    return path


def test_run_show_export_plot(tmp_path: Path) -> None:
    path = study_file(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert "12 trials: 12 COMPLETE" in result.output
    study = Study.load(tmp_path / "demo.db", "demo")
    best = study.best_trial.final_metrics["loss"]
    assert f"best loss={best:.6g}" in result.output
    db = str(tmp_path / "demo.db")
    shown = runner.invoke(main, ["show", "demo", "--storage", db])
    assert shown.exit_code == 0 and "COMPLETE" in shown.output
    exported = runner.invoke(main, ["export", "demo", "--storage", db, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert len(rows) == 12 and {"trial_id", "state", "loss", "params.x"} <= set(rows[0])
    as_json = runner.invoke(main, ["export", "demo", "--storage", db, "--format", "json"])
    assert json.loads(as_json.output)[0]["state"] == "COMPLETE"
    png = tmp_path / "history.png"
    plotted = runner.invoke(main, ["plot", "demo", "--storage", db, "-o", str(png)])
    assert plotted.exit_code == 0, plotted.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda t: t.replace('name = "random"', 'name = "randon"'),
            "unknown sampler 'randon'. Did you mean 'random'",
        ),
        (
            lambda t: t.replace("support:quadratic", "nowhere:f"),
            "cannot import objective module 'nowhere'",
        ),
        (
            lambda t: t.replace("trials = 12", "trails = 12"),
            "unknown key 'trails' (did you mean 'trials'?)",
        ),
        (
            lambda t: t.replace('value_type = "float"', 'value_type = "double"'),
            "x: value_type must be 'int' or 'float'",
        ),
        (lambda t: t.replace("[metrics]", "[metric]"), "unknown key 'metric'"),
        (lambda t: t + "\n[sampler.options]\nn_startup = 3\n", "has no option 'n_startup'"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(tmp_path: Path, mutate, message: str) -> None:
    path = study_file(tmp_path)
    path.write_text(mutate(path.read_text()))
    result = CliRunner().invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_existing_study_needs_resume_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    path = study_file(tmp_path, trials=3)
    runner = CliRunner()
    assert runner.invoke(main, ["run", str(path)]).exit_code == 0
    again = runner.invoke(main, ["run", str(path)])
    assert again.exit_code == 2 and "already exists" in again.output and "--resume" in again.output
    debug = runner.invoke(main, ["--debug", "run", str(path)])
    assert debug.exit_code != 0 and debug.exception is not None
    resumed = runner.invoke(main, ["run", str(path), "--resume", "--trials", "5"])
    assert resumed.exit_code == 0 and "5 trials: 5 COMPLETE" in resumed.output


def _count(db: Path, state: int) -> int:
    try:
        con = sqlite3.connect(db, timeout=5)
        (n,) = con.execute("SELECT count(*) FROM trials WHERE state = ?", (state,)).fetchone()
        con.close()
        return int(n)
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_kill_minus_9_then_resume_loses_nothing_and_reruns_nothing(tmp_path: Path) -> None:
    trials = 40
    path = study_file(tmp_path, trials=trials, objective="support:slow_quadratic", sampler="tpe")
    db = tmp_path / "demo.db"
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    cmd = [sys.executable, "-m", "hposampler", "run", str(path)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _count(db, int(TrialState.COMPLETE)) < 10:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r.trial_id: r for r in Study.load(db, "demo").records()}
    finished_before = {tid: r for tid, r in before.items() if r.state.is_finished}
    running_before = [tid for tid, r in before.items() if r.state == TrialState.RUNNING]
    assert 10 <= len(finished_before) < trials
    result = subprocess.run(
        [*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    after = {r.trial_id: r for r in Study.load(db, "demo").records()}
    assert sorted(after) == list(range(trials))  # unique, dense ids
    assert all(r.state == TrialState.COMPLETE for r in after.values())
    for tid, record in finished_before.items():
        assert after[tid] == record  # no finished trial re-run or lost
    for tid in running_before:  # interrupted trials re-ran with the same config
        assert after[tid].config == before[tid].config and after[tid].attempts == 2


def test_executor_options_from_the_command_line_are_validated(tmp_path: Path) -> None:
    path = study_file(tmp_path, trials=2)
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(path),
            "--executor",
            "process",
            "--executor-option",
            'start_method="forkserver"',
        ],
    )
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(
        main,
        [
            "run",
            str(path),
            "--resume",
            "--trials",
            "3",
            "--executor",
            "thread",
            "--executor-option",
            "workers=2",
        ],
    )
    assert bad.exit_code == 2
    assert "executor 'thread' has no option 'workers'" in bad.output
    malformed = CliRunner().invoke(main, ["run", str(path), "--executor-option", "oops"])
    assert malformed.exit_code == 2 and "must look like KEY=VALUE" in malformed.output


def test_run_exits_3_when_every_trial_failed(tmp_path: Path) -> None:
    path = study_file(tmp_path, trials=4, objective="support:always_fails")
    result = CliRunner().invoke(main, ["run", str(path)])
    assert result.exit_code == 3, result.output
    assert "4 trials: 4 FAIL" in result.output
    assert "every trial of study 'demo' failed" in result.output
    assert "hposampler show demo --storage" in result.output


def test_a_two_slash_sqlite_url_in_a_study_file_is_refused_and_tilde_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = study_file(tmp_path, trials=2)
    path.write_text(path.read_text().replace('storage = "demo.db"', 'storage = "sqlite://x.db"'))
    result = CliRunner().invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    assert "a SQLite URL has three slashes, sqlite:///x.db" in result.output
    assert not list(tmp_path.glob("*.db"))  # no hidden file created
    monkeypatch.setenv("HOME", str(tmp_path))
    path.write_text(path.read_text().replace('"sqlite://x.db"', '"~/home.db"'))
    assert CliRunner().invoke(main, ["run", str(path)]).exit_code == 0
    assert (tmp_path / "home.db").is_file()


def _fails_on_odd(config: dict[str, float], trial: object) -> dict[str, object]:
    trial.report(0, {"loss": config["x"] * 2})  # type: ignore[attr-defined]
    if trial.trial_id % 2:  # type: ignore[attr-defined]
        raise ValueError(f"cannot fit x={config['x']}")
    return {"loss": config["x"], "notes": {"epochs": 3}}


def test_show_trial_prints_one_trial_whole(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    space = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}
    study = Study.create(db, "s", "tpe", space, {"loss": "min"}, seed=0)
    study.optimize(_fails_on_odd, 4)
    records = study.records()
    runner = CliRunner()
    ok = runner.invoke(main, ["show", "s", "--storage", str(db), "--trial", "0"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("trial 0 of study s: COMPLETE\n")
    assert f'"x": {records[0].config["x"]}' in ok.output
    assert '0: {"loss": ' in ok.output and '"epochs": 3' in ok.output
    assert "internal: {" in ok.output  # TPE's state for the trial
    failed = runner.invoke(main, ["show", "s", "--storage", str(db), "--trial", "1"])
    assert failed.output.startswith("trial 1 of study s: FAIL\n")
    assert "Traceback (most recent call last)" in failed.output  # the whole traceback
    assert "ValueError: cannot fit x=" in failed.output
    missing = runner.invoke(main, ["show", "s", "--storage", str(db), "--trial", "9"])
    assert missing.exit_code == 2
    assert missing.output.strip() == "error: study 's' has no trial 9; its trials are 0 to 3"


def test_run_on_a_builtin_problem_prints_the_regret(tmp_path: Path) -> None:
    quickstart = Path(__file__).parents[2] / "docs" / "examples" / "quickstart.toml"
    path = tmp_path / "q.toml"
    path.write_text(quickstart.read_text().replace('"quickstart.db"', '"q.db"'))
    result = CliRunner().invoke(main, ["run", str(path), "--trials", "12"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "regret" in x)
    best = Study.load(tmp_path / "q.db", "quickstart").best_trial.final_metrics["loss"]
    assert line == f"best {best:.6g}, optimum 0.397887, regret {best - 0.397887:.3g}"
    custom = study_file(tmp_path)  # an objective of the user's own: no optimum to compare
    assert "regret" not in CliRunner().invoke(main, ["run", str(custom)]).output


def test_studies_lists_what_a_storage_holds_and_a_missing_file_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "runs.db"
    space = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}
    Study.create(db, "first", "random", space, {"loss": "min"}, seed=0).optimize(
        lambda c: c["x"], 5
    )
    Study.create(db, "empty", "tpe", space, {"loss": "min"}).storage.close()
    runner = CliRunner()
    listed = runner.invoke(main, ["studies", "--storage", str(db), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["name"] for r in rows] == ["first", "empty"]
    best = min(r.final_metrics["loss"] for r in Study.load(db, "first").records())
    assert rows[0]["sampler"] == "random" and rows[0]["states"] == {"COMPLETE": 5}
    assert rows[0]["best"] == {"loss": best} and rows[0]["last_activity"]
    assert rows[1]["trials"] == 0 and rows[1]["best"] is None
    table = runner.invoke(main, ["studies", "--storage", str(db)])
    assert "first" in table.output and "5 (5 COMPLETE)" in table.output
    monkeypatch.chdir(tmp_path)  # forgetting --storage: the default file is not there
    missing = runner.invoke(main, ["show", "first"])
    assert missing.exit_code == 2
    assert "hposampler.db does not exist; give the study's storage with --storage" in (
        missing.output
    )
    assert "SQLite files in" in missing.output and "runs.db" in missing.output


def test_run_timeout_overrides_the_study_file(tmp_path: Path) -> None:
    path = study_file(tmp_path, trials=100000)  # far more than a second's worth
    result = CliRunner().invoke(main, ["run", str(path), "--timeout", "1"])
    assert result.exit_code == 0, result.output
    records = Study.load(tmp_path / "demo.db", "demo").records()
    assert 0 < len(records) < 100000  # no new trial started after a second
    bad = CliRunner().invoke(main, ["run", str(path), "--resume", "--timeout", "0"])
    assert bad.exit_code == 2 and "--timeout" in bad.output


def test_export_has_iso_times_and_json_the_whole_traceback(tmp_path: Path) -> None:
    import datetime

    db = tmp_path / "s.db"
    space = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}
    Study.create(db, "s", "random", space, {"loss": "min"}, seed=0).optimize(_fails_on_odd, 2)
    runner = CliRunner()
    rows = json.loads(runner.invoke(main, ["export", "s", "--storage", str(db),
                                           "--format", "json"]).output)  # fmt: skip
    records = Study.load(db, "s").records()
    for row, record in zip(rows, records, strict=True):
        started = datetime.datetime.fromisoformat(row["started_at"])
        assert started.timestamp() == pytest.approx(record.started_at)
        assert started.tzinfo is not None
    assert rows[1]["traceback"].startswith("Traceback (most recent call last)")
    assert rows[1]["error"].startswith("ValueError: cannot fit")
    csv_text = runner.invoke(main, ["export", "s", "--storage", str(db)]).output
    header = csv_text.splitlines()[0].split(",")
    assert "started_at" in header and "finished_at" in header and "traceback" not in header


def test_delete_asks_and_removes_one_study(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    space = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}
    for name in ("keep", "drop"):
        Study.create(db, name, "random", space, {"loss": "min"}, seed=0).optimize(
            lambda c: c["x"], 3
        )
    runner = CliRunner()
    declined = runner.invoke(main, ["delete", "drop", "--storage", str(db)], input="n\n")
    assert declined.exit_code != 0 and "delete study 'drop' and its 3 trials" in declined.output
    assert len(Study.load(db, "drop").records()) == 3
    done = runner.invoke(main, ["delete", "drop", "--storage", str(db), "--yes"])
    assert done.exit_code == 0 and "deleted study drop (3 trials)" in done.output
    assert Study.load(db, "keep").storage.study_names() == ["keep"]
    assert len(Study.load(db, "keep").records()) == 3
    again = runner.invoke(main, ["delete", "drop", "--storage", str(db), "--yes"])
    assert again.exit_code == 2 and "no study 'drop'" in again.output


def test_delete_refuses_while_a_worker_runs_a_trial(tmp_path: Path) -> None:
    from hposampler.storage import TrialRecord

    db = tmp_path / "runs.db"
    space = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}
    study = Study.create(db, "busy", "random", space, {"loss": "min"}, seed=0)
    now = time.time()  # a worker on another host, heartbeat fresh
    study.storage.create_trial("busy", TrialRecord(0, TrialState.RUNNING, {"x": 0.5}, attempts=1,
                               started_at=now, heartbeat_at=now, driver="elsewhere:1:a"))  # fmt: skip
    result = CliRunner().invoke(main, ["delete", "busy", "--storage", str(db), "--yes"])
    assert result.exit_code == 2
    assert "has 1 live worker(s) (elsewhere:1:a); stop them first" in result.output
    assert len(Study.load(db, "busy").records()) == 1


def test_run_draws_its_bar_only_on_a_terminal_and_never_loads_rich_or_bench_when_piped(
    tmp_path: Path,
) -> None:
    path = study_file(tmp_path, trials=3, objective="support:rich_loaded")
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    at_exit = (
        "import atexit, sys\n"
        "never = ('rich', 'hposampler.bench.tasks', 'hposampler.bench.inmemory')\n"
        "atexit.register(lambda: print('at exit:', [m for m in never if m in sys.modules]))\n"
        "from hposampler.cli import main\n"
        "main()\n"
    )
    piped = subprocess.run(
        [sys.executable, "-c", at_exit, "run", str(path)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert "ETA" not in piped.stdout  # no bar
    assert "best loss=0 " in piped.stdout  # no trial saw rich imported; the summary is there
    assert "at exit: []" in piped.stdout  # neither rich nor the benchmark code
    lines = piped.stdout.splitlines()
    table = lines.index("Best trial")  # the summary table, as plain aligned text
    assert lines[table + 1].split() == ["trial", "state", "loss", "(min)", "x"]
    assert lines[table + 2].split()[:3] == ["0", "COMPLETE", "0"]
    assert not any(box in piped.stdout for box in "│┃━─")
    forced = CliRunner().invoke(
        main, ["run", str(path), "--resume", "--trials", "5"], env={"FORCE_COLOR": "1"}
    )
    assert forced.exit_code == 0, forced.output
    assert "ETA" in forced.output and "5/5" in forced.output


def test_run_piped_prints_the_pareto_front_as_aligned_plain_text(tmp_path: Path) -> None:
    path = study_file(tmp_path, trials=30, objective="support:two_metrics",
                      metrics=("loss", "cost"), params=("x", "y"))  # fmt: skip
    result = CliRunner().invoke(main, ["run", str(path)])  # not a terminal: plain text
    assert result.exit_code == 0, result.output
    front = Study.load(tmp_path / "demo.db", "demo").best_trials
    lines = result.output.splitlines()
    title = lines.index(f"Pareto front ({len(front)} trials)")
    header, rows = lines[title + 1], lines[title + 2 : title + 2 + len(front)]
    assert header.split() == ["trial", "state", "loss", "(min)", "cost", "(min)", "x", "y"]
    assert sorted(int(row.split()[0]) for row in rows) == sorted(t.trial_id for t in front)
    for row in rows:  # every cell starts under its header (numbers end under it)
        assert row[header.index("state") :].startswith("COMPLETE")
        assert row.index(row.split()[0]) + len(row.split()[0]) == len("trial")
    assert not any(box in result.output for box in "│┃━─")
