"""Workers sharing a study: throughput on SQLite and PostgreSQL, storage cost vs Optuna's RDB.

Run: python tests/benchmarks/bench_workers.py   (starts its own PostgreSQL server)

* Throughput: 1, 2 and 4 worker processes run one 400-trial random study with a
  trivial objective through ``Study.optimize`` (what ``hposampler run --resume``
  does); trials per second = 400 / wall time from the first start to the last
  exit (interpreter start-up included: about 0.5 s per process).
* Storage cost: one process, 300 trials of the same trivial study on the same
  PostgreSQL server, ours (``Study.optimize``) against Optuna's
  ``RDBStorage`` (SQLAlchemy over psycopg 3) with ``RandomSampler``; 3 turns,
  order flipped every turn, median of the per-turn ratios.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from common import Row, print_table  # noqa: E402

from pgserver import bindir, create_database, postgres_server  # noqa: E402

WORKER = """
import sys, time
from hposampler import Study
space = {"x": {"value_range": [0, 1]}, "y": {"value_range": [0, 1]}}
study = Study.create(sys.argv[1], "w", "random", space, {"loss": "min"}, seed=0,
                     load_if_exists=True)
pause = float(sys.argv[3])
def objective(c):
    time.sleep(pause)
    return (c["x"] - 0.3) ** 2 + c["y"]
study.optimize(objective, int(sys.argv[2]))
"""

OURS = """
import sys, time
from hposampler import Study
space = {"x": {"value_range": [0, 1]}, "y": {"value_range": [0, 1]}}
study = Study.create(sys.argv[1], "o", "random", space, {"loss": "min"}, seed=0)
start = time.perf_counter()
study.optimize(lambda c: (c["x"] - 0.3) ** 2 + c["y"], int(sys.argv[2]))
print(time.perf_counter() - start)
"""

OPTUNA = """
import sys, time
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
url = sys.argv[1].replace("postgresql://", "postgresql+psycopg://", 1)
study = optuna.create_study(storage=url, sampler=optuna.samplers.RandomSampler(seed=0))
def objective(trial):
    return (trial.suggest_float("x", 0, 1) - 0.3) ** 2 + trial.suggest_float("y", 0, 1)
start = time.perf_counter()
study.optimize(objective, n_trials=int(sys.argv[2]))
print(time.perf_counter() - start)
"""


def throughput(storage: str, workers: int, pause: float, trials: int = 400) -> float:
    start = time.perf_counter()
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, storage, str(trials), str(pause)])
        for _ in range(workers)
    ]
    if any(p.wait() != 0 for p in procs):
        raise RuntimeError(f"a worker failed on {storage}")
    return trials / (time.perf_counter() - start)


def seconds(script: str, storage: str, trials: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", script, storage, str(trials)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def run() -> list[Row]:
    binaries = bindir()
    if binaries is None:
        return [("workers: PostgreSQL", "server binaries not found", "skipped")]
    rows: list[Row] = []
    folder = Path(tempfile.mkdtemp())
    with postgres_server(binaries) as server:
        for pause, what in ((0.0, "trivial objective"), (0.01, "10 ms objective")):
            for kind in ("sqlite", "postgresql"):
                figures = []
                for workers in (1, 2, 4):
                    if kind == "sqlite":
                        storage = f"sqlite:///{folder / f'w{workers}-{pause}.db'}"
                    else:
                        storage = create_database(server, f"w_{uuid.uuid4().hex[:8]}")
                    figures.append(f"{workers}: {throughput(storage, workers, pause):.0f}/s")
                rows.append((
                    f"workers: 400-trial random study, {what}, {kind}, trials per second "
                    "with 1, 2, 4 worker processes (start-up included)",
                    ", ".join(figures),
                    "for the docs" if pause == 0 else "scales with workers",
                ))  # fmt: skip
        n, ours, theirs, ratios = 300, [], [], []
        for turn in range(3):
            pair = []
            for script in (OURS, OPTUNA) if turn % 2 == 0 else (OPTUNA, OURS):
                url = create_database(server, f"c_{uuid.uuid4().hex[:8]}")
                pair.append((script, seconds(script, url, n)))
            t = dict(pair)
            ours.append(t[OURS] / n * 1000)
            theirs.append(t[OPTUNA] / n * 1000)
            ratios.append(t[OURS] / t[OPTUNA])
        rows.append((
            "workers: storage cost per trial on the same PostgreSQL server, ours / Optuna "
            "RDBStorage (300 random trials, median of 3 turns)",
            f"{statistics.median(ours):.2f} ms / {statistics.median(theirs):.2f} ms = "
            f"{statistics.median(ratios):.3f}x",
            "lower is better",
        ))  # fmt: skip
    return rows


if __name__ == "__main__":
    print_table(run())
