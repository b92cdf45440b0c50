"""``PostgresStorage``: hposampler's storage protocol on a PostgreSQL server (psycopg 3).

Tables (schema version 3 of this plugin), created on first use (tables of
versions 1 and 2 are upgraded in place)::

    hposampler_schema(version)
    hposampler_studies(name PRIMARY KEY, definition, created_at, revision, user_attrs)
    hposampler_trials(study, trial_id, state, config, metrics, extra, internal, error,
                      worker, attempts, started_at, finished_at, driver, heartbeat_at,
                      intermediate, user_attrs, revision, updated_at)

JSON columns are ``TEXT`` holding exactly what the core's encoder wrote, and every
row read back goes through the core's validation
(:func:`hposampler.storage.record_from_row`). Each trial write increments the
study's ``revision`` and stamps the row with it in one transaction, sent in one
round trip (a psycopg pipeline); the study's row lock that takes serialises its
writers for just that long, so revisions commit in order and a worker that reads
"rows after revision r" misses nothing.

When the connection is lost (the server restarts, a network blip, a fail-over),
every operation reconnects with a bounded exponential back-off and runs again;
it gives up with one :class:`~hposampler.errors.StorageError` line after
``reconnect_wait`` seconds (default :data:`RECONNECT_WAIT`; set it with the
``reconnect_wait`` URL parameter, e.g. ``postgresql://host/db?reconnect_wait=300``).
A write whose ``COMMIT`` was cut off may or may not have been applied, so each
write is idempotent when run again: an update stores the same values, and a
retried insert or claim that finds its own row in place counts as done.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import psycopg

from hposampler.errors import StorageError, StudyError
from hposampler.samplers.trial import TrialState
from hposampler.storage import (
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

__all__ = ["RECONNECT_WAIT", "SCHEMA_VERSION", "PostgresStorage"]

SCHEMA_VERSION = 3

#: Seconds an operation keeps reconnecting after the connection is lost.
RECONNECT_WAIT = 60.0

#: First and longest pause between reconnection attempts (seconds; doubling).
_FIRST_PAUSE, _LONGEST_PAUSE = 0.1, 5.0

_T = TypeVar("_T")

logger = logging.getLogger("hposampler.storage.postgresql")

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS hposampler_schema (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS hposampler_studies (
        name TEXT PRIMARY KEY,
        definition TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        revision BIGINT NOT NULL DEFAULT 0,
        user_attrs TEXT NOT NULL DEFAULT '{}'
    )""",
    """CREATE TABLE IF NOT EXISTS hposampler_trials (
        study TEXT NOT NULL REFERENCES hposampler_studies(name),
        trial_id BIGINT NOT NULL,
        state INTEGER NOT NULL,
        config TEXT NOT NULL,
        metrics TEXT NOT NULL,
        extra TEXT NOT NULL,
        internal TEXT,
        error TEXT,
        worker TEXT,
        attempts INTEGER NOT NULL,
        started_at DOUBLE PRECISION,
        finished_at DOUBLE PRECISION,
        driver TEXT,
        heartbeat_at DOUBLE PRECISION,
        intermediate TEXT NOT NULL DEFAULT '[]',
        user_attrs TEXT NOT NULL DEFAULT '{}',
        revision BIGINT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (study, trial_id)
    )""",
    "CREATE INDEX IF NOT EXISTS hposampler_trials_by_revision "
    "ON hposampler_trials (study, revision)",
    "CREATE INDEX IF NOT EXISTS hposampler_trials_by_state ON hposampler_trials (study, state)",
    # workers' leases (see heartbeat): added without a new schema version, earlier
    # releases ignore the table
    """CREATE TABLE IF NOT EXISTS hposampler_leases (
        study TEXT NOT NULL,
        driver TEXT NOT NULL,
        heartbeat_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (study, driver)
    )""",
]

_LEASE = (
    "INSERT INTO hposampler_leases (study, driver, heartbeat_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (study, driver) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at"
)

#: Serialises schema creation between processes (``pg_advisory_xact_lock`` key).
_SCHEMA_LOCK = 0x6870_6F73  # "hpos"

_COLUMNS = ", ".join(TRIAL_COLUMNS)

