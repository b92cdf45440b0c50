"""Pruning at the public API and the CLI: reports, pruners as plugins, every executor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import hposampler
from hposampler import (
    BasePruner,
    MetricsError,
    SamplerOptionsError,
    Study,
    TrialState,
    UnknownSamplerError,
    make_pruner,
)
from hposampler.cli import main
from hposampler.errors import StudyError
from hposampler.study.objective import TrialHandle
from support import make_dist, run_py

SPACE = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}
TESTS = Path(__file__).resolve().parent.parent

# a pruner written against the public API only, installed as a throwaway distribution
THRESHOLD_PLUGIN = """
import hposampler
from hposampler.pruning import BasePruner


class AboveThreshold(BasePruner):
    def __init__(self, optim_metrics, limit=0.5):
        super().__init__(optim_metrics)
        self.limit = limit
        self.last = {}

    def report(self, trial_id, step, value):
        self.last[trial_id] = value

    def prune(self, trial_id):
        return self.last.get(trial_id) is not None and self.last[trial_id] > self.limit


@hposampler.hookimpl
def register_pruners(register):
    register(hposampler.PrunerSpec("mine:above", AboveThreshold, aliases=("above",),
                                   description="stop trials above a limit"))
"""


def create(tmp_path: Path, pruner: str | None = None, **options: Any) -> Study:
    return Study.create(tmp_path / "s.db", "s", "random", SPACE, {"loss": "min"}, seed=0,
                        pruner=pruner, pruner_options=options or None)  # fmt: skip


def test_one_and_two_argument_objectives_both_work(tmp_path: Path) -> None:
    study = create(tmp_path)
    study.optimize(lambda config: config["x"], 3)
    seen: list[TrialHandle] = []

    def two(config: dict[str, Any], trial: TrialHandle) -> float:
        seen.append(trial)
        trial.report(0, config["x"] + 1)
        assert trial.should_prune() is False  # no pruner: never
        return float(config["x"])

    study.optimize(two, 6)
    records = study.records()
    assert [r.state for r in records] == [TrialState.COMPLETE] * 6
    assert [h.trial_id for h in seen] == [3, 4, 5]
    assert all(r.intermediate == [] for r in records[:3])
    for record in records[3:]:
        x = record.config["x"]
        assert record.intermediate == [(0, {"loss": x + 1})]
        assert record.metrics == [{"loss": x + 1}, {"loss": x}]  # reports, then the result
        assert record.last_step == 0


def test_reports_reach_the_sampler_as_running_updates_with_their_step(tmp_path: Path) -> None:
    calls: list[tuple[int, Any, TrialState, int | None]] = []
    study = create(tmp_path)
    from hposampler.study.runner import Runner

    original = Runner.__init__

    def spy(self: Runner, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        update = self.sampler.update_trial

        def recorded(trial_id: int, metrics: Any, state: Any) -> None:
            calls.append((trial_id, metrics, TrialState(state), self.sampler.reporting_step))
            update(trial_id, metrics, state)

        self.sampler.update_trial = recorded  # type: ignore[method-assign]

    Runner.__init__ = spy  # type: ignore[method-assign]
    try:
        study.optimize("support:curve", 1)
    finally:
        Runner.__init__ = original  # type: ignore[method-assign]
    running = [c for c in calls if c[2] == TrialState.RUNNING]
    assert [c[3] for c in running] == list(range(8))
    assert calls[-1][2] == TrialState.COMPLETE and calls[-1][3] is None


def test_a_pruner_plugin_from_an_installed_distribution_prunes_in_a_study(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    make_dist(site, "hposampler-mine", "hpo_mine", THRESHOLD_PLUGIN)
    code = f"""
        import json, sys
        sys.path.insert(0, {str(TESTS)!r})
        from hposampler import Study, available_pruners
        from hposampler.cli.plugins import plugin_listing
        listed = [p for p in plugin_listing()["pruners"] if p["name"] == "mine:above"]
        study = Study.create({str(tmp_path / "p.db")!r}, "p", "random",
                             {{"x": {{"value_range": [0.0, 1.0], "value_type": "float"}}}},
                             {{"loss": "min"}}, seed=1, pruner="above",
                             pruner_options={{"limit": 0.9}})
        study.optimize("support:curve", 12)
        states = [r.state.name for r in study.records()]
        print(json.dumps({{"listed": listed, "states": states}}))
    """
    proc = run_py(site, code)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["listed"][0]["distribution"] == "hposampler-mine"
    assert out["listed"][0]["aliases"] == ["above"]
    assert out["listed"][0]["options"][0]["name"] == "limit"  # inferred from the factory
    # support.curve reports x + 1/(epoch+1): the first report exceeds 0.9 for every x
    assert set(out["states"]) == {"PRUNED_POOR_PERFORMANCE"}


def test_bad_pruner_names_and_options_get_did_you_mean_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownSamplerError, match=r"unknown pruner 'medain'\. Did you mean "
                                                  r"'median'"):  # fmt: skip
        make_pruner("medain")
    with pytest.raises(SamplerOptionsError, match=r"pruner 'optuna:median' has no option "
                                                  r"'n_startup'\. Did you mean 'n_startup_trials'"):  # fmt: skip
        make_pruner("median", n_startup=3)
    with pytest.raises(SamplerOptionsError, match="n_warmup_steps"):
        make_pruner("median", n_warmup_steps="3")
    with pytest.raises(UnknownSamplerError, match="unknown pruner"):
        create(tmp_path, "hyperbnad")
    assert not (tmp_path / "s.db").exists() or not Study.load(tmp_path / "s.db", "s").trials
    with pytest.raises(MetricsError, match="exactly one optimised metric"):
        Study.create(tmp_path / "m.db", "m", "random", SPACE, {"a": "min", "b": "max"},
                     pruner="median")  # fmt: skip


@pytest.mark.parametrize(
    ("objective", "message"),
    [
        ("support:bad_step", "report step 1 comes after step 3; steps must not decrease"),
        (
            "support:bad_metric",
            "reported metric(s) 'los' are not optimised by this study. Did you mean 'loss'?",
        ),
    ],
)
def test_a_bad_report_is_a_metrics_error_in_the_objective(
    tmp_path: Path, objective: str, message: str
) -> None:
    study = create(tmp_path)
    study.optimize(objective, 1)
    [record] = study.records()
    assert record.state == TrialState.FAIL
    assert f"MetricsError: {message}" in (record.error or "")


def test_trial_pruned_raised_by_the_objective_is_pruned_with_its_last_report(
    tmp_path: Path,
) -> None:
    study = create(tmp_path)
    study.optimize("support:prune_itself", 2)
    for record in study.records():
        assert record.state == TrialState.PRUNED
        assert record.final_metrics == {"loss": record.config["x"]}


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_pruning_works_from_threads_and_worker_processes(tmp_path: Path, executor: str) -> None:
    study = create(tmp_path, "median", n_startup_trials=3)
    study.optimize("support:curve", 16, concurrency=2, executor=executor)
    records = study.records()
    pruned = [r for r in records if r.state == TrialState.PRUNED_POOR_PERFORMANCE]
    complete = [r for r in records if r.state == TrialState.COMPLETE]
    assert pruned and complete and len(pruned) + len(complete) == 16
    assert all(len(r.intermediate) == 8 for r in complete)
    # stopped at the step the pruner said so (the last one too, when others finished first)
    assert all(1 <= len(r.intermediate) <= 8 for r in pruned)
    assert all(r.final_metrics == r.intermediate[-1][1] for r in pruned)
    if executor == "process":
        assert {r.extra["pid"] for r in complete} - {os.getpid()}


def test_reports_are_stored_as_they_happen_and_survive_a_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    create(tmp_path).storage.close()
    os.replace(tmp_path / "s.db", db)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        from hposampler import Study
        Study.load({str(db)!r}, "s").optimize("support:report_then_wait", 1)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                records = Study.load(db, "s", read_only=True).records()
            except hposampler.HposamplerError:
                continue
            if records and len(records[0].intermediate) == 3:
                break
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    [record] = Study.load(db, "s").records()
    assert record.state == TrialState.RUNNING  # killed mid-trial
    x = record.config["x"]
    assert record.intermediate == [(0, {"loss": x}), (1, {"loss": x + 1}), (2, {"loss": x + 2})]


def test_study_files_select_a_pruner_and_show_displays_steps(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(
        textwrap.dedent("""
        [study]
        name = "p"
        objective = "support:curve"
        trials = 10
        storage = "p.db"

        [sampler]
        name = "random"
        seed = 0

        [pruner]
        name = "median"
        options = { n_startup_trials = 2 }

        [metrics]
        loss = "min"

        [search_space]
        x = { value_range = [0, 1], value_type = "float" }
    """)
    )
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert "pruner median" in result.output
    shown = runner.invoke(main, ["show", "p", "--storage", str(tmp_path / "p.db")])
    assert shown.exit_code == 0, shown.output
    assert "last step" in shown.output and "PRUNED_POOR_PERFORMANCE" in shown.output
    assert "pruner median" in shown.output
    listed = runner.invoke(main, ["list"])
    assert "Pruners" in listed.output and "optuna:successive_halving" in listed.output


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[pruner]\noptions = {}\n", "[pruner]: missing required key 'name'"),
        ('[pruner]\nname = "median"\nwarmup = 1\n', "unknown key 'warmup'"),
        ('[pruner]\nname = "medain"\n', "unknown pruner 'medain'. Did you mean 'median'?"),
    ],
)
def test_bad_pruner_tables_are_one_line_errors(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "study.toml"
    path.write_text(
        textwrap.dedent("""
        [study]
        name = "p"
        objective = "support:curve"
        trials = 3
        [sampler]
        name = "random"
        [metrics]
        loss = "min"
        [search_space]
        x = { value_range = [0, 1], value_type = "float" }
    """)
        + table
    )
    result = CliRunner().invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "hposampler.db").exists()


def test_plot_draws_learning_curves(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    study = create(tmp_path, "median", n_startup_trials=2)
    study.optimize("support:curve", 10)
    png = tmp_path / "curves.png"
    result = CliRunner().invoke(
        main, ["plot", "s", "--storage", str(tmp_path / "s.db"), "-o", str(png)]
    )
    assert result.exit_code == 0, result.output
    assert png.stat().st_size > 10_000


def test_a_handle_outside_a_study_says_where_reports_work() -> None:
    handle = TrialHandle(0, {"x": 1.0})
    with pytest.raises(StudyError, match="work inside Study.optimize"):
        handle.report(0, 1.0)
    with pytest.raises(StudyError, match="work inside Study.optimize"):
        handle.should_prune()


def test_the_learning_curve_problem_runs_from_a_study(tmp_path: Path) -> None:
    from hposampler.problems import EPOCHS, LEARNING_CURVE_SPACE, learning_curve

    study = Study.create(tmp_path / "l.db", "l", "random", LEARNING_CURVE_SPACE,
                         {"loss": "min"}, seed=0, pruner="asha")  # fmt: skip
    study.optimize("hposampler.problems:learning_curve", 12)
    records = study.records()
    assert any(r.state == TrialState.PRUNED_POOR_PERFORMANCE for r in records)
    done = next(r for r in records if r.state == TrialState.COMPLETE)
    assert len(done.intermediate) == EPOCHS
    assert done.final_metrics == {"loss": learning_curve(done.config)}  # deterministic


def test_pruners_are_base_pruners_with_one_metric() -> None:
    assert isinstance(make_pruner("asha", {"acc": "max"}), BasePruner)
    with pytest.raises(MetricsError, match="exactly one"):
        make_pruner("asha", {"a": "min", "b": "min"})


def test_a_trial_taken_over_mid_run_keeps_the_new_owner_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    study = create(tmp_path)
    from hposampler.storage import make_storage

    def objective(config: dict[str, Any], trial: TrialHandle) -> float:
        trial.report(0, 1.0)
        if trial.trial_id == 0 and trial.attempt == 1:  # another worker claims it meanwhile
            other = make_storage(tmp_path / "s.db")
            mine = next(r for r in other.load_trials("s") if r.trial_id == 0)
            taken = mine.evolve(driver="elsewhere:1:x", state=TrialState.WAITING)
            assert other.claim_trial("s", taken, mine)
            other.close()
            trial.report(1, 0.5)  # not stored: the trial is not ours any more
        return float(config["x"])

    study.optimize(objective, 3)
    records = study.records()
    assert [r.state for r in records] == [TrialState.COMPLETE] * 3
    # the claimed WAITING trial was re-run (attempt 2), from a fresh curve; the report
    # made after the claim was never stored
    assert records[0].attempts == 2
    assert records[0].intermediate == [(0, {"loss": 1.0})]
