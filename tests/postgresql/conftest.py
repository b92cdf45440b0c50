"""A real PostgreSQL server for the tests: started from the machine's binaries, stopped after.

The server runs from a temporary data folder on a free port of 127.0.0.1, with
trust authentication for its one user. PostgreSQL refuses to run as root, so as
root the server runs as the unprivileged user ``nobody``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

USER = "hposampler"


def _bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    candidates = []
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for initdb in (shutil.which("initdb"),):
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The base URL ``postgresql://hposampler@127.0.0.1:PORT`` of a running server."""
    bindir = _bindir()
    if bindir is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI machines have the PostgreSQL 15 server packages")
        pytest.skip(message + "; install the postgresql package to run these tests")
    root = Path(tempfile.mkdtemp(prefix="hposampler-pg-"))
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "nobody")
        run_as = {"user": "nobody", "group": "nogroup" if _group("nogroup") else None}
    data, port = root / "data", _free_port()
    subprocess.run(
        [bindir / "initdb", "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8",
         "--no-instructions"],
        check=True, capture_output=True, cwd=root, **run_as,
    )  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [bindir / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w",
         "-t", "60", "start"],
        check=True, capture_output=True, cwd=root, **run_as,
    )  # fmt: skip
    try:
        yield f"postgresql://{USER}@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
            check=False, capture_output=True, cwd=root, **run_as,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _group(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the test server, for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"
