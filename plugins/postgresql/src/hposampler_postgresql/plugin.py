"""hposampler plugin: registers the ``postgresql`` storage (psycopg loads when one is opened)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hposampler import hookimpl
from hposampler.storage import StorageSpec


def open_storage(url: str) -> Any:
    """Open the PostgreSQL storage at ``url``."""
    from .storage import PostgresStorage

    return PostgresStorage(url)


@hookimpl
def register_storages(register: Callable[[StorageSpec], None]) -> None:
    """Register ``postgresql://`` (alias ``postgres://``)."""
    register(
        StorageSpec(
            "postgresql",
            open_storage,
            aliases=("postgres",),
            description="PostgreSQL server: workers on many machines share a study",
        )
    )
