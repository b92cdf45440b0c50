"""Reliability: SIGKILL a running study again and again; nothing finished may be lost or change.

Run: python tests/benchmarks/bench_reliability.py [KILLS]

A study (TPE, thread executor, concurrency 2, an objective of 20-60 ms) is
started with ``hposampler run --resume`` and killed with SIGKILL at a random
moment, KILLS times (default 24), with a second worker process on the same file
every other round. Before each kill the finished trials are snapshotted; at the
end the study is finished (20 more trials) and every snapshot is compared with
the final table. The figures: kills, trials lost (finished before a
kill, missing or changed after: must be 0), ids dense, SQLite integrity.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Row, print_table

OBJECTIVE = """
import random, time
def objective(config):
    time.sleep(random.uniform(0.02, 0.06))
    return (config["x"] - 0.3) ** 2 + (config["y"] - 0.6) ** 2
"""


def finished(db: Path) -> dict[int, tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT trial_id, state, config, metrics, attempts FROM trials "
            "WHERE state NOT IN (0, 4, 8)"
        ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def run(kills: int = 24, seed: int = 0) -> list[Row]:
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp())
    (folder / "obj.py").write_text(OBJECTIVE)
    study = folder / "s.toml"
    study.write_text(
        textwrap.dedent("""
        [study]
        name = "r"
        objective = "obj:objective"
        trials = 100000
        concurrency = 2
        storage = "r.db"
        [sampler]
        name = "tpe"
        seed = 0
        [metrics]
        loss = "min"
        [search_space]
        x = { value_range = [0, 1] }
        y = { value_range = [0, 1] }
    """)
    )
    db = folder / "r.db"
    command = [sys.executable, "-m", "hposampler", "run", str(study), "--resume"]
    snapshots: list[dict[int, tuple[object, ...]]] = []
    survived = 0
    for turn in range(kills):
        procs = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        if turn % 2:
            procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))  # fmt: skip
        time.sleep(rng.uniform(0.8, 2.0))
        if db.exists():
            snapshots.append(finished(db))
        for proc in procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                survived += 1
            proc.wait()
    total = len(finished(db)) + 20  # finish: interrupted trials re-run, then 20 more
    subprocess.run([*command, "--trials", str(total)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # fmt: skip
    final = finished(db)
    lost = {tid for snap in snapshots for tid, row in snap.items() if final.get(tid) != row}
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT trial_id FROM trials ORDER BY trial_id")]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        complete = conn.execute("SELECT count(*) FROM trials WHERE state = 1").fetchone()[0]
    return [
        (
            f"reliability: SIGKILL of `hposampler run --resume` at random moments ({kills} "
            "rounds, half of them with 2 workers on the file)",
            f"{survived} kills; finished trials lost or changed: {len(lost)}; "
            f"ids dense: {'yes' if ids == list(range(len(ids))) else 'NO'}; "
            f"integrity_check: {integrity}; {complete} COMPLETE trials at the end",
            "0 lost, dense, ok",
        )
    ]


if __name__ == "__main__":
    print_table(run(int(sys.argv[1]) if len(sys.argv) > 1 else 24))
