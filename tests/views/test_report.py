"""``hposampler report``: one HTML file that opens offline and shows Optuna's figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from browser import render

from hposampler import Study, TrialPruned

pytest.importorskip("plotly")

SPACE = {
    "x": {"value_range": [-5.0, 10.0], "value_type": "float"},
    "y": {"value_range": [0.0, 15.0], "value_type": "float"},
    "n": {"value_range": [1, 100], "value_type": "int", "log": True},
}


def curve(config: dict[str, Any], trial: Any) -> float:
    loss = (config["x"] - 2) ** 2 + (config["y"] - 3) ** 2
    for step in range(4):
        trial.report(step, {"loss": loss * (4 - step)})
    if trial.trial_id % 5 == 4:
        raise TrialPruned
    return loss


def _report(db: Path, name: str, out: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hposampler", "report", name, "--storage", str(db), "-o", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}")
    return out.read_text()


def _sections(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]+)</h2>", page)


def test_the_report_opens_offline_and_every_figure_renders(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    study = Study.create(db, "s", "tpe", SPACE, {"loss": "min"}, seed=0)
    study.optimize(curve, 40)
    page = _report(db, "s", tmp_path / "report.html")
    assert _sections(page) == [
        "Summary", "Best trial", "Optimization history", "Parallel coordinate",
        "Parameter importances", "Slice", "Contour of the two most important parameters",
        "Intermediate values", "Timeline", "Trials",
    ]  # fmt: skip
    assert "Not drawn" not in page
    # self-contained: nothing to fetch (plotly.js is inline; no style sheets, fonts or images)
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import|@font-face", page)
    dom, console = render((tmp_path / "report.html").as_uri(), screenshot=tmp_path / "r.png")
    assert console == []  # no error, no warning, nothing logged
    figures = dom.count('class="plot-container plotly"')
    assert figures == 7  # every figure section drew
    assert dom.count('class="main-svg"') >= 2 * figures  # plotly's SVGs are in the DOM
    assert "tpe" in dom and "40: 32 COMPLETE, 8 PRUNED" in dom


def test_several_metrics_get_a_pareto_front(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    study = Study.create(db, "m", "random", SPACE, {"loss": "min", "acc": "max"}, seed=0)
    study.optimize(lambda c: {"loss": c["x"] ** 2, "acc": c["y"]}, 30)
    page = _report(db, "m", tmp_path / "m.html")
    assert "Pareto front" in _sections(page) and "Not drawn" not in page
    dom, console = render((tmp_path / "m.html").as_uri())
    assert console == [] and dom.count('class="plot-container plotly"') == 7


def test_a_study_without_trials_still_reports(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    Study.create(db, "e", "random", SPACE, {"loss": "min"})
    page = _report(db, "e", tmp_path / "e.html")
    assert "0: " in page and "Trials" in _sections(page)


def test_without_plotly_one_line_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from hposampler.cli import main

    db = tmp_path / "s.db"
    Study.create(db, "s", "random", SPACE, {"loss": "min"})
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.offline", None)
    result = CliRunner().invoke(main, ["report", "s", "--storage", str(db), "-o", "x.html"])
    assert result.exit_code == 2
    assert "pip install plotly" in result.output
    assert len(result.output.strip().splitlines()) == 1
