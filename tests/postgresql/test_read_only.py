"""Reading commands work on a read-only PostgreSQL (issue 39, D6); writes are one line."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest

from hposampler import Study
from hposampler.errors import StorageError
from hposampler.storage import make_storage

SPACE = {"x": {"value_range": [0.0, 1.0]}}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hposampler", *args], capture_output=True, text=True,
        timeout=1800, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip


def _study(url: str) -> None:
    study = Study.create(url, "s", "random", SPACE, {"loss": "min"}, seed=0)
    study.optimize(lambda c: c["x"], 3)


def _reads_work(url: str) -> None:
    for command in (["show", "s"], ["export", "s"], ["studies"]):
        result = _cli(*command, "--storage", url)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    assert len(Study.load(url, "s").records()) == 3


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_database_in_read_only_mode_is_read_and_refuses_writes_in_one_line(
    postgres_url: str,
) -> None:
    _study(postgres_url)
    database = postgres_url.rpartition("/")[2]
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # as on a hot standby
        conn.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    _reads_work(postgres_url)
    line = _one_line(_cli("delete", "s", "--storage", postgres_url, "--yes"))
    assert "takes no writes (a hot standby, or default_transaction_read_only is on)" in line
    with pytest.raises(StorageError, match="takes no writes"):
        Study.load(postgres_url, "s").optimize(lambda c: c["x"], 4)
    assert len(Study.load(postgres_url, "s").records()) == 3


def test_an_empty_read_only_database_says_to_open_it_on_the_primary(postgres_url: str) -> None:
    database = postgres_url.rpartition("/")[2]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    with pytest.raises(StorageError, match="has no hposampler tables .* takes no writes"):
        make_storage(postgres_url)


def test_a_select_only_role_reads_and_is_told_which_grant_writing_needs(
    postgres_url: str,
) -> None:
    _study(postgres_url)
    role = f"r_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'REVOKE CREATE ON SCHEMA public FROM PUBLIC, "{role}"')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    base, _, database = postgres_url.rpartition("/")
    url = base.replace("://hposampler@", f"://{role}@") + "/" + database
    _reads_work(url)
    line = _one_line(_cli("delete", "s", "--storage", url, "--yes"))
    assert "may not write hposampler's tables" in line and "GRANT SELECT, INSERT" in line
    assert "create" not in line.lower().split("may not write")[0]


def test_a_server_that_is_not_running_is_one_line() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = _one_line(_cli("studies", "--storage", f"postgresql://u:secret@127.0.0.1:{port}/db"))
    assert line.startswith("error: cannot connect to PostgreSQL at postgresql://u:***@127.0.0.1")
    assert "secret" not in line
