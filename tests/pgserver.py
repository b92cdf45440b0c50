"""Start and stop a throwaway PostgreSQL server from the machine's binaries (tests, benchmarks).

The server runs from a temporary data folder on a free port of 127.0.0.1, with
trust authentication for its one user. PostgreSQL refuses to run as root, so as
root the server runs as the unprivileged user ``nobody``.
"""

from __future__ import annotations

import grp
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

USER = "hposampler"


def bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or ``None``."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _has_group(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


@contextmanager
def postgres_server(binaries: Path) -> Iterator[str]:
    """Run a server for the duration of the block; yields ``postgresql://USER@127.0.0.1:PORT``."""
    root = Path(tempfile.mkdtemp(prefix="hposampler-pg-"))
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "nobody")
        run_as = {"user": "nobody", "group": "nogroup" if _has_group("nogroup") else None}
    data, port = root / "data", _free_port()
    try:
        subprocess.run(
            [binaries / "initdb", "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8",
             "--no-instructions"],
            check=True, capture_output=True, cwd=root, **run_as,
        )  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [binaries / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w",
             "-t", "60", "start"],
            check=True, capture_output=True, cwd=root, **run_as,
        )  # fmt: skip
        yield f"postgresql://{USER}@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
            check=False, capture_output=True, cwd=root, **run_as,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: str, name: str) -> str:
    """Create database ``name`` on ``server``; returns its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
