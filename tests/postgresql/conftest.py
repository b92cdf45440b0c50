"""A real PostgreSQL server for these tests, started by the fixture and stopped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgserver import PgServer, bindir, create_database, postgres_server, restartable_server


def _binaries() -> Path:
    binaries = bindir()
    if binaries is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI machines have the PostgreSQL 15 server packages")
        pytest.skip(message + "; install the postgresql package to run these tests")
    return binaries


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The base URL ``postgresql://hposampler@127.0.0.1:PORT`` of a running server."""
    with postgres_server(_binaries()) as url:
        yield url


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    """A server of this test's own, which the test may stop and start again."""
    with restartable_server(_binaries()) as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """A fresh, empty database on the test server, for one test."""
    return create_database(postgres_server_url, f"t_{uuid.uuid4().hex[:12]}")
