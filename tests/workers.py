"""Helpers for tests that run several worker processes on one study (importable as ``workers``)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

OBJECTIVE = '''
import json, os, time

def objective(config, trial):
    """Logs every evaluation (trial id, config, pid), then returns a loss."""
    with open(os.environ["EVAL_LOG"], "a") as log:
        log.write(json.dumps([trial.trial_id, config, os.getpid()]) + "\\n")
    time.sleep(float(os.environ.get("EVAL_SLEEP", "0.02")))
    if os.environ.get("EVAL_DONE_LOG"):  # evaluations that finished (their result returned)
        with open(os.environ["EVAL_DONE_LOG"], "a") as log:
            log.write(json.dumps([trial.trial_id, config, os.getpid()]) + "\\n")
    return (config["x"] - 0.2) ** 2 + config["y"] ** 2
'''


def study_file(folder: Path, sampler: str, trials: int, storage: str = "w.db") -> Path:
    """Write ``obj.py`` and a study file whose objective logs every evaluation."""
    (folder / "obj.py").write_text(OBJECTIVE)
    path = folder / "study.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [study]
            name = "shared"
            objective = "obj:objective"
            trials = {trials}
            storage = "{storage}"
            [sampler]
            name = "{sampler}"
            seed = 0
            [metrics]
            loss = "min"
            [search_space]
            x = {{ value_range = [-1, 1], value_type = "float" }}
            y = {{ value_range = [-1, 1], value_type = "float" }}
            """
        )
    )
    return path


def worker(path: Path, log: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hposampler", "run", str(path), "--resume"],
        env={**os.environ, "EVAL_LOG": str(log), **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def evaluations(log: Path) -> list[tuple[int, str, int]]:
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    return [(tid, json.dumps(config, sort_keys=True), pid) for tid, config, pid in rows]


def wait_for(predicate: Any, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.05)


def running_by(db: Path, pid: int) -> list[int]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT trial_id, driver FROM trials WHERE state = 0").fetchall()
    except sqlite3.OperationalError:
        return []
    return [tid for tid, driver in rows if driver and driver.split(":")[1] == str(pid)]
