"""Seeing a study: the cost of ``to_optuna`` and ``hposampler report`` on a 10 000-trial study.

Run: python tests/benchmarks/bench_seeing.py [TRIALS]

A random-sampler study of TRIALS trials (default 10 000; 6 parameters, one of
them an int on a log range and one categorical, two reports per trial) is
stored in SQLite once. Then, each in a fresh process (so peak memory is the
command's own): ``to_optuna`` (median of 3) and ``hposampler report`` to an
HTML file (median of 3), with the peak RSS of each process.
Goal: report < 10 s, memory < 300 MB on a 2-core machine.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Row, print_table

SPACE = {
    "lr": {"value_range": [1e-5, 1e-1], "value_type": "float", "log": True},
    "width": {"value_range": [8, 1024], "value_type": "int", "log": True},
    "dropout": {"value_range": [0.0, 0.5], "value_type": "float"},
    "act": {"categorical_values": ["relu", "gelu", "tanh"]},
    "wd": {"value_range": [1e-6, 1e-2], "value_type": "float", "log": True},
    "batch": {"value_range": [16, 256], "value_type": "int", "n_bins": 5},
}

MAKE = """
import json, math, sys
from hposampler import Study
def objective(config, trial):
    loss = abs(math.log10(config["lr"]) + 3) + config["dropout"] + (config["act"] != "gelu")
    trial.report(0, {"loss": loss * 2})
    trial.report(1, {"loss": loss})
    return loss
space = json.loads(sys.argv[3])
study = Study.create(sys.argv[1], "big", "random", space, {"loss": "min"}, seed=0)
study.optimize(objective, int(sys.argv[2]))
"""

MEASURE = """
import json, resource, sys, time
from hposampler import Study
kind, db, out = sys.argv[1:4]
study = Study.load(db, "big", read_only=True)
start = time.perf_counter()
if kind == "to_optuna":
    from hposampler_optuna import to_optuna
    n = len(to_optuna(study).trials)
else:
    from hposampler_optuna.report import write_report
    write_report(study, out)
    n = len(study.records())
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "trials": n}))
"""


def _measure(kind: str, db: Path, out: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", MEASURE, kind, str(db), str(out)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(trials: int = 10_000, repeats: int = 3) -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="hposampler-seeing-"))
    db = folder / "big.db"
    subprocess.run([sys.executable, "-c", MAKE, str(db), str(trials), json.dumps(SPACE)],
                   check=True, capture_output=True)  # fmt: skip
    rows: list[Row] = []
    for kind in ("to_optuna", "report"):
        runs = [_measure(kind, db, folder / "report.html") for _ in range(repeats)]
        seconds = statistics.median(r["seconds"] for r in runs)
        rss = max(r["rss_mb"] for r in runs)
        extra = ""
        if kind == "report":
            extra = f", file {(folder / 'report.html').stat().st_size / 1e6:.1f} MB"
        target = "< 10 s, < 300 MB" if kind == "report" else "for the docs"
        rows.append((
            f"seeing: {kind} of a {trials}-trial study (6 parameters, 2 reports each), "
            f"median of {repeats}, fresh process",
            f"{seconds:.2f} s, peak RSS {rss:.0f} MB (whole process){extra}",
            target,
        ))  # fmt: skip
    return rows


if __name__ == "__main__":
    print_table(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
