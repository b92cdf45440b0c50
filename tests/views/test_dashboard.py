"""``hposampler dashboard``: optuna-dashboard on a live, read-only view of a study."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import render

from hposampler import Study

pytest.importorskip("optuna_dashboard")

SPACE = {
    "x": {"value_range": [-5.0, 10.0], "value_type": "float"},
    "y": {"value_range": [0.0, 15.0], "value_type": "float"},
}


def _get(url: str, method: str = "GET") -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _wait_for(predicate: Any, what: str, timeout: float = 120) -> Any:
    end = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    db = tmp_path / "s.db"
    study = Study.create(db, "s", "random", SPACE, {"loss": "min"}, seed=0)
    study.optimize(lambda c: (c["x"] - 2) ** 2 + (c["y"] - 3) ** 2, 10)
    study.storage.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hposampler", "dashboard", "s", "--storage", str(db),
         "--port", "0", "--refresh", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()  # --port 0: the line names the port the server got
    match = re.search(r"dashboard on http://127\.0\.0\.1:(\d+)/ \(Ctrl-C stops it\)", first)
    assert match and int(match[1]) > 0, first
    base = f"http://127.0.0.1:{match[1]}"
    try:
        _wait_for(lambda: proc.poll() is None and _get(f"{base}/api/studies")[0] == 200,
                  "the dashboard to answer")  # fmt: skip
        yield db, base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _trials(base: str) -> list[dict[str, Any]]:
    status, body = _get(f"{base}/api/studies/0")
    assert status == 200
    trials: list[dict[str, Any]] = body["trials"]
    return trials


def test_trials_stored_while_it_runs_appear_without_a_restart(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    db, base = served
    status, body = _get(f"{base}/api/studies")
    assert [s["study_name"] for s in body["study_summaries"]] == ["s"]
    assert len(_trials(base)) == 10
    Study.load(db, "s").optimize(lambda c: c["x"] ** 2, 15)  # a worker stores 5 more
    _wait_for(lambda: len(_trials(base)) == 15, "the new trials in the dashboard", timeout=60)
    assert [t["number"] for t in _trials(base)] == list(range(15))
    assert all(t["state"] == "Complete" for t in _trials(base))

    dom, console = render(f"{base}/dashboard/studies/0", screenshot=tmp_path / "dashboard.png")
    assert not [line for line in console if "Uncaught" in line]
    assert "Trials" in dom or "History" in dom  # the React app rendered the study page
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


def test_it_never_writes_the_study(served: tuple[Path, str]) -> None:
    db, base = served
    status, _ = _get(f"{base}/api/studies/0", method="DELETE")
    assert status >= 400
    status, _ = _get(f"{base}/api/studies/0/0/skip", method="POST")
    assert status >= 400
    assert len(Study.load(db, "s").records()) == 10  # untouched
    assert len(_trials(base)) == 10


def test_an_unknown_study_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Study.create(db, "s", "random", SPACE, {"loss": "min"}).storage.close()
    done = subprocess.run(
        [sys.executable, "-m", "hposampler", "dashboard", "nope", "--storage", str(db)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "no study 'nope'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
