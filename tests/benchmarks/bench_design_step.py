"""The runner before and after a refactoring: per-trial cost and worker throughput.

Run: python tests/benchmarks/bench_design_step.py OLD_CHECKOUT

``OLD_CHECKOUT`` is a checkout of the commit to compare with (``git worktree add
/tmp/old <commit>``); its ``core/src`` and ``plugins/*/src`` go first on
``PYTHONPATH`` for the "old" runs, so both sides run the same interpreter and
libraries. Old and new run in turns whose order flips every turn; each figure is
the median of the per-turn ratios (new / old).

* One process: ``Study.optimize`` on SQLite, 2000 random trials, trivial
  objective: milliseconds per trial.
* Workers: 1, 2 and 4 processes share one 400-trial SQLite study, 10 ms
  objective: trials per second from the stored times (interpreter start-up not
  counted).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_runner import ONE_OURS, SPAN_OURS, WORKER_OURS  # noqa: E402
from common import Row, print_table  # noqa: E402

TURNS = 5


def _env(checkout: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if checkout is not None:
        paths = [checkout / "core" / "src", *sorted((checkout / "plugins").glob("*/src"))]
        env["PYTHONPATH"] = os.pathsep.join(map(str, paths))
        env["HPOSAMPLER_DISABLE_PLUGINS"] = "hposampler-views"  # not in older checkouts
    return env


def _python(code: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, env=env, check=True, timeout=1800)  # fmt: skip
    return done.stdout.strip()


def one_process(checkout: Path | None, trials: int = 2000) -> float:
    """Milliseconds per trial of one ``Study.optimize``."""
    with tempfile.TemporaryDirectory() as tmp:
        took = float(_python(ONE_OURS, str(Path(tmp) / "s.db"), str(trials), env=_env(checkout)))
    return took / trials * 1000


def workers(checkout: Path | None, count: int, trials: int = 400) -> float:
    """Trials per second of ``count`` worker processes sharing one study."""
    env = _env(checkout)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "w.db")
        procs = [subprocess.Popen([sys.executable, "-c", WORKER_OURS, db, str(trials), "0.01"],
                                  env=env) for _ in range(count)]  # fmt: skip
        for proc in procs:
            if proc.wait(timeout=1800) != 0:
                raise RuntimeError(f"a worker exited with {proc.returncode}")
        finished, span = _python(SPAN_OURS, db, env=env).split()
    return int(finished) / float(span)


def compare(old: Path, measure: object, *args: int) -> tuple[float, float, float]:
    """(median old, median new, median of per-turn new/old ratios)."""
    olds, news, ratios = [], [], []
    for turn in range(TURNS):
        order = (None, old) if turn % 2 else (old, None)
        got = {}
        for checkout in order:
            got[checkout] = measure(checkout, *args)  # type: ignore[operator]
        olds.append(got[old])
        news.append(got[None])
        ratios.append(got[None] / got[old])
    return statistics.median(olds), statistics.median(news), statistics.median(ratios)


def run(old: Path) -> list[Row]:
    rows: list[Row] = []
    a, b, ratio = compare(old, one_process)
    rows.append(("runner: Study.optimize on SQLite, 2000 random trials, trivial objective, "
                 f"ms per trial, old / new (median of {TURNS} flipped turns)",
                 f"{a:.3f} / {b:.3f} ms = {ratio:.3f}x new/old", "within 1.05x"))  # fmt: skip
    print(rows[-1], flush=True)
    for count in (1, 2, 4):
        a, b, ratio = compare(old, workers, count)
        rows.append((f"runner: {count} worker(s) on one SQLite study, 400 random trials, 10 ms "
                     f"objective, trials/s, old / new (median of {TURNS} flipped turns)",
                     f"{a:.0f} / {b:.0f} = {ratio:.3f}x new/old", ">= 0.95x"))  # fmt: skip
        print(rows[-1], flush=True)
    return rows


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/benchmarks/bench_design_step.py OLD_CHECKOUT")
    print_table(run(Path(sys.argv[1]).resolve()))
