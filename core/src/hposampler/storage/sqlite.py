"""Embedded SQLite storage for studies: JSON columns, validated on load, never executed.

Layout (schema version 1)::

    schema_version(version)
    studies(name PRIMARY KEY, definition JSON, created_at)
    trials(study, trial_id, state, config JSON, metrics JSON, extra JSON, internal JSON,
           error, worker, attempts, started_at, finished_at, updated_at)

The database runs in WAL mode; every write is its own committed transaction, so a
killed process loses at most the state change it was making. Everything read back
is parsed as JSON and structured with cattrs into :class:`TrialRecord`; a row that
does not validate raises :class:`~hposampler.errors.StorageError` naming the study,
the trial and the column.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import StorageError, StudyError
from .base import TRIAL_COLUMNS, TrialRecord, dumps, record_from_row, record_to_row

__all__ = ["SCHEMA_VERSION", "SQLiteStorage", "resolve_sqlite_path"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    study TEXT NOT NULL REFERENCES studies(name),
    trial_id INTEGER NOT NULL,
    state INTEGER NOT NULL,
    config TEXT NOT NULL,
    metrics TEXT NOT NULL,
    extra TEXT NOT NULL,
    internal TEXT,
    error TEXT,
    worker TEXT,
    attempts INTEGER NOT NULL,
    started_at REAL,
    finished_at REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (study, trial_id)
);
"""


def resolve_sqlite_path(storage: str | os.PathLike[str]) -> Path:
    """Turn ``"sqlite:///path"`` or a plain path into a :class:`~pathlib.Path`."""
    text = os.fspath(storage)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        raise StudyError(
            f"unsupported storage {text!r}: give a file path or sqlite:///path/to/file.db"
        )
    return Path(text)


class SQLiteStorage:
    """One SQLite file holding any number of studies.

    Parameters
    ----------
    path : str or path-like
        File path or ``sqlite:///path``; the file is created if missing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = resolve_sqlite_path(path)
        self.url = f"sqlite:///{self.path}"
        if self.path.parent and not self.path.parent.exists():
            raise StudyError(f"storage folder {self.path.parent} does not exist; create it first")
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path} is not a usable SQLite database: {exc}") from None
        self._check_version()

    def _check_version(self) -> None:
        rows = self._db.execute("SELECT version FROM schema_version").fetchall()
        if not rows:
            self._db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif rows[0][0] != SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} has schema version {rows[0][0]}; this hposampler reads version "
                f"{SCHEMA_VERSION}. Upgrade hposampler or use another file."
            )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # -- studies ------------------------------------------------------------------

    def study_names(self) -> list[str]:
        """Names of the stored studies."""
        return [r[0] for r in self._db.execute("SELECT name FROM studies ORDER BY created_at")]

    def has_study(self, name: str) -> bool:
        """Whether a study called ``name`` exists."""
        row = self._db.execute("SELECT 1 FROM studies WHERE name = ?", (name,)).fetchone()
        return row is not None

    def create_study(self, name: str, definition: Mapping[str, Any]) -> None:
        """Store a new study; :class:`StudyError` if the name is taken."""
        try:
            self._db.execute(
                "INSERT INTO studies (name, definition, created_at) VALUES (?, ?, ?)",
                (name, dumps(dict(definition)), time.time()),
            )
        except sqlite3.IntegrityError:
            raise StudyError(
                f"study {name!r} already exists in {self.path}; load it (Study.load, or "
                "`hposampler run --resume`) or choose another name"
            ) from None

    def update_definition(self, name: str, definition: Mapping[str, Any]) -> None:
        """Replace a study's definition (e.g. when switching sampler)."""
        self._db.execute(
            "UPDATE studies SET definition = ? WHERE name = ?", (dumps(dict(definition)), name)
        )

    def load_definition(self, name: str) -> dict[str, Any]:
        """The JSON definition of a study (parsed, not yet validated)."""
        row = self._db.execute("SELECT definition FROM studies WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(self.study_names()) or "none"
            raise StudyError(f"no study {name!r} in {self.path} (studies: {known})")
        try:
            data = json.loads(row[0])
        except (TypeError, ValueError) as exc:
            raise StorageError(f"study {name!r}: definition is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise StorageError(f"study {name!r}: definition must be a JSON object")
        return data

    # -- trials -------------------------------------------------------------------

    _INSERT = (
        f"INSERT INTO trials (study, {', '.join(TRIAL_COLUMNS)}, updated_at) "
        f"VALUES ({', '.join('?' * (len(TRIAL_COLUMNS) + 2))})"
    )
    _UPDATE = (
        f"UPDATE trials SET {', '.join(f'{c} = ?' for c in TRIAL_COLUMNS[1:])}, updated_at = ? "
        "WHERE study = ? AND trial_id = ?"
    )

    def create_trial(self, study: str, record: TrialRecord) -> bool:
        """Insert a new trial; ``False`` (nothing written) if its id is already taken."""
        try:
            self._db.execute(self._INSERT, (study, *record_to_row(record), time.time()))
        except sqlite3.IntegrityError:
            return False
        return True

    def save_trial(self, study: str, record: TrialRecord) -> None:
        """Store a state change of an existing trial (one committed transaction).

        Raises
        ------
        StorageError
            If the trial was never created (nothing is written).
        """
        row = record_to_row(record)
        cursor = self._db.execute(self._UPDATE, (*row[1:], time.time(), study, record.trial_id))
        if cursor.rowcount != 1:
            raise StorageError(
                f"study {study!r} has no trial {record.trial_id} to update; trials are "
                "created with create_trial()"
            )

    def load_trials(self, study: str) -> list[TrialRecord]:
        """Every trial of a study, validated, ordered by id.

        Raises
        ------
        StorageError
            Naming the study, trial and column of the first invalid row.
        """
        rows = self._db.execute(
            f"SELECT {', '.join(TRIAL_COLUMNS)} FROM trials WHERE study = ? ORDER BY trial_id",
            (study,),
        ).fetchall()
        return [record_from_row(study, row) for row in rows]
