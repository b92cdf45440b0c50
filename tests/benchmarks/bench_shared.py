"""Shared studies as users run them: N worker processes on one SQLite file.

Run: python tests/benchmarks/bench_shared.py [--trials 100,400] [--workers 4,8] [--turns 5]

Each turn starts N processes at once and waits for them; the four setups go in
turns (order rotated every turn), median of the turns:

* ``hposampler run STUDY --resume`` (the CLI, what the docs tell users to start on
  every machine), random sampler, a 10 ms objective;
* N ``Study.optimize`` processes (the Python API) on the same study;
* Optuna's ``JournalStorage`` on a file (``JournalFileBackend``, file lock),
  ``RandomSampler``, ``study.optimize`` with the same objective and total;
* Optuna's ``RDBStorage`` on SQLite (``sqlite:///``), the same (its study is
  created before the processes start: Optuna's schema set-up races otherwise).

Two figures per run, in trials per second: **wall**, from starting the processes
to the last one's exit (interpreter start-up, imports, opening the study
included), and **span**, from the first trial's start to the last trial's end as
each storage recorded them. Printed with the ratio ours / JournalStorage.

First, one worker's **CPU per trial** (objective excluded) for ``random`` and
``optuna:random``, then **start-up**: one process of each of the first three setups (median of 7
turns), from starting it to its first trial's start as the storage recorded it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Row, print_table  # noqa: E402

OBJECTIVE = textwrap.dedent("""
    import time
    def objective(config):
        time.sleep(0.01)
        return (config["x"] - 0.3) ** 2 + config["y"]
""")

STUDY = textwrap.dedent("""
    [study]
    name = "shared"
    objective = "shared_objective:objective"
    trials = {trials}
    concurrency = 1
    executor = "thread"

    [sampler]
    name = "random"
    seed = 0

    [metrics]
    loss = "min"

    [search_space]
    x = {{ value_range = [0.0, 1.0], value_type = "float" }}
    y = {{ value_range = [0.0, 1.0], value_type = "float" }}
""")

API = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[3])
    from hposampler import Study
    from shared_objective import objective
    space = {"x": {"value_range": [0.0, 1.0], "value_type": "float"},
             "y": {"value_range": [0.0, 1.0], "value_type": "float"}}
    study = Study.create(sys.argv[1], "shared", "random", space, {"loss": "min"}, seed=0,
                         load_if_exists=True)
    study.optimize(objective, int(sys.argv[2]))
""")

OPTUNA = textwrap.dedent("""
    import sys, time
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kind, where, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if kind == "journal":
        from optuna.storages import JournalStorage
        try:
            from optuna.storages.journal import JournalFileBackend as Backend
        except ImportError:
            from optuna.storages import JournalFileStorage as Backend
        storage = JournalStorage(Backend(where))
    else:
        storage = where
    study = optuna.create_study(storage=storage, study_name="shared", load_if_exists=True,
                                sampler=optuna.samplers.RandomSampler())
    def objective(trial):
        time.sleep(0.01)
        return (trial.suggest_float("x", 0, 1) - 0.3) ** 2 + trial.suggest_float("y", 0, 1)
    # every worker stops once the study holds `total` finished trials, as ours do
    callback = optuna.study.MaxTrialsCallback(
        total, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    )
    study.optimize(objective, n_trials=total, callbacks=[callback])
""")


