"""`hposampler bench` and hposampler.bench: runs, summaries, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hposampler.bench import run_bench, summarize
from hposampler.cli import main
from hposampler.errors import StudyError
from hposampler.problems import PROBLEMS, branin


def test_problems_have_their_known_optima() -> None:
    assert branin({"x": 3.141592653589793, "y": 2.275}) == pytest.approx(0.397887, abs=1e-6)
    h = PROBLEMS["hartmann6"].objective
    best = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    assert h({f"x{i}": v for i, v in enumerate(best)}) == pytest.approx(-3.32237, abs=1e-4)
    assert PROBLEMS["rosenbrock"].objective({f"x{i}": 1.0 for i in range(4)}) == 0
    assert PROBLEMS["ackley"].objective({f"x{i}": 0.0 for i in range(5)}) == pytest.approx(0)
    opt = {
        "train_config.optimizer_config": {"name": "adam", "arguments": {"lr": 1e-3}},
        "train_config.weight_decay": 1e-4,
    }
    assert PROBLEMS["optimizer_choice"].objective(opt) == pytest.approx(0.05)


def test_runs_and_summary() -> None:
    runs = run_bench(["random"], ["branin"], budget=6, repeats=3)
    assert [r.seed for r in runs] == [0, 1, 2]
    assert all(len(r.best_so_far) == 6 for r in runs)
    assert all(a >= b for r in runs for a, b in zip(r.best_so_far, r.best_so_far[1:]))
    [row] = summarize(runs)
    bests = sorted(r.best for r in runs)
    assert row["median_best"] == bests[1]
    assert row["median_regret"] == pytest.approx(bests[1] - 0.397887)
    with pytest.raises(StudyError, match="unknown problem.*choose from branin"):
        run_bench(["random"], ["bramin"], budget=2, repeats=1)


def test_cli_bench_prints_a_table_and_writes_a_plot(tmp_path: Path) -> None:
    png = tmp_path / "bench.png"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--samplers",
            "random,tpe",
            "--problems",
            "branin",
            "--budget",
            "4",
            "--repeats",
            "2",
            "-o",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "median regret" in result.output and "tpe" in result.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    bad = CliRunner().invoke(main, ["bench", "--samplers", "tpee"])
    assert bad.exit_code == 2 and "Did you mean 'tpe'" in bad.output
