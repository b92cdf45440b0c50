"""Embedded SQLite storage for studies: JSON columns, validated on load, never executed.

Layout (schema version 4)::

    schema_version(version)
    studies(name PRIMARY KEY, definition JSON, created_at, revision, user_attrs JSON)
    trials(study, trial_id, state, config JSON, metrics JSON, extra JSON, internal JSON,
           error, worker, attempts, started_at, finished_at, driver, heartbeat_at,
           intermediate JSON, user_attrs JSON, revision, updated_at)

The database runs in WAL mode; every write is one statement and its own committed
transaction, so a killed process loses at most the state change it was making.
Each trial write stamps the row with the study's next ``revision`` (one more than
its newest row's, computed inside the statement, which holds the write lock from
its first step): several processes can share a study, and each finds out what
the others wrote by reading only rows newer than the revision it last saw. (The
``studies.revision`` column of schema 2 is no longer written.) Every
row read back is validated (:func:`~hposampler.storage.base.record_from_row`); a
row that does not validate raises :class:`~hposampler.errors.StorageError`
naming the study, the trial and the column. Files of versions 1 to 3 are upgraded
in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from hposampler.errors import StorageError, StudyError
from hposampler.samplers.trial import TrialState
from hposampler.storage.base import (
    CLAIM_COLUMNS,
    TRIAL_COLUMNS,
    HoldersCheck,
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

__all__ = ["SCHEMA_VERSION", "SQLiteStorage", "resolve_sqlite_path"]

SCHEMA_VERSION = 4

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created_at REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    user_attrs TEXT NOT NULL DEFAULT '{}'
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
    driver TEXT,
    heartbeat_at REAL,
    intermediate TEXT NOT NULL DEFAULT '[]',
    user_attrs TEXT NOT NULL DEFAULT '{}',
    revision INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    PRIMARY KEY (study, trial_id)
);
CREATE INDEX IF NOT EXISTS trials_by_revision ON trials (study, revision);
CREATE INDEX IF NOT EXISTS trials_by_state ON trials (study, state);
"""

#: Indexes files written by earlier releases lack (added when the file is opened).
_INDEXES = "CREATE INDEX IF NOT EXISTS trials_by_state ON trials (study, state)"

#: Workers' leases on their studies (see ``heartbeat``), added when a file is opened
#: for writing: earlier releases ignore the table, so the schema version stays.
_LEASES = """CREATE TABLE IF NOT EXISTS leases (
    study TEXT NOT NULL,
    driver TEXT NOT NULL,
    heartbeat_at REAL NOT NULL,
    PRIMARY KEY (study, driver)
)"""

# version 1 -> 2: multi-worker columns
_UPGRADE_1 = """
ALTER TABLE studies ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN driver TEXT;
ALTER TABLE trials ADD COLUMN heartbeat_at REAL;
ALTER TABLE trials ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS trials_by_revision ON trials (study, revision);
UPDATE schema_version SET version = 2;
"""

# version 2 -> 3: intermediate reports (pruning)
_UPGRADE_2 = """
ALTER TABLE trials ADD COLUMN intermediate TEXT NOT NULL DEFAULT '[]';
UPDATE schema_version SET version = 3;
"""

# version 3 -> 4: user attributes of trials and studies
_UPGRADE_3 = """
ALTER TABLE trials ADD COLUMN user_attrs TEXT NOT NULL DEFAULT '{}';
ALTER TABLE studies ADD COLUMN user_attrs TEXT NOT NULL DEFAULT '{}';
UPDATE schema_version SET version = 4;
"""

#: How long a process waits for another one's write lock before giving up.
BUSY_TIMEOUT_S = 60.0


def resolve_sqlite_path(storage: str | os.PathLike[str]) -> Path:
    """Turn ``"sqlite:///path"`` or a plain path into a :class:`~pathlib.Path`."""
    text = os.fspath(storage)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        raise StudyError(
            f"unsupported storage {mask_url(text)!r}: give a file path or sqlite:///path/to/file.db"
        )
    _check_file_name(text)
    return Path(text).expanduser()