#: Each column's type, for the parameters of ``INSERT ... SELECT`` (which cannot infer them).
_TYPES = dict(
    trial_id="bigint", state="integer", config="text", metrics="text", extra="text",
    internal="text", error="text", worker="text", attempts="integer",
    started_at="double precision", finished_at="double precision", driver="text",
    heartbeat_at="double precision", intermediate="text", user_attrs="text",
)  # fmt: skip

#: Takes the study's row lock (held to the end of the transaction, so revisions commit
#: in order) and moves its revision on; the write after it reads the new value.
_BUMP = "UPDATE hposampler_studies SET revision = revision + 1 WHERE name = %s"
_REVISION = "(SELECT revision FROM hposampler_studies WHERE name = %s)"

#: Trials counting towards the total (ids are dense: the largest id counts the rows).
_COUNTED = (
    "(SELECT coalesce(max(trial_id) + 1, 0) FROM hposampler_trials WHERE study = %s) - "
    "(SELECT count(*) FROM hposampler_trials WHERE study = %s AND state = "
    f"{int(TrialState.PRUNED_DUPLICATE)})"
)
_INSERT = (
    f"INSERT INTO hposampler_trials (study, {_COLUMNS}, revision, updated_at) "
    f"SELECT %s::text, {', '.join(f'%s::{_TYPES[c]}' for c in TRIAL_COLUMNS)}, {_REVISION}, "
    "%s::double precision "
    "WHERE EXISTS (SELECT 1 FROM hposampler_studies WHERE name = %s) "
    f"AND (%s::bigint IS NULL OR {_COUNTED} < %s::bigint) "
    "ON CONFLICT (study, trial_id) DO NOTHING"
)
_UPDATE = (
    f"UPDATE hposampler_trials SET {', '.join(f'{c} = %s' for c in TRIAL_COLUMNS[1:])}, "
    f"revision = {_REVISION}, updated_at = %s WHERE study = %s AND trial_id = %s"
)
_CLAIM = _UPDATE + "".join(f" AND {c} IS NOT DISTINCT FROM %s::{_TYPES[c]}" for c in CLAIM_COLUMNS)


def _masked(url: str, text: str | None = None) -> str:
    """``text`` (default: the URL) with the URL's password(s) replaced by ``***``."""
    return mask_url(url, text)


def _one_line(text: str) -> str:
    """libpq's multi-line messages ("... Is the server running ...?") on one line."""
    return "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())


class _QuietBrokenPipeline(logging.Filter):
    """Drop psycopg's "error ignored terminating <Pipeline [BAD]>" warning: it comes
    from a connection lost mid-pipeline, which this storage reports and reconnects."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error ignored terminating")


logging.getLogger("psycopg").addFilter(_QuietBrokenPipeline())


def _check_url(url: str) -> None:
    """Refuse a URL libpq would misread, before it is sent anywhere.

    Raises
    ------
    StorageError
        For an ``@`` left unencoded in the user name or password (libpq would
        take the rest for a host name and look it up), or a URL that does not
        parse (a bracket left open, a port that is not a number).
    """
    authority = url.partition("://")[2].partition("/")[0].partition("?")[0]
    if authority.count("@") > 1:
        raise StorageError(
            f"{_masked(url)}: the user name or password holds an '@', so the host cannot "
            "be told from it; write each '@' in them as %40 "
            "(postgresql://user:p%40ss@host/db)"
        )
    try:
        unquote(url, errors="strict")  # libpq decodes %xx escapes as UTF-8 text
        urlsplit(url).port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:  # UnicodeDecodeError is one
        raise StorageError(
            f"{_masked(url)} is not a valid URL ({exc}); write it as "
            "postgresql://user:password@host:port/database"
        ) from None


def _split_options(url: str) -> tuple[str, float | None]:
    """``url`` without hposampler's own query parameter, and that parameter's value."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = [v for k, v in query if k == "reconnect_wait"]
    if not ours:
        return url, None
    rest = urlencode([(k, v) for k, v in query if k != "reconnect_wait"])
    try:
        wait = float(ours[-1])
    except ValueError:
        wait = -1.0
    if not wait >= 0 or wait == float("inf"):
        raise StorageError(
            f"reconnect_wait={ours[-1]!r} in {_masked(url)} is not a number of seconds; "
            "give a finite number >= 0 (0: never reconnect)"
        )
    base = url.partition("?")[0]  # not urlunsplit: it drops the // of a URL with no host
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return base + (f"?{rest}" if rest else "") + fragment, wait


