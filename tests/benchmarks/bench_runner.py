"""The runner at the limit: per-trial cost against Optuna, workers on SQLite and PostgreSQL.

Run: python tests/benchmarks/bench_runner.py   (starts its own PostgreSQL server)

Every comparison runs ours and Optuna's side by side in one run, in turns whose
order flips every turn; the figure is the median of the per-turn ratios.

* One process: ``Study.optimize`` on SQLite (durable: WAL, every state change
  committed) against Optuna's ``optimize`` on ``sqlite:///``, in memory, and on
  a ``JournalStorage`` file, random sampler, trivial objective.
* Workers: 1, 2 and 4 processes share one 400-trial study with a 10 ms objective.
  Trials per second = finished trials / (last finish - first start), read from
  the stored times, so interpreter start-up is not counted (ideal: 100 per
  worker). Optuna's workers share a ``JournalStorage`` file (SQLite) or an
  ``RDBStorage`` on the same PostgreSQL server, with ``MaxTrialsCallback``.
* The total: 4 workers with 100 trials between them: how many finish.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from common import Row, print_table  # noqa: E402

from pgserver import bindir, create_database, postgres_server  # noqa: E402

#: Turns of each one-process comparison (Optuna's sqlite:/// takes ~1 min a turn: fewer).
TURNS, SLOW_TURNS = 5, 3

ONE_OURS = """
import sys, time
from hposampler import Study
space = {"x": {"value_range": [-5.0, 5.0]}, "y": {"value_range": [-5.0, 5.0]}}
study = Study.create(sys.argv[1], "one", "random", space, {"loss": "min"}, seed=0)
start = time.perf_counter()
study.optimize(lambda c: c["x"] ** 2 + c["y"] ** 2, int(sys.argv[2]))
print(time.perf_counter() - start)
"""

ONE_OPTUNA = """
import sys, time
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
where = sys.argv[1]
if where == "memory":
    storage = None
elif where.startswith("journal:"):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    storage = JournalStorage(JournalFileBackend(where[len("journal:"):]))
else:
    storage = where
study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
def objective(trial):
    return trial.suggest_float("x", -5, 5) ** 2 + trial.suggest_float("y", -5, 5) ** 2
start = time.perf_counter()
study.optimize(objective, n_trials=int(sys.argv[2]))
print(time.perf_counter() - start)
"""

WORKER_OURS = """
import sys, time
from hposampler import Study
space = {"x": {"value_range": [0.0, 1.0]}, "y": {"value_range": [0.0, 1.0]}}
study = Study.create(sys.argv[1], "w", "random", space, {"loss": "min"}, seed=0,
                     load_if_exists=True)
pause = float(sys.argv[3])
def objective(c):
    time.sleep(pause)
    return (c["x"] - 0.3) ** 2 + c["y"]
study.optimize(objective, int(sys.argv[2]))
"""

WORKER_OPTUNA = """
import sys, time
import optuna
from optuna.study import MaxTrialsCallback
optuna.logging.set_verbosity(optuna.logging.WARNING)
where = sys.argv[1]
if where.startswith("journal:"):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    storage = JournalStorage(JournalFileBackend(where[len("journal:"):]))
else:
    storage = where.replace("postgresql://", "postgresql+psycopg://", 1)
study = optuna.create_study(storage=storage, study_name="w", load_if_exists=True,
                            sampler=optuna.samplers.RandomSampler())
pause = float(sys.argv[3])
def objective(trial):
    time.sleep(pause)
    return (trial.suggest_float("x", 0, 1) - 0.3) ** 2 + trial.suggest_float("y", 0, 1)
study.optimize(objective, callbacks=[MaxTrialsCallback(int(sys.argv[2]), states=None)])
"""

SETUP_OPTUNA = """
import sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = sys.argv[1].replace("postgresql://", "postgresql+psycopg://", 1)
optuna.create_study(storage=storage, study_name="w")  # tables created once, not raced
"""

SPAN_OURS = """
import sys
from hposampler import Study
records = [r for r in Study.load(sys.argv[1], "w").records() if r.state.is_finished]
print(len(records), max(r.finished_at for r in records) - min(r.started_at for r in records))
"""

SPAN_OPTUNA = """
import sys
import optuna
where = sys.argv[1]
if where.startswith("journal:"):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    storage = JournalStorage(JournalFileBackend(where[len("journal:"):]))
else:
    storage = where.replace("postgresql://", "postgresql+psycopg://", 1)
trials = [t for t in optuna.load_study(study_name="w", storage=storage).trials
          if t.datetime_complete is not None]