def _check_file_name(text: str) -> None:
    """Refuse names SQLite would take for something else, or that make odd files.

    Raises
    ------
    StudyError
        For ``:memory:`` and blank names (nothing would be kept), SQLite's own
        ``file:`` URIs and ``?`` options, control characters, and names that
        start or end with a space.
    """
    shown = repr(text) if len(text) <= 120 else repr(text[:100] + "...")
    if text in ("", ":memory:") or not text.strip():
        raise StudyError(
            f"storage {shown} keeps nothing once the process ends; hposampler stores a "
            "study to keep it: give a file path (a scratch one such as /tmp/scratch.db is fine)"
        )
    if text.startswith("file:") or "?" in text:
        raise StudyError(
            f"storage {shown} is written as an SQLite URI; give the file's path only "
            "(x.db, or sqlite:///x.db): hposampler opens it read-only itself where it "
            "only reads"
        )
    if not text.isprintable():
        raise StudyError(
            f"storage {shown} holds a control character (newline, tab, ...); give a "
            "printable file path"
        )
    if text != text.strip():
        raise StudyError(
            f"storage {shown} starts or ends with a space; give the file path without it"
        )


def _writable(path: Path) -> bool:
    """Whether SQLite can write ``path`` and its folder (the WAL files live beside it)."""
    folder = path.parent if str(path.parent) else Path(".")
    return os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _stored_int(value: Any, table: str, column: str, study: str | None = None) -> int:
    """An integer column as stored; a tampered value is a one-line :class:`StorageError`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    where = f"table {table}, column {column}" + (f" (study {study!r})" if study else "")
    raise StorageError(
        f"{where} holds {value!r}, not an integer: the file was changed outside hposampler; "
        "restore a backup"
    )


def _refuse_foreign(path: Path, db: sqlite3.Connection) -> None:
    """Refuse a file that holds another program's tables (an Optuna database, ...).

    Raises
    ------
    StorageError
        Naming the program when it is Optuna, else the tables found.
    """
    tables = sorted(
        str(r[0])
        for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not str(r[0]).startswith("sqlite_")
    )
    if not tables:
        return
    if "alembic_version" in tables or {"trial_params", "trial_values"} <= set(tables):
        raise StorageError(
            f"{path} is an Optuna database, not a hposampler one: read it with Optuna "
            "(optuna-dashboard, optuna.load_study), and give hposampler a file of its own"
        )
    shown = ", ".join(tables[:8]) + (" ..." if len(tables) > 8 else "")
    raise StorageError(
        f"{path} holds another program's tables ({shown}), not hposampler's; give "
        "hposampler a file of its own"
    )


def _where_studies_are(path: Path) -> str:
    """A hint for a missing file: how to name the storage, and the SQLite files nearby."""
    near = sorted(p.name for p in path.parent.glob("*.db") if p.is_file())[:8]
    found = f"SQLite files in {path.parent}: {', '.join(near)}" if near else (
        f"no *.db file in {path.parent}"
    )  # fmt: skip
    return (
        "give the study's storage with --storage FILE.db (or sqlite:///path, "
        f"postgresql://...); {found}; `hposampler studies --storage FILE` lists its studies"
    )


class SQLiteStorage:
    """One SQLite file holding any number of studies; safe to share between processes.

    Parameters
    ----------
    path : str or path-like
        File path or ``sqlite:///path``; the file is created if missing.
    """

    def __init__(self, path: str | os.PathLike[str], read_only: bool = False) -> None:
        self.path = resolve_sqlite_path(path)
        self.url = f"sqlite:///{self.path}"
        self.read_only = read_only
        try:
            self._open(read_only)
        except OSError as exc:  # a name too long, a folder we may not enter, ...
            shown = str(self.path) if len(str(self.path)) <= 120 else f"{str(self.path)[:100]}..."
            raise StorageError(
                f"cannot open storage file {shown} ({len(str(self.path))} characters): "
                f"{exc.strerror or exc}; give a shorter path or another folder"
            ) from None

    def _open(self, read_only: bool) -> None:
        if read_only and not self.path.is_file():
            raise StudyError(
                f"storage file {self.path} does not exist; {_where_studies_are(self.path)}"
            )
        if self.path.parent and not self.path.parent.exists():
            raise StudyError(f"storage folder {self.path.parent} does not exist; create it first")
        try:
            if read_only:
                self._db = self._open_read_only()
            else:
                self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
                self._retry(self._setup)
            self._check_columns()
            self._opened_as = self._identity()
        except sqlite3.DatabaseError as exc:
            if not read_only and not _writable(self.path):
                raise StorageError(
                    f"{self.path} is read-only ({exc}): a study is written as it runs; copy "
                    "the file somewhere writable, or read it (hposampler show, export) as is"
                ) from None
            hint = ""
            if "malformed" in str(exc) or "not a database" in str(exc):
                hint = (
                    ": restore a backup, or recover what is left with "
                    f"`sqlite3 {self.path} .recover | sqlite3 recovered.db`"
                )
            raise StorageError(
                f"{self.path} is not a usable SQLite database: {exc}{hint}"
            ) from None

    def _open_read_only(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # a WAL file in a folder we cannot write to: read the file as it is
            db = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
        version = self._version_of(db)
        if version is None:
            _refuse_foreign(self.path, db)
        if version != SCHEMA_VERSION:
            found = "no hposampler tables" if version is None else f"schema version {version}"
            raise StorageError(
                f"{self.path} is not a hposampler database of schema {SCHEMA_VERSION} "
                f"({found}); open it read-write once to upgrade a file of an older version"
            )
        return db

    def _check_columns(self) -> None:
        """Refuse a file whose tables lack columns this version needs (e.g. tampered)."""
        for table, needed in (("studies", ("name", "definition", "created_at", "revision",
                                           "user_attrs")),
                              ("trials", (*TRIAL_COLUMNS, "revision", "updated_at"))):  # fmt: skip
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            missing = [c for c in needed if c not in have]
            if missing:
                raise StorageError(
                    f"{self.path} is not a hposampler database of schema {SCHEMA_VERSION}: "
                    f"table {table} lacks column(s) {', '.join(missing)}"
                )

    @staticmethod
    def _retry(action: Any) -> Any:
        """Run ``action``, retrying while another process holds a lock it cannot wait for."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.01
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _setup(self) -> None:
        # before anything is written, even the journal mode; in one read transaction,
        # so the tables and the version are one snapshot: read apart, a schema that
        # another process committed in between looked like another program's tables
        self._db.execute("BEGIN")
        try:
            if self._version() is None:
                _refuse_foreign(self.path, self._db)
        finally:
            self._db.execute("COMMIT")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._transaction():
            version = self._version()
            if version is None:
                _refuse_foreign(self.path, self._db)
            if version == 1:
                self._run_script(_UPGRADE_1)
                version = 2
            if version == 2:
                self._run_script(_UPGRADE_2)
                version = 3
            if version == 3:
                self._run_script(_UPGRADE_3)
            elif version is None:
                self._run_script(_SCHEMA)
                self._db.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
            elif version != SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path} has schema version {version}; this hposampler reads "
                    f"version {SCHEMA_VERSION}. Upgrade hposampler or use another file."
                )
            self._db.execute(_INDEXES)
            self._db.execute(_LEASES)

    def _run_script(self, script: str) -> None:
        # statement by statement: executescript() would commit the open transaction
        for statement in script.split(";"):
            if statement.strip():
                self._db.execute(statement)

    def _version(self) -> int | None:
        return self._version_of(self._db)

    @staticmethod
    def _version_of(db: sqlite3.Connection) -> int | None:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "schema_version" not in tables:
            return None
        rows = db.execute("SELECT version FROM schema_version").fetchall()
        return _stored_int(rows[0][0], "schema_version", "version") if rows else None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (``BEGIN IMMEDIATE``: writers queue for the lock)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

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
        """Store a new study; :class:`StudyError` if the name is taken (also by a race)."""
        try:
            self._retry(
                lambda: self._db.execute(
                    "INSERT INTO studies (name, definition, created_at) VALUES (?, ?, ?)",
                    (name, dumps(dict(definition)), time.time()),
                )
            )
        except sqlite3.OperationalError as exc:
            raise self._write_error(exc) from None
        except sqlite3.IntegrityError:
            raise StudyError(
                f"study {name!r} already exists in {self.path}; load it (Study.load, or "
                "`hposampler run --resume`) or choose another name"
            ) from None

    def delete_study(self, name: str, check: HoldersCheck | None = None) -> int:
        """Delete a study, its trials and leases in one transaction; returns the number
        of trials deleted. ``check(holders)`` runs inside it first (see
        :meth:`Storage.delete_study`); :class:`StudyError` if there is no such study."""

        def delete() -> int | None:
            if check is not None:
                check(self._holders(name))
            trials = self._db.execute("DELETE FROM trials WHERE study = ?", (name,)).rowcount
            self._db.execute("DELETE FROM leases WHERE study = ?", (name,))
            gone = self._db.execute("DELETE FROM studies WHERE name = ?", (name,)).rowcount
            return int(trials) if gone == 1 else None

        deleted = self._write(delete, transaction=True)
        if deleted is None:
            raise StudyError(f"no study {name!r} in {self.path}")
        return int(deleted)

    def _holders(self, study: str) -> dict[str, float | None]:
        """Every lease's driver and every RUNNING trial's, with its latest heartbeat."""
        return holders_from_rows(self._db.execute(
            "SELECT driver, coalesce(heartbeat_at, started_at) FROM trials "
            "WHERE study = ? AND state = 0 AND driver IS NOT NULL "
            "UNION ALL SELECT driver, heartbeat_at FROM leases WHERE study = ?",
            (study, study),
        ).fetchall())  # fmt: skip

    def update_definition(self, name: str, definition: Mapping[str, Any]) -> None:
        """Replace a study's definition (e.g. when switching sampler)."""
        try:
            self._db.execute(
                "UPDATE studies SET definition = ? WHERE name = ?",
                (dumps(dict(definition)), name),
            )
        except sqlite3.OperationalError as exc:
            raise self._write_error(exc) from None

    def user_attrs(self, study: str) -> dict[str, Any]:
        """The study's own user attributes."""
        row = self._db.execute("SELECT user_attrs FROM studies WHERE name = ?", (study,)).fetchone()
        if row is None:
            raise StudyError(f"no study {study!r} in {self.path}")
        return parse_user_attrs(study, row[0])

    def set_user_attr(self, study: str, key: str, value: Any) -> None:
        """Set one user attribute of the study (read and written in one transaction)."""
        text = dumps(value)

        def update() -> int:
            row = self._db.execute(
                "SELECT user_attrs FROM studies WHERE name = ?", (study,)
            ).fetchone()
            if row is None:
                return 0
            attrs_now = parse_user_attrs(study, row[0])
            attrs_now[key] = json.loads(text)
            return int(self._db.execute(
                "UPDATE studies SET user_attrs = ? WHERE name = ?", (dumps(attrs_now), study)
            ).rowcount)  # fmt: skip

        if self._write(update, transaction=True) != 1:
            raise StudyError(f"no study {study!r} in {self.path}")

    def load_definition(self, name: str) -> dict[str, Any]:
        """The JSON definition of a study (parsed, not yet validated)."""
        row = self._db.execute("SELECT definition FROM studies WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(self.study_names()) or "none"
            raise StudyError(f"no study {name!r} in {self.path} (studies: {known})")
        return parse_definition(name, row[0])

    # -- trials -------------------------------------------------------------------

    _COLUMNS = ", ".join(TRIAL_COLUMNS)
    #: The study's next revision: one more than the newest stamped row. A write
    #: statement holds the database's write lock from its first step, so two
    #: writers never compute the same value and revisions commit in order.
    _NEXT_REVISION = "(SELECT coalesce(max(revision), 0) + 1 FROM trials WHERE study = ?)"
    #: How many trials count towards a study's total (every id but duplicates; ids are
    #: dense, so the largest id says how many rows there are without counting them).
    _COUNTED = (
        "(SELECT coalesce(max(trial_id) + 1, 0) FROM trials WHERE study = ?) - "
        "(SELECT count(*) FROM trials WHERE study = ? AND state = "
        f"{int(TrialState.PRUNED_DUPLICATE)})"
    )
    _INSERT = (
        f"INSERT INTO trials (study, {_COLUMNS}, revision, updated_at) "
        f"SELECT {', '.join('?' * (len(TRIAL_COLUMNS) + 1))}, {_NEXT_REVISION}, ? "
        f"WHERE EXISTS (SELECT 1 FROM studies WHERE name = ?) AND (? IS NULL OR {_COUNTED} < ?) "
        "ON CONFLICT DO NOTHING"
    )
    _SET = ", ".join(f"{c} = ?" for c in TRIAL_COLUMNS[1:])
    _UPDATE = (
        f"UPDATE trials SET {_SET}, revision = {_NEXT_REVISION}, updated_at = ? "
        "WHERE study = ? AND trial_id = ?"
    )
    _CLAIM = _UPDATE + "".join(f" AND {column} IS ?" for column in CLAIM_COLUMNS)

    def _write(self, action: Any, transaction: bool = False) -> Any:
        """Run a write: one statement is its own transaction (a write statement holds
        the write lock from its first step); ``transaction=True`` wraps several."""

        def run() -> Any:
            if not transaction:
                return action()
            with self._transaction():
                return action()

        try:
            result = self._retry(run)
        except sqlite3.OperationalError as exc:
            raise self._write_error(exc) from None
        self._check_identity()
        return result

    def _identity(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def _check_identity(self) -> None:
        """After a commit: the file is still the one opened (not deleted, not replaced).

        SQLite keeps writing to a deleted file's open descriptor, so without this
        a study whose file was removed would seem to run fine and lose everything.

        Raises
        ------
        StorageError
            When the file at :attr:`path` is gone or is another file.
        """
        if self._identity() != self._opened_as:
            raise StorageError(
                f"the storage file {self.path} was deleted or replaced while the study ran; "
                "what was written since is not in the file at that path: restore it (or "
                "start again) and run with --resume"
            )

    def _write_error(self, exc: sqlite3.OperationalError) -> StorageError:
        text = str(exc)
        hint = ""
        if "readonly" in text:
            hint = " (is the file or its folder read-only?)"
        elif "disk is full" in text or getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
            hint = (
                "; the disk holding it has no space left: every trial stored so far is "
                "intact (the failed write was rolled back). Free some space, then run "
                "again with --resume: the trials that were running are run again"
            )
        return StorageError(f"cannot write to {self.path}: {text}{hint}")

    def create_trial(self, study: str, record: TrialRecord, limit: int | None = None) -> bool:
        """Insert a new trial (one statement); ``False`` (nothing written) if its id is
        taken or, with ``limit``, the study already holds ``limit`` counted trials.

        Raises
        ------
        StudyError
            If there is no such study.
        """
        row = record_to_row(record)
        args = (study, *row, study, time.time(), study, limit, study, study, limit)
        created = bool(self._write(lambda: self._db.execute(self._INSERT, args).rowcount) == 1)
        if not created and not self.has_study(study):
            raise StudyError(f"no study {study!r} in {self.path}")
        return created

    def claim_trial(self, study: str, record: TrialRecord, expected: TrialRecord) -> bool:
        """Store ``record`` if the stored row still matches ``expected`` (compare and set,
        in the ``WHERE`` clause of one ``UPDATE``)."""
        row = record_to_row(record)
        args = (*row[1:], study, time.time(), study, record.trial_id, *claim_key(expected))
        return bool(self._write(lambda: self._db.execute(self._CLAIM, args).rowcount) == 1)

    def heartbeat(self, study: str, driver: str, when: float) -> None:
        """Set ``heartbeat_at`` of every RUNNING trial of ``driver`` and renew its lease."""

        def beat() -> None:
            self._db.execute(
                f"UPDATE trials SET heartbeat_at = ?, revision = {self._NEXT_REVISION} "
                "WHERE study = ? AND driver = ? AND state = 0",
                (when, study, study, driver),
            )
            self._db.execute(
                "INSERT INTO leases (study, driver, heartbeat_at) VALUES (?, ?, ?) "
                "ON CONFLICT (study, driver) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                (study, driver, when),
            )

        self._write(beat)  # two statements, each its own transaction: no order matters

    def release(self, study: str, driver: str) -> None:
        """Drop ``driver``'s lease on the study (its worker has ended)."""
        self._write(
            lambda: self._db.execute(
                "DELETE FROM leases WHERE study = ? AND driver = ?", (study, driver)
            )
        )

    def revision(self, study: str) -> int:
        """The study's write counter: the revision of its newest write (0 before any)."""
        row = self._db.execute(
            "SELECT max(revision) FROM trials WHERE study = ?", (study,)
        ).fetchone()
        if row is None or row[0] is None:
            return 0
        return _stored_int(row[0], "trials", "revision", study)

    def changes(self, study: str, after_revision: int, driver: str) -> tuple[int, bool]:
        """``(revision, foreign)``: the study's revision, and whether any trial written
        after ``after_revision`` is not ``driver``'s own (one indexed query over just
        those rows)."""
        row = self._db.execute(
            "SELECT max(revision), coalesce(sum(driver IS NOT ?), 0) FROM trials "
            "WHERE study = ? AND revision > ?",
            (driver, study, after_revision),
        ).fetchone()
        if row is None or row[0] is None:
            return after_revision, False
        return _stored_int(row[0], "trials", "revision", study), bool(row[1])

    def load_trials(self, study: str, after_revision: int | None = None) -> list[TrialRecord]:
        """The study's trials (those written after ``after_revision``), validated, by id.

        Raises
        ------
        StorageError
            Naming the study, trial and column of the first invalid row.
        """
        query = f"SELECT {self._COLUMNS} FROM trials WHERE study = ?"
        args: tuple[Any, ...] = (study,)
        if after_revision is not None:
            query += " AND revision > ?"
            args += (after_revision,)
        rows = self._db.execute(query + " ORDER BY trial_id", args).fetchall()
        return [record_from_row(study, row) for row in rows]
