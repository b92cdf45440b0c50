"""hydra-hposampler-sweeper: Hydra apps run with ``--multirun`` as subprocesses."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("hydra")
yaml = pytest.importorskip("yaml")

from hposampler import Study, TrialState  # noqa: E402

APP = """
import hydra
from omegaconf import DictConfig

@hydra.main(version_base=None, config_path=".", config_name="config")
def main(cfg: DictConfig):
    if cfg.opt == "bad":
        raise ValueError("bad optimizer")
    loss = (cfg.x - 2) ** 2 + (cfg.k - 3) ** 2 + (0 if cfg.opt == "adam" else 1)
    if cfg.get("two"):
        return [loss, abs(cfg.x)]
    return loss

if __name__ == "__main__":
    main()
"""

BACKENDS = ["tpe", "auto"]
for name, module in (("nevergrad:oneplusone", "hposampler_nevergrad"),
                     ("hyperopt:tpe", "hposampler_hyperopt")):  # fmt: skip
    if importlib.util.find_spec(module) is not None:
        BACKENDS.append(name)


def make_app(folder: Path, sweeper: dict[str, Any], extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(APP)
    config = {
        "defaults": [{"override hydra/sweeper": "hposampler"}, "_self_"],
        "x": 0.0, "k": 1, "opt": "adam",
        "hydra": {"sweeper": sweeper, "sweep": {"dir": str(folder / "multirun")}},
    }  # fmt: skip
    (folder / "config.yaml").write_text(yaml.safe_dump(config) + extra)
    return folder


def multirun(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPOSAMPLER_")}
    return subprocess.run(
        [sys.executable, "app.py", "--multirun", *args], cwd=folder, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def results(folder: Path) -> dict[str, Any]:
    data = yaml.safe_load((folder / "multirun" / "optimization_results.yaml").read_text())
    assert isinstance(data, dict)
    return data


PARAMS = {"x": "interval(-5, 10)", "k": "range(1, 6)", "opt": "choice(adam, sgd)"}


@pytest.mark.parametrize("sampler", BACKENDS)
def test_a_multirun_optimises_and_writes_optimization_results(sampler: str, tmp_path: Path) -> None:
    app = make_app(tmp_path, {"sampler": sampler, "seed": 0, "n_trials": 16, "n_jobs": 2,
                              "params": PARAMS})  # fmt: skip
    proc = multirun(app)
    assert proc.returncode == 0, proc.stderr
    best = results(app)
    assert best["name"] == "hposampler" and set(best["best_params"]) == {"x", "k", "opt"}
    assert best["best_params"]["k"] in range(1, 6) and -5 <= best["best_params"]["x"] <= 10
    study = Study.load(app / "hposampler.db", "app")  # where the app runs: hposampler show
    records = study.records()
    assert len(records) == 16 and all(r.state == TrialState.COMPLETE for r in records)
    assert best["best_value"] == min(r.final_metrics["value"] for r in records)
    # configs sampled together go to the launcher as one batch (how many batches fill up
    # depends on the machine's speed; that some do is the behaviour)
    assert "Launching 2 jobs" in proc.stdout


def test_the_grid_and_a_failing_job(tmp_path: Path) -> None:
    params = {"x": "choice(1.0, 2.0)", "k": "range(2, 5)", "opt": "choice(adam, bad)"}
    app = make_app(tmp_path, {"sampler": "grid", "seed": 1, "n_trials": 12,
                              "sampler_options": {"exhausted": "stop"}, "params": params})  # fmt: skip
    proc = multirun(app)
    assert proc.returncode == 0, proc.stderr
    records = Study.load(app / "hposampler.db", "app").records()
    assert len(records) == 12 and len({str(r.config) for r in records}) == 12
    failed = [r for r in records if r.state == TrialState.FAIL]
    assert len(failed) == 6 and all(r.config["opt"] == "bad" for r in failed)
    assert "bad optimizer" in (failed[0].error or "")
    assert results(app)["best_params"] == {"x": 2.0, "k": 3, "opt": "adam"}


def test_with_storage_a_second_run_continues_the_study(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    sweeper = {"sampler": "tpe", "seed": 0, "n_trials": 6, "storage": str(db),
               "study_name": "demo", "params": PARAMS}  # fmt: skip
    app = make_app(tmp_path / "app", sweeper)
    assert multirun(app).returncode == 0
    first = Study.load(db, "demo").records()
    proc = multirun(app, "hydra.sweeper.n_trials=10")
    assert proc.returncode == 0, proc.stderr
    records = Study.load(db, "demo").records()
    assert [r.trial_id for r in records] == list(range(10))
    assert [r.config for r in records[:6]] == [r.config for r in first]  # not re-run
    assert proc.stdout.count("\t#") == 4  # only the four new jobs ran
    again = multirun(app, "hydra.sweeper.n_trials=10")
    assert again.returncode == 0 and "\t#" not in again.stdout  # complete: nothing to do


def test_several_directions_write_the_pareto_front(tmp_path: Path) -> None:
    sweeper = {"sampler": "optuna:nsga2", "seed": 0, "n_trials": 12,
               "direction": ["minimize", "minimize"], "params": PARAMS,
               "sampler_options": {"population_size": 4}}  # fmt: skip
    app = make_app(tmp_path, sweeper, extra="two: true\n")
    proc = multirun(app)
    assert proc.returncode == 0, proc.stderr
    front = results(app)["solutions"]
    assert front and all(len(s["values"]) == 2 and set(s["params"]) == {"x", "k", "opt"}
                         for s in front)  # fmt: skip


@pytest.mark.parametrize(
    ("sweeper", "expected"),
    [
        ({"sampler": "tpee", "params": PARAMS}, "unknown sampler 'tpee'. Did you mean 'tpe'"),
        ({"sampler": "tpe", "params": {"x": "interval(1, "}}, "hydra.sweeper.params.x"),
        ({"sampler": "tpe", "params": PARAMS, "n_trails": 3}, "n_trails"),
        (
            {"sampler": "tpe", "params": PARAMS, "sampler_options": {"n_startup": 2}},
            "Did you mean 'n_startup_trials'",
        ),
        ({"sampler": "tpe", "params": PARAMS, "direction": "down"}, "'down' is not minimize"),
        ({"sampler": "tpe", "params": {**PARAMS, "x": "glob(*)"}}, "glob(...) selects config"),
        (
            {"sampler": "tpe", "params": {**PARAMS, "k": "tag(int, interval(0.5, 2.5))"}},
            "an int range needs whole-number bounds",
        ),
        (
            {"sampler": "tpe", "params": {**PARAMS, "x": "tag(foo, interval(0, 1))"}},
            "unknown tag(s) foo",
        ),
    ],
)
def test_bad_config_is_one_clear_line(
    tmp_path: Path, sweeper: dict[str, Any], expected: str
) -> None:
    proc = multirun(make_app(tmp_path, sweeper))
    assert proc.returncode != 0
    assert expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_params_syntax_becomes_a_search_space() -> None:
    from hydra_plugins.hposampler_sweeper.params import space_from_params

    space, fixed = space_from_params({
        "a": "interval(0, 1)", "b": "tag(log, interval(1e-5, 1e-1))",
        "c": "tag(int, interval(1, 8))", "d": "range(0, 10, 3)", "e": "range(0.0, 1.0, 0.25)",
        "f": "choice(relu, tanh)", "g": "1,2,3", "h": "5",
    })  # fmt: skip
    assert space == {
        "a": {"value_range": [0, 1], "value_type": "float"},
        "b": {"value_range": [1e-5, 1e-1], "value_type": "float", "log": True},
        "c": {"value_range": [1, 8], "value_type": "int"},
        "d": {"value_range": [0, 9], "value_type": "int", "n_bins": 4},
        "e": {"value_range": [0.0, 0.75], "value_type": "float", "n_bins": 4},
        "f": {"categorical_values": ["relu", "tanh"]},
        "g": {"categorical_values": [1, 2, 3]},
    }
    assert fixed == ["h=5"]


def test_the_sweeper_is_found_by_hydra_without_importing_it_in_the_app(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        from hydra.core.plugins import Plugins
        from hydra.plugins.sweeper import Sweeper
        names = [p.__name__ for p in Plugins.instance().discover(Sweeper)]
        print("HposamplerSweeper" in names)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)  # fmt: skip
    assert out.stdout.strip() == "True"


def test_int_casts_deletions_failures_and_secrets(tmp_path: Path) -> None:
    params = {**PARAMS, "k": "int(interval(1, 5))"}
    sweeper = {"sampler": "tpe", "seed": 0, "n_trials": 3, "params": params,
               "storage": f"sqlite:///{tmp_path / 'a' / 's.db'}"}  # fmt: skip
    app = make_app(tmp_path / "a", sweeper, extra="z: 1\n")
    proc = multirun(app, "~z")  # a deletion reaches every job as a deletion
    assert proc.returncode == 0, proc.stderr
    records = Study.load(tmp_path / "a" / "s.db", "app").records()
    assert [r.state for r in records] == [TrialState.COMPLETE] * 3
    assert all(isinstance(r.config["k"], int) for r in records)  # int(interval()): ints

    failing = make_app(tmp_path / "b", {"sampler": "tpe", "n_trials": 2,
                                       "params": {**PARAMS, "opt": "choice(bad)"}})  # fmt: skip
    proc = multirun(failing)
    assert proc.returncode != 0 and "every job of the sweep failed (2)" in proc.stderr
    assert "ValueError: bad optimizer" in proc.stderr


def test_with_hydras_timestamped_sweep_dirs_the_same_command_continues(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"sampler": "tpe", "seed": 0, "n_trials": 3, "params": PARAMS})
    config = yaml.safe_load((app / "config.yaml").read_text())
    del config["hydra"]["sweep"]  # Hydra's default: multirun/<date>/<time>, new every run
    (app / "config.yaml").write_text(yaml.safe_dump(config))
    assert multirun(app).returncode == 0
    proc = multirun(app, "hydra.sweeper.n_trials=5")
    assert proc.returncode == 0, proc.stderr
    records = Study.load(app / "hposampler.db", "app").records()
    assert len(records) == 5 and len({str(r.config) for r in records}) == 5  # continued


def test_max_failure_rate_stops_the_sweep_as_the_optuna_sweepers_does(tmp_path: Path) -> None:
    params = {**PARAMS, "opt": "choice(adam, bad)"}
    base = {"sampler": "random", "seed": 1, "n_trials": 12, "params": params}
    strict = make_app(tmp_path / "a", {**base, "max_failure_rate": 0.0})
    proc = multirun(strict)
    assert proc.returncode != 0 and "max_failure_rate=0.0" in proc.stderr
    assert "ValueError: bad optimizer" in proc.stderr
    stopped = Study.load(tmp_path / "a" / "hposampler.db", "app").records()
    assert len(stopped) < 12 and any(r.state == TrialState.FAIL for r in stopped)
    lenient = make_app(tmp_path / "b", {**base, "max_failure_rate": 1.0})
    proc = multirun(lenient)
    assert proc.returncode == 0, proc.stderr
    assert len(Study.load(tmp_path / "b" / "hposampler.db", "app").records()) == 12
    bad = make_app(tmp_path / "c", {**base, "max_failure_rate": 2})
    proc = multirun(bad)
    assert proc.returncode != 0 and "max_failure_rate must be a number from 0.0 to 1.0" in (
        proc.stderr
    )


def test_warm_start_from_an_earlier_study(tmp_path: Path) -> None:
    db = tmp_path / "a" / "hposampler.db"
    db.parent.mkdir(parents=True)
    space = {"x": {"value_range": [-5.0, 10.0]}, "k": {"value_range": [1, 4], "value_type": "int"},
             "opt": {"categorical_values": ["adam", "sgd"]}}  # fmt: skip
    earlier = Study.create(db, "earlier", "random", space, {"value": "min"}, seed=0)
    earlier.enqueue({"x": 2.0, "k": 1, "opt": "adam"})
    earlier.optimize(lambda c: (c["x"] - 2.0) ** 2 + c["k"], n_trials=20)
    app = make_app(tmp_path / "a", {"sampler": "tpe", "seed": 0, "n_trials": 3,
                                    "params": PARAMS, "warm_start": ["earlier"]})  # fmt: skip
    proc = multirun(app)
    assert proc.returncode == 0, proc.stderr
    study = Study.load(db, "app")
    assert study.config.warm_start == ("earlier",) and len(study.records()) == 3


CUSTOM = """
def configure(cfg, trial):
    # as with the Optuna sweeper: the function adds parameters through the trial
    trial.suggest_float("x", -5.0, float(cfg.x_high))
    trial.suggest_int("k", 1, 5, step=2)


