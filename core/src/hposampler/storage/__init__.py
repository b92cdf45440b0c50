"""Where studies live: the :class:`Storage` protocol, SQLite, and choosing one by URL.

A storage is chosen by a string: a plain file path or ``sqlite:///path`` is the
embedded SQLite storage; any other ``scheme://...`` URL goes to the storage a
plugin registered for that scheme through the ``register_storages`` hook (for
instance ``postgresql://user:pass@host:5432/db``). :func:`make_storage` does the
choosing; ``Study.create`` and ``Study.load`` accept the same strings.

This package is itself a plugin of the core: it registers the ``sqlite`` scheme.
It sits above the plugin registry (it looks storages up by scheme) and imports
the sampler contract's trial types; the study layer builds on it.

Modules: :mod:`~hposampler.storage.base` (the record, the protocol and the row
codec every storage shares) and :mod:`~hposampler.storage.sqlite`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable

from hposampler.errors import PluginError, StudyError, UnknownPluginError
from hposampler.plugins.hookspecs import hookimpl
from hposampler.plugins.registry import get_registry
from hposampler.plugins.specs import StorageSpec
from hposampler.storage.base import (
    CLAIM_COLUMNS,
    TRIAL_COLUMNS,
    HoldersCheck,
    Storage,
    TrialRecord,
    claim_key,
    dumps,
    holders_from_rows,
    mask_url,
    parse_definition,
    parse_user_attrs,
    record_from_row,
    record_to_row,
)
from hposampler.storage.sqlite import SCHEMA_VERSION, SQLiteStorage, resolve_sqlite_path

__all__ = [
    "CLAIM_COLUMNS",
    "SCHEMA_VERSION",
    "HoldersCheck",
    "TRIAL_COLUMNS",
    "SQLiteStorage",
    "Storage",
    "StorageSpec",
    "TrialRecord",
    "claim_key",
    "dumps",
    "holders_from_rows",
    "make_storage",
    "mask_url",
    "parse_definition",
    "parse_user_attrs",
    "record_from_row",
    "record_to_row",
    "resolve_sqlite_path",
]


@hookimpl
def register_storages(register: Callable[[StorageSpec], None]) -> None:
    """Register the embedded SQLite storage (``sqlite:///path`` or a plain path)."""
    register(
        StorageSpec(
            "sqlite",
            SQLiteStorage,
            description="embedded SQLite file (WAL); a plain path means this storage",
        )
    )


def _scheme(text: str) -> str | None:
    scheme, sep, _ = text.partition("://")
    if not sep or not scheme or not scheme.replace("+", "").replace("-", "").isalnum():
        return None
    return scheme.lower()


def make_storage(storage: str | os.PathLike[str] | Storage, read_only: bool = False) -> Storage:
    """The storage a path, URL or storage object names.

    Parameters
    ----------
    storage : str, path-like or Storage
        A file path or ``sqlite:///path`` (SQLite), a ``scheme://...`` URL of a
        storage plugin, or a storage object (returned as is).
    read_only : bool
        Open an SQLite file only to read it (``show``, ``export``, ``plot``): a
        missing file is an error instead of being created, and a read-only file
        works. Server storages are opened as usual.

    Raises
    ------
    UnknownPluginError
        (``kind="storage"``, a ``LookupError``) for a scheme no plugin provides,
        with close matches and the installed schemes.
    StudyError
        For an argument that is neither a path, a URL nor a storage.
    """
    if isinstance(storage, Storage):
        return storage
    if not isinstance(storage, (str, os.PathLike)):
        raise StudyError(
            f"storage must be a file path, a URL such as sqlite:///study.db, or a Storage; "
            f"got {type(storage).__name__} {storage!r}"
        )
    text = os.fspath(storage)
    scheme = _scheme(text) if isinstance(text, str) else None
    if scheme is None or scheme == "sqlite":
        return SQLiteStorage(text, read_only=read_only)
    storages = get_registry().storages()
    if scheme not in storages:
        known = sorted(storages)
        raise UnknownPluginError(
            "storage", f"{scheme}://", [f"{s}://" for s in known],
            [f"{s}://" for s in difflib.get_close_matches(scheme, known)],
        )  # fmt: skip
    made = storages[scheme][0].factory(text)
    if not isinstance(made, Storage):
        raise PluginError(
            f"the storage plugin for {scheme}:// ({storages[scheme][1].label}) returned "
            f"{type(made).__name__}, which does not follow the hposampler.storage.Storage "
            "protocol"
        )
    return made
