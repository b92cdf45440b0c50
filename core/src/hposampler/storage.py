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
import math
import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import StorageError, StudyError
from .trial import Trial, TrialState, metric_value

__all__ = ["SCHEMA_VERSION", "SQLiteStorage", "TrialRecord", "resolve_storage"]

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


@attrs.frozen
class TrialRecord:
    """A trial as the study stores it: the sampler's :class:`Trial` plus run details.

    Attributes
    ----------
    trial_id, state, config, metrics, internal
        As in :class:`~hposampler.Trial` (``metrics`` holds only ``optim_metrics``).
    extra : dict
        Other JSON values the objective returned (e.g. ``{"accuracy": 0.9, "epochs": 3}``).
    error : str or None
        The traceback of a failed trial.
    worker : str or None
        ``host:pid:thread`` of the worker that ran it last.
    attempts : int
        How many times the objective was started for this trial.
    started_at, finished_at : float or None
        Unix timestamps.
    """

    trial_id: int
    state: TrialState = attrs.field(converter=TrialState)
    config: dict[str, Any]
    metrics: list[dict[str, float | None]] = attrs.field(factory=list)
    extra: dict[str, Any] = attrs.field(factory=dict)
    internal: dict[str, Any] | None = None
    error: str | None = None
    worker: str | None = None
    attempts: int = 0
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def trial(self) -> Trial:
        """The :class:`~hposampler.Trial` a sampler resumes from."""
        return Trial(self.trial_id, self.config, self.state, self.metrics, self.internal)

    @property
    def final_metrics(self) -> dict[str, float | None] | None:
        """The last reported metrics, if any."""
        return self.metrics[-1] if self.metrics else None

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, if both are known."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def evolve(self, **changes: Any) -> TrialRecord:
        """A copy with some fields changed."""
        return attrs.evolve(self, **changes)


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _clean_metrics(metrics: list[dict[str, float | None]]) -> list[dict[str, float | None]]:
    # JSON has no Infinity/NaN; the sampler's "worst" is stored as null
    return [
        {k: (None if v is None or not math.isfinite(v) else v) for k, v in m.items()}
        for m in metrics
    ]


def resolve_storage(storage: str | os.PathLike[str]) -> Path:
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
        self.path = resolve_storage(path)
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
                (name, _dumps(dict(definition)), time.time()),
            )
        except sqlite3.IntegrityError:
            raise StudyError(
                f"study {name!r} already exists in {self.path}; load it (Study.load, or "
                "`hposampler run --resume`) or choose another name"
            ) from None

    def update_definition(self, name: str, definition: Mapping[str, Any]) -> None:
        """Replace a study's definition (e.g. when switching sampler)."""
        self._db.execute(
            "UPDATE studies SET definition = ? WHERE name = ?", (_dumps(dict(definition)), name)
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

    def save_trial(self, study: str, record: TrialRecord) -> None:
        """Insert or replace a trial (one committed transaction)."""
        self._db.execute(
            "INSERT OR REPLACE INTO trials (study, trial_id, state, config, metrics, extra, "
            "internal, error, worker, attempts, started_at, finished_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                study,
                record.trial_id,
                int(record.state),
                _dumps(record.config),
                _dumps(_clean_metrics(record.metrics)),
                _dumps(record.extra),
                None if record.internal is None else _dumps(record.internal),
                record.error,
                record.worker,
                record.attempts,
                record.started_at,
                record.finished_at,
                time.time(),
            ),
        )

    def load_trials(self, study: str) -> list[TrialRecord]:
        """Every trial of a study, validated, ordered by id.

        Raises
        ------
        StorageError
            Naming the study, trial and column of the first invalid row.
        """
        rows = self._db.execute(
            "SELECT trial_id, state, config, metrics, extra, internal, error, worker, attempts, "
            "started_at, finished_at FROM trials WHERE study = ? ORDER BY trial_id",
            (study,),
        ).fetchall()
        return [self._record(study, row) for row in rows]

    def _record(self, study: str, row: tuple[Any, ...]) -> TrialRecord:
        tid = row[0]

        def parse(column: str, text: Any, kind: type, nullable: bool = False) -> Any:
            if text is None and nullable:
                return None
            try:
                value = json.loads(text)
            except (TypeError, ValueError) as exc:
                raise StorageError(
                    f"study {study!r}, trial {tid}: column {column} is not valid JSON ({exc})"
                ) from None
            if not isinstance(value, kind):
                raise StorageError(
                    f"study {study!r}, trial {tid}: column {column} must hold a JSON "
                    f"{'object' if kind is dict else 'array'}, got {type(value).__name__}"
                )
            return value

        config = parse("config", row[2], dict)
        metrics = parse("metrics", row[3], list)
        extra = parse("extra", row[4], dict)
        internal = parse("internal", row[5], dict, nullable=True)
        try:
            if isinstance(tid, bool) or not isinstance(tid, int) or tid < 0:
                raise TypeError(f"trial_id must be a non-negative int, got {tid!r}")
            history = []
            for entry in metrics:
                if not isinstance(entry, dict):
                    raise TypeError(f"metrics entries must be objects, got {entry!r}")
                history.append({str(k): metric_value(v) for k, v in entry.items()})
            for column, value, kinds in (
                ("error", row[6], (str, type(None))),
                ("worker", row[7], (str, type(None))),
                ("attempts", row[8], (int,)),
                ("started_at", row[9], (int, float, type(None))),
                ("finished_at", row[10], (int, float, type(None))),
            ):
                if not isinstance(value, kinds) or isinstance(value, bool):
                    raise TypeError(f"column {column} has an invalid value {value!r}")
            return TrialRecord(
                trial_id=tid,
                state=TrialState(row[1]),
                config=config,
                metrics=history,
                extra=extra,
                internal=internal,
                error=row[6],
                worker=row[7],
                attempts=row[8],
                started_at=row[9],
                finished_at=row[10],
            )
        except (TypeError, ValueError) as exc:
            raise StorageError(f"study {study!r}, trial {tid}: {exc}") from None