class PostgresStorage:
    """Studies in a PostgreSQL database; any number of workers on any machines.

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/database`` (libpq's URL syntax;
        ``postgres://`` works too). The tables are created on first use. The
        query parameter ``reconnect_wait=SECONDS`` is hposampler's own (it
        overrides ``reconnect_wait``); every other one goes to libpq.
    reconnect_wait : float, optional
        Seconds each operation keeps reconnecting after the connection is lost,
        before it gives up with a :class:`StorageError` (default
        :data:`RECONNECT_WAIT`; ``0`` gives up at once).

    Raises
    ------
    StorageError
        When the server cannot be reached or the tables have another schema version.
    """

    def __init__(self, url: str, *, reconnect_wait: float | None = None) -> None:
        _check_url(url)
        self.url = _masked(url)
        self._raw_url = url
        url, from_url = _split_options(url)
        chosen = from_url if from_url is not None else reconnect_wait
        self.reconnect_wait = RECONNECT_WAIT if chosen is None else float(chosen)
        self._conninfo = "postgresql://" + url.split("://", 1)[1]
        self._lock = threading.RLock()
        try:
            self._db = self._connect()
        except psycopg.Error as exc:
            detail = _one_line(_masked(self._raw_url, str(exc)))  # libpq may echo the URL
            raise StorageError(
                f"cannot connect to PostgreSQL at {self.url}: {detail}; check "
                "the host, port, user, password and database in the URL"
            ) from None
        try:
            self._setup()
        except psycopg.errors.ReadOnlySqlTransaction:
            self._db.close()
            raise StorageError(
                f"{self.url} has no hposampler tables of schema {SCHEMA_VERSION} yet and takes "
                "no writes (a hot standby, or default_transaction_read_only is on); open it "
                "once on the primary, which creates them"
            ) from None
        except psycopg.errors.InsufficientPrivilege as exc:
            self._db.close()
            first = _masked(url, str(exc).strip().splitlines()[0])
            raise StorageError(
                f"the PostgreSQL role of {self.url} may not create hposampler's tables "
                f"({first}); grant it CREATE on the schema (GRANT CREATE ON SCHEMA public "
                "TO <role>), or let a role that may create them open the database once"
            ) from None

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self._conninfo, autocommit=True, connect_timeout=30)

    def _run(self, op: Callable[[psycopg.Connection[Any], bool], _T]) -> _T:
        """``op(connection, retried)``, run again on a fresh connection when it is lost.

        ``retried`` tells a write that an earlier run may have committed. The
        back-off doubles from 0.1 s up to 5 s; past ``reconnect_wait`` seconds a
        :class:`StorageError` names the server and what to do.
        """
        with self._lock:
            retried, deadline, pause = False, None, _FIRST_PAUSE
            while True:
                try:
                    return op(self._db, retried)
                except psycopg.errors.ReadOnlySqlTransaction:
                    raise StorageError(
                        f"PostgreSQL at {self.url} takes no writes (a hot standby, or "
                        "default_transaction_read_only is on): reading commands (show, "
                        "export, studies) work; run and change studies on the primary"
                    ) from None
                except psycopg.errors.InsufficientPrivilege as exc:
                    first = _masked(self._raw_url, str(exc).strip().splitlines()[0])
                    raise StorageError(
                        f"the PostgreSQL role of {self.url} may not write hposampler's tables "
                        f"({first}); reading commands (show, export, studies) work; to run "
                        "studies, GRANT SELECT, INSERT, UPDATE, DELETE ON hposampler_studies, "
                        "hposampler_trials, hposampler_leases TO <role>"
                    ) from None
                except psycopg.OperationalError as exc:
                    if not (self._db.closed or self._db.broken):
                        raise  # the server answered: not a lost connection
                    first = _masked(self._raw_url, str(exc).strip().splitlines()[0])
                if deadline is None and self.reconnect_wait > 0:
                    logger.warning(
                        "lost the connection to PostgreSQL at %s (%s); reconnecting for up to "
                        "%g s", self.url, first, self.reconnect_wait,
                    )  # fmt: skip
                deadline = deadline or time.monotonic() + self.reconnect_wait
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise StorageError(
                            f"lost the connection to PostgreSQL at {self.url} ({first}) and "
                            f"could not reconnect within {self.reconnect_wait:g} s; once the "
                            "server is back, resume the study (`hposampler run --resume`, "
                            "or optimize() again): its finished trials are stored and the "
                            "trials in flight are run again. Allow a longer outage with "
                            "?reconnect_wait=SECONDS in the URL"
                        ) from None
                    time.sleep(min(pause, left))
                    pause = min(pause * 2, _LONGEST_PAUSE)
                    try:
                        self._db = self._connect()
                        logger.warning("reconnected to PostgreSQL at %s", self.url)
                        break
                    except psycopg.OperationalError as exc:
                        first = _masked(self._raw_url, str(exc).strip().splitlines()[0])
                retried = True

    def _current(self) -> bool:
        """Whether this version's tables exist already (then nothing is created, so a
        read-only server or a SELECT-only role can read)."""
        found = self._db.execute(
            "SELECT to_regclass('hposampler_schema'), to_regclass('hposampler_studies'), "
            "to_regclass('hposampler_trials'), to_regclass('hposampler_leases')"
        ).fetchone()
        if found is None or any(table is None for table in found[:3]):
            return False
        rows = self._db.execute("SELECT version FROM hposampler_schema").fetchall()
        if [tuple(r) for r in rows] != [(SCHEMA_VERSION,)]:
            return False
        if found[3] is None:  # made by an earlier release: add the leases if we may
            refused = (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)
            with contextlib.suppress(*refused):  # reading needs none; a worker would say so
                self._db.execute(_SCHEMA[-1])
        return True

    def _setup(self) -> None:
        if self._current():
            return
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                self._db.execute(statement)
            rows = self._db.execute("SELECT version FROM hposampler_schema").fetchall()
            if rows and rows[0][0] == 1:  # version 1 -> 2: intermediate reports (pruning)
                self._db.execute(
                    "ALTER TABLE hposampler_trials "
                    "ADD COLUMN IF NOT EXISTS intermediate TEXT NOT NULL DEFAULT '[]'"
                )
                self._db.execute("UPDATE hposampler_schema SET version = 2")
                rows = [(2,)]
            if rows and rows[0][0] == 2:  # version 2 -> 3: user attributes
                for table in ("hposampler_trials", "hposampler_studies"):
                    self._db.execute(
                        f"ALTER TABLE {table} "
                        "ADD COLUMN IF NOT EXISTS user_attrs TEXT NOT NULL DEFAULT '{}'"
                    )
                self._db.execute("UPDATE hposampler_schema SET version = 3")
                rows = [(3,)]
            if not rows:
                self._db.execute(
                    "INSERT INTO hposampler_schema (version) VALUES (%s)", (SCHEMA_VERSION,)
                )
            elif rows[0][0] != SCHEMA_VERSION:
                raise StorageError(
                    f"{self.url} holds hposampler tables of schema version {rows[0][0]}; "
                    f"this hposampler-postgresql reads version {SCHEMA_VERSION}. Upgrade "
                    "the plugin or use another database."
                )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def _transaction(self, db: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
        with db.transaction():
            yield db

    # -- studies ------------------------------------------------------------------

    def study_names(self) -> list[str]:
        """Names of the stored studies, oldest first."""

        def op(db: psycopg.Connection[Any], retried: bool) -> list[str]:
            rows = db.execute("SELECT name FROM hposampler_studies ORDER BY created_at")
            return [r[0] for r in rows.fetchall()]

        return self._run(op)

    def has_study(self, name: str) -> bool:
        """Whether a study called ``name`` exists."""

        def op(db: psycopg.Connection[Any], retried: bool) -> bool:
            row = db.execute("SELECT 1 FROM hposampler_studies WHERE name = %s", (name,))
            return row.fetchone() is not None

        return self._run(op)

    def create_study(self, name: str, definition: Mapping[str, Any]) -> None:
        """Store a new study; :class:`StudyError` if the name is taken (also by a race)."""
        text = dumps(dict(definition))

        def op(db: psycopg.Connection[Any], retried: bool) -> bool:
            cursor = db.execute(
                "INSERT INTO hposampler_studies (name, definition, created_at) "
                "VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING",
                (name, text, time.time()),
            )
            if cursor.rowcount == 1:
                return True
            if not retried:
                return False
            row = db.execute(  # our first INSERT may have committed before the loss
                "SELECT definition, revision FROM hposampler_studies WHERE name = %s", (name,)
            ).fetchone()
            return row is not None and row[0] == text and int(row[1]) == 0

        if not self._run(op):
            raise StudyError(
                f"study {name!r} already exists in {self.url}; load it (Study.load, or "
                "`hposampler run --resume`) or choose another name"
            )

    def delete_study(self, name: str, check: HoldersCheck | None = None) -> int:
        """Delete a study, its trials and leases (one transaction); returns the number of
        trials deleted. ``check(holders)`` runs first, inside it, with the study's row
        locked (every trial write and heartbeat takes that lock, so none comes in
        between); :class:`StudyError` if there is no such study."""

        def op(db: psycopg.Connection[Any], retried: bool) -> int | None:
            with self._transaction(db):
                found = db.execute(
                    "SELECT 1 FROM hposampler_studies WHERE name = %s FOR UPDATE", (name,)
                ).fetchone()
                if found is None:
                    return 0 if retried else None  # a retried delete may find it gone
                if check is not None:
                    check(self._holders(db, name))
                trials = db.execute("DELETE FROM hposampler_trials WHERE study = %s", (name,))
                db.execute("DELETE FROM hposampler_leases WHERE study = %s", (name,))
                db.execute("DELETE FROM hposampler_studies WHERE name = %s", (name,))
                return int(trials.rowcount)

        deleted = self._run(op)
        if deleted is None:
            raise StudyError(f"no study {name!r} in {self.url}")
        return deleted

    @staticmethod
    def _holders(db: psycopg.Connection[Any], study: str) -> dict[str, float | None]:
        """Every lease's driver and every RUNNING trial's, with its latest heartbeat."""
        rows = db.execute(
            "SELECT driver, coalesce(heartbeat_at, started_at) FROM hposampler_trials "
            "WHERE study = %s AND state = 0 AND driver IS NOT NULL "
            "UNION ALL SELECT driver, heartbeat_at FROM hposampler_leases WHERE study = %s",
            (study, study),
        ).fetchall()
        return holders_from_rows(rows)

    def update_definition(self, name: str, definition: Mapping[str, Any]) -> None:
        """Replace a study's definition (e.g. when switching sampler)."""
        text = dumps(dict(definition))

        def op(db: psycopg.Connection[Any], retried: bool) -> None:
            db.execute(
                "UPDATE hposampler_studies SET definition = %s WHERE name = %s", (text, name)
            )

        self._run(op)

    def user_attrs(self, study: str) -> dict[str, Any]:
        """The study's own user attributes."""

        def op(db: psycopg.Connection[Any], retried: bool) -> Any:
            return db.execute(
                "SELECT user_attrs FROM hposampler_studies WHERE name = %s", (study,)
            ).fetchone()

        row = self._run(op)
        if row is None:
            raise StudyError(f"no study {study!r} in {self.url}")
        return parse_user_attrs(study, row[0])

    def set_user_attr(self, study: str, key: str, value: Any) -> None:
        """Set one user attribute of the study (one statement; idempotent when retried)."""
        text = dumps({key: value})

        def op(db: psycopg.Connection[Any], retried: bool) -> int:
            return int(db.execute(
                "UPDATE hposampler_studies SET user_attrs = "
                "(user_attrs::jsonb || %s::jsonb)::text WHERE name = %s",
                (text, study),
            ).rowcount)  # fmt: skip

        if self._run(op) != 1:
            raise StudyError(f"no study {study!r} in {self.url}")

    def load_definition(self, name: str) -> dict[str, Any]:
        """The JSON definition of a study (parsed, validated by the caller)."""

        def op(db: psycopg.Connection[Any], retried: bool) -> Any:
            return db.execute(
                "SELECT definition FROM hposampler_studies WHERE name = %s", (name,)
            ).fetchone()

        row = self._run(op)
        if row is None:
            known = ", ".join(self.study_names()) or "none"
            raise StudyError(f"no study {name!r} in {self.url} (studies: {known})")
        return parse_definition(name, row[0])

    # -- trials -------------------------------------------------------------------

    @staticmethod
    def _write(db: psycopg.Connection[Any], study: str, statement: str, args: Any) -> int:
        """The study's revision moved on, then ``statement``, in one transaction sent in
        one round trip (a pipeline); the rows ``statement`` changed.

        The study's row lock is held only while the server runs the two statements.
        """
        with db.pipeline(), db.transaction():
            db.execute(_BUMP, (study,))
            cursor = db.execute(statement, args)
        return int(cursor.rowcount)

    def _stored_is(self, db: psycopg.Connection[Any], study: str, record: TrialRecord) -> bool:
        """Whether the stored row of ``record``'s id is ``record`` (a retried write landed)."""
        row = db.execute(
            f"SELECT {_COLUMNS} FROM hposampler_trials WHERE study = %s AND trial_id = %s",
            (study, record.trial_id),
        ).fetchone()
        return row is not None and tuple(row) == tuple(record_to_row(record))

    def create_trial(self, study: str, record: TrialRecord, limit: int | None = None) -> bool:
        """Insert a new trial; ``False`` (nothing written) if its id is taken or, with
        ``limit``, the study already holds that many counted trials."""
        values = record_to_row(record)

        def op(db: psycopg.Connection[Any], retried: bool) -> bool:
            args = (study, *values, study, time.time(), study, limit, study, study, limit)
            if self._write(db, study, _INSERT, args) == 1:
                return True
            return retried and self._stored_is(db, study, record)

        created = self._run(op)
        if not created and not self.has_study(study):
            raise StudyError(f"no study {study!r} in {self.url}")
        return created

    def claim_trial(self, study: str, record: TrialRecord, expected: TrialRecord) -> bool:
        """Store ``record`` if the stored row still matches ``expected`` (compare and set,
        in the ``WHERE`` clause of the ``UPDATE``)."""
        row = record_to_row(record)

        def op(db: psycopg.Connection[Any], retried: bool) -> bool:
            args = (*row[1:], study, time.time(), study, record.trial_id, *claim_key(expected))
            if self._write(db, study, _CLAIM, args) == 1:
                return True
            return retried and self._stored_is(db, study, record)

        return self._run(op)

    def heartbeat(self, study: str, driver: str, when: float) -> None:
        """Set ``heartbeat_at`` of every RUNNING trial of ``driver`` and renew its lease
        (one transaction, one round trip)."""
        statement = (
            f"UPDATE hposampler_trials SET heartbeat_at = %s, revision = {_REVISION} "
            "WHERE study = %s AND driver = %s AND state = 0"
        )

        def op(db: psycopg.Connection[Any], retried: bool) -> None:
            with db.pipeline(), db.transaction():
                db.execute(_BUMP, (study,))
                db.execute(statement, (when, study, study, driver))
                db.execute(_LEASE, (study, driver, when))

        self._run(op)

    def release(self, study: str, driver: str) -> None:
        """Drop ``driver``'s lease on the study."""

        def op(db: psycopg.Connection[Any], retried: bool) -> None:
            db.execute(
                "DELETE FROM hposampler_leases WHERE study = %s AND driver = %s", (study, driver)
            )

        self._run(op)

    def changes(self, study: str, after_revision: int, driver: str) -> tuple[int, bool]:
        """``(revision, foreign)`` over the trials written after ``after_revision``."""

        def op(db: psycopg.Connection[Any], retried: bool) -> Any:
            return db.execute(
                "SELECT max(revision), count(*) FILTER (WHERE driver IS DISTINCT FROM %s) "
                "FROM hposampler_trials WHERE study = %s AND revision > %s",
                (driver, study, after_revision),
            ).fetchone()

        row = self._run(op)
        if row is None or row[0] is None:
            return after_revision, False
        return int(row[0]), bool(row[1])

    def revision(self, study: str) -> int:
        """The study's write counter."""

        def op(db: psycopg.Connection[Any], retried: bool) -> Any:
            return db.execute(
                "SELECT revision FROM hposampler_studies WHERE name = %s", (study,)
            ).fetchone()

        row = self._run(op)
        return 0 if row is None else int(row[0])

    def load_trials(self, study: str, after_revision: int | None = None) -> list[TrialRecord]:
        """The study's trials (those written after ``after_revision``), validated, by id."""
        query = f"SELECT {_COLUMNS} FROM hposampler_trials WHERE study = %s"
        args: tuple[Any, ...] = (study,)
        if after_revision is not None:
            query += " AND revision > %s"
            args += (after_revision,)

        def op(db: psycopg.Connection[Any], retried: bool) -> list[Any]:
            return db.execute(query + " ORDER BY trial_id", args).fetchall()

        return [record_from_row(study, row) for row in self._run(op)]