def _launch(commands: list[list[str]], cwd: Path) -> float:
    start = time.perf_counter()
    procs = [
        subprocess.Popen(c, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for c in commands
    ]
    errors = [p.communicate()[1] for p in procs]
    wall = time.perf_counter() - start
    if any(p.returncode != 0 for p in procs):
        raise RuntimeError(b"\n".join(errors).decode()[-2000:])
    return wall


def _ours_span(db: Path) -> tuple[int, float]:
    from hposampler import Study, TrialState

    records = [r for r in Study.load(db, "shared").records() if r.state == TrialState.COMPLETE]
    first = min(r.started_at for r in records if r.started_at is not None)
    last = max(r.finished_at for r in records if r.finished_at is not None)
    return len(records), last - first


def _optuna_span(storage: object) -> tuple[int, float]:
    import optuna

    study = optuna.load_study(study_name="shared", storage=storage)  # type: ignore[arg-type]
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    first = min(t.datetime_start for t in done if t.datetime_start is not None)
    last = max(t.datetime_complete for t in done if t.datetime_complete is not None)
    return len(done), (last - first).total_seconds()


def setups(folder: Path, trials: int, workers: int) -> dict[str, Callable[[int], tuple]]:
    (folder / "shared_objective.py").write_text(OBJECTIVE)
    (folder / "study.toml").write_text(STUDY.format(trials=trials))
    cli = [sys.executable, "-m", "hposampler", "run"]

    def ours_cli(turn: int) -> tuple[float, int, float]:
        db = folder / f"cli-{turn}.db"
        command = [*cli, "study.toml", "--resume", "--storage", str(db)]
        wall = _launch([command] * workers, folder)
        return (wall, *_ours_span(db))

    def ours_api(turn: int) -> tuple[float, int, float]:
        db = folder / f"api-{turn}.db"
        command = [sys.executable, "-c", API, str(db), str(trials), str(folder)]
        wall = _launch([command] * workers, folder)
        return (wall, *_ours_span(db))

    def journal(turn: int) -> tuple[float, int, float]:
        path = folder / f"journal-{turn}.log"
        command = [sys.executable, "-c", OPTUNA, "journal", str(path), str(trials)]
        wall = _launch([command] * workers, folder)
        from optuna.storages import JournalStorage

        try:
            from optuna.storages.journal import JournalFileBackend as Backend
        except ImportError:  # Optuna < 4
            from optuna.storages import JournalFileStorage as Backend  # type: ignore
        return (wall, *_optuna_span(JournalStorage(Backend(str(path)))))

    def rdb(turn: int) -> tuple[float, int, float]:
        url = f"sqlite:///{folder / f'rdb-{turn}.db'}"
        import optuna

        # created beforehand: Optuna's RDB schema set-up races when processes start together
        optuna.create_study(storage=url, study_name="shared")
        command = [sys.executable, "-c", OPTUNA, "rdb", url, str(trials)]
        wall = _launch([command] * workers, folder)
        return (wall, *_optuna_span(url))

    return {
        "hposampler run --resume": ours_cli,
        "Study.optimize": ours_api,
        "Optuna JournalStorage": journal,
        "Optuna RDB (sqlite)": rdb,
    }


def _bytecode() -> None:
    """Compile hposampler's modules, as ``pip install`` does: an editable install
    under ``PYTHONDONTWRITEBYTECODE=1`` (this machine's default) otherwise compiles
    about 85 modules from source in every worker, some 80 ms of its start-up that
    a user's installed copy does not pay (Optuna's files are compiled at install)."""
    import compileall

    import hposampler

    roots = {Path(hposampler.__file__).parent}
    for module in ("hposampler_optuna", "hposampler_grid"):
        try:
            roots.add(Path(__import__(module).__file__).parent)
        except ImportError:
            pass
    for root in roots:
        compileall.compile_dir(str(root), quiet=1)


def _first_trial_at(setup: str, folder: Path, turn: int) -> float:
    """When the first trial of a one-process run of ``setup`` started (``time.time()``)."""
    if setup == "Optuna JournalStorage":
        from optuna.storages import JournalStorage

        try:
            from optuna.storages.journal import JournalFileBackend as Backend
        except ImportError:  # Optuna < 4
            from optuna.storages import JournalFileStorage as Backend  # type: ignore

        storage = JournalStorage(Backend(str(folder / f"journal-{turn}.log")))
        return _optuna_first(storage)
    from hposampler import Study

    db = folder / f"{'cli' if setup.startswith('hposampler') else 'api'}-{turn}.db"
    return min(r.started_at or 0.0 for r in Study.load(db, "shared").records())


def _optuna_first(storage: object) -> float:
    import optuna

    study = optuna.load_study(study_name="shared", storage=storage)  # type: ignore[arg-type]
    return min(t.datetime_start.timestamp() for t in study.trials if t.datetime_start)


def startup(turns: int) -> list[Row]:
    """One process of each setup, 3 trials: from starting it to its first trial's start
    (interpreter, imports, plugin discovery, opening or creating the study)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    table = setups(folder, 3, 1)
    names = ["hposampler run --resume", "Study.optimize", "Optuna JournalStorage"]
    took: dict[str, list[float]] = {n: [] for n in names}
    for turn in range(turns):
        for name in names[turn % 3 :] + names[: turn % 3]:
            launched = time.time()
            table[name](turn)
            took[name].append(_first_trial_at(name, folder, turn) - launched)
    optuna = statistics.median(took["Optuna JournalStorage"])
    return [
        (
            f"start-up: one process, launch to first trial started, {name}",
            f"{statistics.median(took[name]) * 1e3:.0f} ms "
            f"({statistics.median(took[name]) / optuna:.2f}x Optuna JournalStorage)",
            "<= Optuna's" if name.startswith("hposampler") else "",
        )
        for name in names
    ]


def cpu_per_trial(runs: int = 3, trials: int = 2000) -> list[Row]:
    """One worker's CPU per trial (runner, storage and sampler; the objective returns a
    constant): ``time.process_time`` over ``trials`` trials after 50, median of ``runs``."""
    from hposampler import Study

    space = {"x": {"value_range": [0.0, 1.0], "value_type": "float"},
             "y": {"value_range": [0.0, 1.0], "value_type": "float"}}  # fmt: skip
    rows: list[Row] = []
    for sampler in ("random", "optuna:random"):
        took = []
        for turn in range(runs):
            folder = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
            study = Study.create(folder / "cpu.db", "cpu", sampler, space, {"loss": "min"},
                                 seed=turn)  # fmt: skip
            study.optimize(lambda config: 0.0, 50)
            start = time.process_time()
            study.optimize(lambda config: 0.0, 50 + trials)
            took.append((time.process_time() - start) / trials)
            study.storage.close()
        rows.append((
            f"CPU per trial, one worker, {sampler}, objective excluded "
            f"({trials} trials after 50, median of {runs})",
            f"{statistics.median(took) * 1e6:.0f} µs",
            "stated",
        ))  # fmt: skip
    return rows


def run(trial_counts: list[int], worker_counts: list[int], turns: int) -> list[Row]:
    _bytecode()
    rows: list[Row] = cpu_per_trial() + startup(max(turns, 7))
    for trials in trial_counts:
        for workers in worker_counts:
            folder = Path(tempfile.mkdtemp(prefix="bench-shared-"))
            table = setups(folder, trials, workers)
            names = list(table)
            walls: dict[str, list[float]] = {n: [] for n in names}
            spans: dict[str, list[float]] = {n: [] for n in names}
            for turn in range(turns):
                order = names[turn % len(names) :] + names[: turn % len(names)]
                for name in order:
                    wall, done, span = table[name](turn)
                    walls[name].append(done / wall)
                    spans[name].append(done / span)
            journal_wall = statistics.median(walls["Optuna JournalStorage"])
            journal_span = statistics.median(spans["Optuna JournalStorage"])
            for name in names:
                wall, span = statistics.median(walls[name]), statistics.median(spans[name])
                rows.append((
                    f"shared: {workers} processes, {trials} trials, 10 ms objective, {name}, "
                    "trials/s wall / span",
                    f"{wall:.0f} / {span:.0f} ({wall / journal_wall:.2f}x / "
                    f"{span / journal_span:.2f}x JournalStorage)",
                    ">= 1.2x JournalStorage" if name.startswith(("hposampler", "Study")) else "",
                ))  # fmt: skip
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="100,400")
    parser.add_argument("--workers", default="4,8")
    parser.add_argument("--turns", type=int, default=5)
    ns = parser.parse_args()
    print_table(run([int(t) for t in ns.trials.split(",")],
                    [int(w) for w in ns.workers.split(",")], ns.turns))  # fmt: skip
