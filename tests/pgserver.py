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


class PgServer:
    """A throwaway server in a temporary folder: :meth:`stop` and :meth:`start` it at will.

    ``url`` (``postgresql://USER@127.0.0.1:PORT``) stays the same across restarts.
    """

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="hposampler-pg-"))
        self.run_as: dict[str, Any] = {}
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.root, "nobody")
            group = "nogroup" if _has_group("nogroup") else None
            self.run_as = {"user": "nobody", "group": group}
        self.data, self.port = self.root / "data", _free_port()
        self.url = f"postgresql://{USER}@127.0.0.1:{self.port}"
        self._ctl(
            self.binaries / "initdb", "-D", self.data, "-U", USER, "--auth=trust", "-E", "UTF8",
            "--no-instructions",
        )  # fmt: skip

    def _ctl(self, *args: Any, check: bool = True) -> None:
        subprocess.run(args, check=check, capture_output=True, cwd=self.root, **self.run_as)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl(
            self.binaries / "pg_ctl", "-D", self.data, "-o", options, "-l",
            self.root / "server.log", "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast", check: bool = True) -> None:
        """Stop the server (``pg_ctl stop -m MODE``): ``fast`` ends every session."""
        self._ctl(self.binaries / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=check)

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        self.stop("immediate", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_server(binaries: Path) -> Iterator[str]:
    """Run a server for the duration of the block; yields ``postgresql://USER@127.0.0.1:PORT``."""
    with restartable_server(binaries) as server:
        yield server.url


@contextmanager
def restartable_server(binaries: Path) -> Iterator[PgServer]:
    """A running :class:`PgServer` for the duration of the block, removed after."""
    server = PgServer(binaries)
    try:
        server.start()
        yield server
    finally:
        server.remove()


def create_database(server: str, name: str) -> str:
    """Create database ``name`` on ``server``; returns its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