def reads_values(cfg, trial):
    trial.suggest_float("x", -5.0, 10.0)
    if trial.params["x"] > 0:
        trial.suggest_int("k", 1, 5)
"""


def test_custom_search_space_adds_parameters(tmp_path: Path) -> None:
    app = make_app(tmp_path / "a", {"sampler": "tpe", "seed": 0, "n_trials": 6,
                                    "params": {"opt": "choice(adam, sgd)"},
                                    "custom_search_space": "space.configure"},
                   extra="x_high: 3.0\n")  # fmt: skip
    (app / "space.py").write_text(CUSTOM)
    proc = multirun(app)
    assert proc.returncode == 0, proc.stderr
    records = Study.load(app / "hposampler.db", "app").records()
    assert len(records) == 6 and all(r.state == TrialState.COMPLETE for r in records)
    for r in records:
        assert set(r.config) == {"x", "k", "opt"}
        assert -5.0 <= r.config["x"] <= 3.0 and r.config["k"] in (1, 3, 5)

    reads = make_app(tmp_path / "b", {"sampler": "tpe", "n_trials": 2,
                                      "custom_search_space": "space.reads_values"})  # fmt: skip
    (reads / "space.py").write_text(CUSTOM)
    proc = multirun(reads)
    assert proc.returncode != 0
    assert "space.reads_values read trial.params" in proc.stderr
    assert "Traceback" not in proc.stderr  # one line, as every bad sweeper config


def test_a_sweep_with_no_parameter_runs_the_job_n_trials_times(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"sampler": "tpe", "n_trials": 3, "n_jobs": 2})
    proc = multirun(app)
    assert proc.returncode == 0, proc.stderr
    jobs = sorted(p.name for p in (app / "multirun").iterdir() if p.is_dir())
    assert jobs == ["0", "1", "2"]
    assert results(app)["best_value"] == 8.0  # x=0, k=1, adam: (0 - 2)^2 + (1 - 3)^2
    assert not (app / "hposampler.db").exists()  # nothing to store


def test_a_grid_that_runs_out_launches_its_last_partial_batch(tmp_path: Path) -> None:
    # three points, batches of two: the third job waits for a batch-mate that never
    # comes, and goes once no other trial is in flight
    app = make_app(tmp_path, {"sampler": "grid:ordered", "n_trials": 10, "n_jobs": 2,
                              "sampler_options": {"exhausted": "stop"},
                              "params": {"k": "choice(1, 2, 3)"}})  # fmt: skip
    proc = multirun(app)
    assert proc.returncode == 0, proc.stderr
    records = Study.load(app / "hposampler.db", "app").records()
    assert sorted(r.config["k"] for r in records) == [1, 2, 3]