span = max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)
print(len(trials), span.total_seconds())
"""


def _note(row: Row) -> Row:
    """Print a row as soon as it is measured (a later failure keeps it)."""
    print(" | ".join(row), file=sys.stderr, flush=True)
    return row


def _python(script: str, *args: object) -> str:
    out = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    lines = out.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def _paired(
    a: Callable[[], float], b: Callable[[], float], turns: int
) -> tuple[float, float, float]:
    """Medians of ``a`` and ``b`` (each returns a time) in flipped turns, and of their ratio."""
    times_a, times_b, ratios = [], [], []
    for turn in range(turns):
        if turn % 2:
            tb, ta = b(), a()
        else:
            ta, tb = a(), b()
        times_a.append(ta)
        times_b.append(tb)
        ratios.append(ta / tb)
    return statistics.median(times_a), statistics.median(times_b), statistics.median(ratios)


def one_process(folder: Path) -> list[Row]:
    rows: list[Row] = []

    def ours(n: int) -> Callable[[], float]:
        return lambda: float(_python(ONE_OURS, folder / f"o{uuid.uuid4().hex[:6]}.db", n))

    def theirs(where: Callable[[], str], n: int) -> Callable[[], float]:
        return lambda: float(_python(ONE_OPTUNA, where(), n))

    def sqlite_url() -> str:
        return f"sqlite:///{folder / f'optuna-{uuid.uuid4().hex[:6]}.db'}"

    def journal() -> str:
        return f"journal:{folder / f'journal-{uuid.uuid4().hex[:6]}.log'}"

    cases = (
        ("Optuna sqlite:///", sqlite_url, 2000, SLOW_TURNS, "<= 0.05x"),
        ("Optuna in memory", lambda: "memory", 2000, TURNS, "<= 1.5x"),
        ("Optuna in memory", lambda: "memory", 10000, TURNS, "<= 1.5x"),
        ("Optuna JournalStorage (file)", journal, 2000, TURNS, "<= 0.5x"),
    )
    for what, where, n, turns, target in cases:
        a, b, ratio = _paired(ours(n), theirs(where, n), turns)
        rows.append(_note((
            f"runner: Study.optimize on SQLite / {what}, {n} random trials, trivial objective, "
            f"one process (median of {turns} flipped turns)",
            f"{a / n * 1000:.3f} ms / {b / n * 1000:.3f} ms per trial = {ratio:.2f}x",
            target,
        )))  # fmt: skip
    return rows


def throughput(
    script: str, span: str, storage: str, workers: int, trials: int
) -> tuple[int, float]:
    """(finished trials, trials per second) of ``workers`` processes sharing a study."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, storage, str(trials), "0.01"],
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        for _ in range(workers)
    ]
    if any(p.wait() != 0 for p in procs):
        raise RuntimeError(f"a worker failed on {storage}")
    count, seconds = _python(span, storage).split()
    return int(count), int(count) / float(seconds)


def shared(folder: Path, server: str | None, kinds: tuple[str, ...] = ("sqlite",)) -> list[Row]:
    rows: list[Row] = []
    for kind in kinds:
        ours_rates: dict[int, list[float]] = {1: [], 2: [], 4: []}
        theirs_rates: dict[int, list[float]] = {1: [], 2: [], 4: []}
        for turn in range(3):
            for workers in (1, 2, 4):
                tag = uuid.uuid4().hex[:8]
                if kind == "sqlite":
                    mine, other = (
                        f"sqlite:///{folder / f'w{tag}.db'}",
                        f"journal:{folder / f'j{tag}.log'}",
                    )
                else:
                    assert server is not None
                    mine = create_database(server, f"o_{tag}")
                    other = create_database(server, f"n_{tag}")
                    _python(SETUP_OPTUNA, other)  # Optuna's workers race creating tables
                pair = [
                    (WORKER_OURS, SPAN_OURS, mine, ours_rates),
                    (WORKER_OPTUNA, SPAN_OPTUNA, other, theirs_rates),
                ]
                for script, span, storage, rates in pair if turn % 2 == 0 else pair[::-1]:
                    rates[workers].append(throughput(script, span, storage, workers, 400)[1])
        median = {w: statistics.median(r) for w, r in ours_rates.items()}
        native = {w: statistics.median(r) for w, r in theirs_rates.items()}
        other_name = "Optuna JournalStorage" if kind == "sqlite" else "Optuna RDBStorage"
        rows.append(_note((
            f"runner: 1 / 2 / 4 workers on one {kind} study, 400 random trials, 10 ms objective, "
            f"trials per second (ideal 100 / 200 / 400; median of 3 turns)",
            " / ".join(f"{median[w]:.0f}" for w in (1, 2, 4))
            + f" ({median[4] / 400:.0%} of ideal at 4; {median[4] / median[1]:.1f}x one worker); "
            f"{other_name}: " + " / ".join(f"{native[w]:.0f}" for w in (1, 2, 4))
            + f" (ours / theirs at 4 workers: {median[4] / native[4]:.2f}x)",
            ">= 75% of ideal and >= 3x Optuna's at 4 (SQLite); 4 workers >= 3x one (PostgreSQL)",
        )))  # fmt: skip
        counts = []
        for _ in range(3):
            tag = uuid.uuid4().hex[:8]
            storage = f"sqlite:///{folder / f't{tag}.db'}" if kind == "sqlite" else (
                create_database(server or "", f"t_{tag}"))  # fmt: skip
            counts.append(throughput(WORKER_OURS, SPAN_OURS, storage, 4, 100)[0])
        rows.append(_note((
            f"runner: 4 workers on one {kind} study with n_trials=100: trials finished (3 runs)",
            ", ".join(map(str, counts)),
            "exactly 100",
        )))  # fmt: skip
    return rows


def run(kinds: tuple[str, ...] = ("one", "sqlite", "postgresql")) -> list[Row]:
    """Every row (or the groups named in ``kinds``: one, sqlite, postgresql)."""
    folder = Path(tempfile.mkdtemp())
    rows = one_process(folder) if "one" in kinds else []
    if "sqlite" in kinds:
        rows += shared(folder, None)
    if "postgresql" not in kinds:
        return rows
    binaries = bindir()
    if binaries is None:
        return [*rows, ("runner: PostgreSQL", "server binaries not found", "skipped")]
    with postgres_server(binaries) as server:
        return rows + shared(folder, server, kinds=("postgresql",))


if __name__ == "__main__":
    started = time.perf_counter()
    print_table(run(tuple(sys.argv[1:]) or ("one", "sqlite", "postgresql")))
    print(
        f"\n({time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} at the end)"
    )
