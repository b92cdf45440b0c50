"""Reliability: real faults under a running study; nothing finished may be lost or stored twice.

Run: python tests/benchmarks/bench_reliability.py [ROUNDS]

Four campaigns, each on its own study (random sampler, 2 floats, an objective of
20-60 ms that appends ``[trial id, config]`` to a log just before it returns):

worker kills
    ``hposampler run --resume`` (TPE, thread executor, concurrency 2; a second
    worker on the file every other round) SIGKILLed at a random moment, ROUNDS
    times (default 24).
child kills
    one ``hposampler run`` with the process executor (concurrency 2) while a
    random worker child is SIGKILLed every 0.3-0.8 s, ROUNDS times.
server restart
    three workers on a PostgreSQL server (the test fixture's binaries) while the
    server is stopped with ``pg_ctl stop -m fast`` and started 2 s later, 3 times.
    Skipped without the server binaries.
disk full
    one worker on a 16 MiB tmpfs that another program fills; the run stops, the
    space is freed and the run resumed, 4 times. Needs root (a tmpfs mount).
delete race
    two workers (concurrency 1) while ``hposampler delete --yes`` is run 4 x ROUNDS
    times; each attempt must be refused (a deletion would show as lost trials).
read-only readers
    a SELECT-only role runs ``show`` / ``export`` / ``studies`` 2 x ROUNDS times
    while three workers write to PostgreSQL, then the database is switched to
    read-only mode and read again; a failed read counts as lost.

After the faults each study is finished with one more ``--resume`` run, then:

- **lost**: trials finished before a fault (snapshotted) missing or changed at the
  end, plus evaluations that returned (logged) whose trial is not COMPLETE with
  that config at the end;
- **duplicated**: COMPLETE trials whose config another COMPLETE trial also has
  (continuous space: only a result stored twice does that);
- **left RUNNING**: RUNNING rows at the end (every worker has exited).

Goal: 0, 0, 0 in every row.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import Row, print_table

OBJECTIVE = """
import json, os, random, time
def objective(config, trial):
    time.sleep(random.uniform(0.02, 0.06))
    loss = (config["x"] - 0.3) ** 2 + (config["y"] - 0.6) ** 2
    with open(os.environ["DONE_LOG"], "a") as log:
        log.write(json.dumps([trial.trial_id, config]) + "\\n")
    return loss
"""

Table = dict[int, tuple[Any, ...]]


def _study_file(folder: Path, storage: str, sampler: str = "random", **study: Any) -> Path:
    (folder / "obj.py").write_text(OBJECTIVE)
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in study.items())
    path = folder / "s.toml"
    path.write_text(
        textwrap.dedent(f"""
        [study]
        name = "r"
        objective = "obj:objective"
        trials = 100000
        storage = "{storage}"
        """)
        + extra
        + textwrap.dedent(f"""
        [sampler]
        name = "{sampler}"
        seed = 0
        [metrics]
        loss = "min"
        [search_space]
        x = {{ value_range = [0, 1] }}
        y = {{ value_range = [0, 1] }}
        """)
    )
    return path


class Campaign:
    """One study under faults: start workers, snapshot, tally at the end."""

    def __init__(self, storage: str, sampler: str = "random", **study: Any) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="hposampler-rel-"))
        self.storage = storage.replace("{folder}", str(self.folder))
        self.path = _study_file(self.folder, self.storage, sampler, **study)
        self.log = self.folder / "done.log"
        self.env = {**os.environ, "DONE_LOG": str(self.log), "PYTHONPATH": str(self.folder)}
        self.snapshots: list[Table] = []

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "hposampler", "run", str(self.path), "--resume", *extra]
        return subprocess.Popen(command, env=self.env, cwd=self.folder,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def table(self) -> Table:
        from hposampler import Study

        try:
            records = Study.load(self.storage, "r", read_only=True).records()
        except Exception:  # not created yet
            return {}
        return {
            r.trial_id: (int(r.state), json.dumps(r.config, sort_keys=True), r.metrics)
            for r in records
        }

    def snapshot(self) -> None:
        finished = {t: row for t, row in self.table().items() if row[0] not in (0, 4, 8)}
        self.snapshots.append(finished)

    def finish(self) -> dict[str, int]:
        done = len([row for row in self.table().values() if row[0] == 1])
        proc = self.start("--trials", str(done + 20))
        proc.wait(timeout=600)
        final = self.table()
        lost = {t for snap in self.snapshots for t, row in snap.items() if final.get(t) != row}
        evaluations = [json.loads(line) for line in self.log.read_text().splitlines()]
        for tid, config in evaluations:
            row = final.get(tid)
            if row is None or row[0] != 1 or row[1] != json.dumps(config, sort_keys=True):
                lost.add(tid)
        complete = [row[1] for row in final.values() if row[0] == 1]
        return {
            "trials": len(final),
            "lost": len(lost),
            "duplicated": len(complete) - len(set(complete)),
            "running": sum(row[0] == 0 for row in final.values()),
            "dense": int(sorted(final) == list(range(len(final)))),
        }


def _kill_all(procs: list[subprocess.Popen[bytes]]) -> int:
    killed = 0
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
    return killed


def worker_kills(rounds: int, rng: random.Random) -> tuple[dict[str, int], int]:
    campaign = Campaign("{folder}/r.db", sampler="tpe", concurrency=2)
    kills = 0
    for turn in range(rounds):
        procs = [campaign.start()] + ([campaign.start()] if turn % 2 else [])
        time.sleep(rng.uniform(0.8, 2.0))
        campaign.snapshot()
        kills += _kill_all(procs)
    return campaign.finish(), kills


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def child_kills(rounds: int, rng: random.Random) -> tuple[dict[str, int], int]:
    campaign = Campaign("{folder}/r.db", executor="process", concurrency=2)
    proc = campaign.start()
    kills, deadline = 0, time.monotonic() + 120
    while kills < rounds and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.3, 0.8))
        # the workers are the grandchildren or children of the driver (a resource tracker too)
        workers = [c for c in _children(proc.pid) if b"resource_tracker" not in _cmdline(c)]
        if workers:
            campaign.snapshot()
            try:
                os.kill(rng.choice(workers), signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
    time.sleep(0.5)
    campaign.snapshot()
    _kill_all([proc])  # the driver survived every child kill; stop it to finish the study
    return campaign.finish(), kills


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def server_restarts(rounds: int, rng: random.Random) -> tuple[dict[str, int], int] | None:
    from pgserver import bindir, create_database, restartable_server

    binaries = bindir()
    if binaries is None:
        return None
    with restartable_server(binaries) as server:
        url = create_database(server.url, "reliability")
        campaign = Campaign(url)
        procs = [campaign.start() for _ in range(3)]
        restarts = 0
        for _ in range(rounds):
            time.sleep(rng.uniform(1.5, 3.0))
            campaign.snapshot()
            server.stop("fast")
            time.sleep(2)
            server.start()
            restarts += 1
        time.sleep(1.5)
        campaign.snapshot()
        _kill_all(procs)  # they would run forever (trials = 100000)
        return campaign.finish(), restarts


def disk_fills(rounds: int, rng: random.Random) -> tuple[dict[str, int], int] | None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return None
    disk = Path(tempfile.mkdtemp(prefix="hposampler-disk-"))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],
                      capture_output=True, check=False).returncode:  # fmt: skip
        return None
    try:
        campaign = Campaign(f"{disk}/r.db")
        filler, fills = disk / "filler", 0
        for _ in range(rounds):
            proc = campaign.start()
            time.sleep(rng.uniform(1.0, 2.0))
            campaign.snapshot()
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # another program takes the space
            try:
                while os.write(fd, bytes(1 << 16)):
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)
            fills += 1
            try:
                proc.wait(timeout=60)  # the run notices at its next write and stops
            except subprocess.TimeoutExpired:
                _kill_all([proc])
            filler.unlink()
        return campaign.finish(), fills
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _cli(campaign: Campaign, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hposampler", *args], env=campaign.env,
                          cwd=campaign.folder, capture_output=True, text=True, timeout=600)  # fmt: skip


def delete_race(rounds: int, rng: random.Random) -> tuple[dict[str, int], int]:
    """``delete --yes`` hammered at two live workers (concurrency 1); every attempt must be
    refused. A delete that went through would show as lost trials."""
    campaign = Campaign("{folder}/r.db", concurrency=1)
    procs = [campaign.start(), campaign.start()]
    time.sleep(1.0)
    attempts = 0
    for _ in range(rounds * 4):
        campaign.snapshot()
        result = _cli(campaign, "delete", "r", "--storage", campaign.storage, "--yes")
        attempts += 1
        if result.returncode != 2 or "live worker(s)" not in result.stderr:
            print(f"delete went through or failed oddly: {result.returncode} {result.stderr}")
        time.sleep(rng.uniform(0.0, 0.2))
    campaign.snapshot()
    _kill_all(procs)
    return campaign.finish(), attempts


def read_only_readers(rounds: int, rng: random.Random) -> tuple[dict[str, int], int] | None:
    """A SELECT-only role runs show / export / studies while three workers write, then the
    database turns read-only (as a hot standby is) and is read again."""
    import uuid

    import psycopg

    from pgserver import bindir, create_database, restartable_server

    binaries = bindir()
    if binaries is None:
        return None
    with restartable_server(binaries) as server:
        url = create_database(server.url, "readers")
        campaign = Campaign(url)
        procs = [campaign.start() for _ in range(3)]
        time.sleep(2.0)
        role = f"r_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
            conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
        reader = url.replace("://hposampler@", f"://{role}@")
        reads, failed = 0, 0
        for turn in range(rounds * 2):
            command = [["show", "r"], ["export", "r"], ["studies"]][turn % 3]
            campaign.snapshot()
            result = _cli(campaign, *command, "--storage", reader)
            reads += 1
            failed += result.returncode != 0
            time.sleep(rng.uniform(0.0, 0.3))
        campaign.snapshot()
        _kill_all(procs)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute('ALTER DATABASE "readers" SET default_transaction_read_only = on')
        for command in (["show", "r"], ["export", "r"], ["studies"]):
            reads += 1
            failed += _cli(campaign, *command, "--storage", url).returncode != 0
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET default_transaction_read_only = off")
            conn.execute('ALTER DATABASE "readers" SET default_transaction_read_only = off')
        tally = campaign.finish()
        tally["lost"] += failed  # a failed read counts against the row
        return tally, reads


CAMPAIGNS: list[tuple[str, str, Callable[..., Any], int | None]] = [
    ("worker kills", "SIGKILL of `hposampler run --resume` (1-2 workers, thread executor, SQLite)",
     worker_kills, None),
    ("child kills", "SIGKILL of a process-executor worker child (concurrency 2, SQLite)",
     child_kills, None),
    ("server restart", "`pg_ctl stop -m fast`, start 2 s later, under 3 workers (PostgreSQL)",
     server_restarts, 3),
    ("disk full", "the tmpfs holding the SQLite file filled by another program, then freed",
     disk_fills, 4),
    ("delete race", "`delete --yes` hammered at two live workers, concurrency 1 (SQLite)",
     delete_race, None),
    ("read-only readers", "show/export/studies by a SELECT-only role under 3 workers, then "
     "on the database in read-only mode (PostgreSQL; a failed read counts as lost)",
     read_only_readers, None),
]  # fmt: skip


def run(rounds: int = 24, seed: int = 0) -> list[Row]:
    rng = random.Random(seed)
    rows: list[Row] = []
    lines = ["| campaign | trials | kills/faults | lost | duplicated | left RUNNING | ids dense |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for name, what, campaign, fixed in CAMPAIGNS:
        result = campaign(fixed or rounds, rng)
        if result is None:
            figure = "skipped here (needs the PostgreSQL server binaries / root for a tmpfs)"
            lines.append(f"| {name} | - | - | - | - | - | - |")
        else:
            t, faults = result
            figure = (
                f"{faults} faults over {t['trials']} trials; lost {t['lost']}, duplicated "
                f"{t['duplicated']}, left RUNNING {t['running']}, ids dense "
                f"{'yes' if t['dense'] else 'NO'}"
            )
            lines.append(
                f"| {name} | {t['trials']} | {faults} | {t['lost']} | {t['duplicated']} | "
                f"{t['running']} | {'yes' if t['dense'] else 'NO'} |"
            )
        rows.append((f"reliability, {name}: {what}", figure, "0 lost, 0 duplicated, 0 RUNNING"))
    print("\n".join(lines) + "\n")
    return rows


if __name__ == "__main__":
    print_table(run(int(sys.argv[1]) if len(sys.argv) > 1 else 24))
