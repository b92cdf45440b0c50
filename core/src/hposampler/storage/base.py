"""What every storage holds and does: :class:`TrialRecord`, the :class:`Storage` protocol.

A storage is the source of truth of a study: the runner writes every state change
of a trial to it before acting on it, and reads trials back from it (validated)
when a study is loaded or resumed. Backends never need a copy of their own.

The JSON encoding and the validation of stored rows live here, once, so that
every storage (SQLite in the core, others from plugins) reads and writes the
same documents and rejects the same tampering.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from hposampler.errors import StorageError
from hposampler.samplers.trial import Trial, TrialState, metric_value

__all__ = [
    "CLAIM_COLUMNS",
    "MAX_JSON_CHARS",
    "HoldersCheck",
    "MAX_TRIAL_ID",
    "TRIAL_COLUMNS",
    "Storage",
    "TrialRecord",
    "claim_key",
    "dumps",
    "holders_from_rows",
    "mask_url",
    "url_secrets",
    "parse_definition",
    "parse_user_attrs",
    "record_from_row",
    "record_to_row",
]


#: ``check(holders)``: what :meth:`Storage.delete_study` calls inside its transaction
#: with ``{driver: latest heartbeat or None}``; it raises to refuse the deletion.
HoldersCheck = Callable[[Mapping[str, "float | None"]], None]


def holders_from_rows(rows: Iterable[Sequence[Any]]) -> dict[str, float | None]:
    """``{driver: latest heartbeat}`` from ``(driver, heartbeat)`` rows (leases and RUNNING
    trials), for :meth:`Storage.delete_study`'s check; a stored time that is not a
    finite number counts as unknown (``None``)."""
    holders: dict[str, float | None] = {}
    for driver, beat in rows:
        valid = isinstance(beat, (int, float)) and not isinstance(beat, bool)
        when = float(beat) if valid and math.isfinite(beat) else None
        times = (holders.get(str(driver)), when)
        holders[str(driver)] = max((t for t in times if t is not None), default=None)
    return holders


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
    driver : str or None
        ``host:pid:token`` of the study process (the runner) that owns the trial
        while it runs; several such workers may share a study.
    heartbeat_at : float or None
        When that runner last said the trial is alive (Unix time); a RUNNING trial
        whose runner is gone is taken over by another worker.
    intermediate : list of (int, dict)
        What the objective reported while it ran (``trial.report(step, metrics)``):
        ``(step, metrics)`` pairs, steps non-decreasing, stored as they happen.
    user_attrs : dict
        JSON values the user attached (``trial.set_user_attr(key, value)`` in the
        objective, or ``Study.enqueue(..., user_attrs=...)``).
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
    driver: str | None = None
    heartbeat_at: float | None = None
    intermediate: list[tuple[int, dict[str, float | None]]] = attrs.field(factory=list)
    user_attrs: dict[str, Any] = attrs.field(factory=dict)

    @property
    def last_step(self) -> int | None:
        """The step of the last intermediate report, if any."""
        return self.intermediate[-1][0] if self.intermediate else None

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


@runtime_checkable
class Storage(Protocol):
    """Where studies live; the runner's only source of truth.

    Every method is one committed transaction: a process killed at any point
    loses at most the change it was making. Implementations validate everything
    they read back (see :func:`record_from_row`) and never execute stored data.
    """

    #: How the storage is named in messages and by ``hposampler show``.
    url: str

    def study_names(self) -> list[str]:
        """Names of the stored studies, oldest first."""
        ...

    def has_study(self, name: str) -> bool:
        """Whether a study called ``name`` exists."""
        ...

    def create_study(self, name: str, definition: Mapping[str, Any]) -> None:
        """Store a new study; :class:`~hposampler.errors.StudyError` if the name is taken."""
        ...

    def load_definition(self, name: str) -> dict[str, Any]:
        """The JSON definition of a study (parsed, validated by the caller)."""
        ...

    def update_definition(self, name: str, definition: Mapping[str, Any]) -> None:
        """Replace a study's definition (e.g. when switching sampler)."""
        ...

    def delete_study(self, name: str, check: HoldersCheck | None = None) -> int:
        """Delete a study, its trials and its leases in one transaction; returns the
        number of trials deleted. :class:`~hposampler.errors.StudyError` if there is
        none.

        ``check(holders)``, when given, is called inside that transaction, before
        anything is deleted, with ``{driver: latest heartbeat}`` of every lease (see
        :meth:`heartbeat`) and of every RUNNING trial's driver (its heartbeat, else
        its start; ``None`` when unknown); an exception it raises rolls the
        transaction back and propagates. Workers cannot write in between, so a
        study is never deleted under a worker the check saw alive.
        """
        ...

    def create_trial(self, study: str, record: TrialRecord, limit: int | None = None) -> bool:
        """Insert a new trial atomically; ``False`` (nothing written) if its id is taken,
        or when ``limit`` is given and the study already holds that many trials that
        count towards its total (every state but ``PRUNED_DUPLICATE``).

        Ids are dense per study; a runner that finds its id taken (another
        worker stored it first) learns the new trials and samples again. The
        limit makes workers that share a study stop at exactly ``n_trials``.
        """
        ...

    def claim_trial(self, study: str, record: TrialRecord, expected: TrialRecord) -> bool:
        """Store ``record`` only if the stored trial still has ``expected``'s state, driver,
        attempts and heartbeat (compare and set); ``True`` if it was stored.

        Workers take over a trial (a stale RUNNING one, a WAITING one) with this,
        so exactly one of them wins.
        """
        ...

    def heartbeat(self, study: str, driver: str, when: float) -> None:
        """Set ``heartbeat_at`` of every RUNNING trial of ``driver``, and renew the
        driver's *lease* on the study (create it at ``when``): a worker between two
        trials runs none, and its lease is what shows it alive."""
        ...

    def release(self, study: str, driver: str) -> None:
        """Drop ``driver``'s lease on the study (its worker ended); no error if none."""
        ...

    def revision(self, study: str) -> int:
        """A counter every trial write of the study increases (in the same transaction),
        committed in order: a row committed later never has a smaller revision."""
        ...

    def changes(self, study: str, after_revision: int, driver: str) -> tuple[int, bool]:
        """``(revision, foreign)``: the study's current :meth:`revision`, and whether
        a trial written after ``after_revision`` was written by anyone but ``driver``
        (its ``driver`` column differs). One cheap query: a runner asks this before
        sampling and reloads rows only when ``foreign`` is true.
        """
        ...

    def user_attrs(self, study: str) -> dict[str, Any]:
        """The study's own user attributes (JSON values by key)."""
        ...

    def set_user_attr(self, study: str, key: str, value: Any) -> None:
        """Set one user attribute of the study (one committed transaction)."""
        ...

    def load_trials(self, study: str, after_revision: int | None = None) -> list[TrialRecord]:
        """The study's trials, validated, by id; with ``after_revision`` only those
        written after that :meth:`revision`."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


#: The largest trial id accepted on load (ids are dense; JSON-safe integers).
MAX_TRIAL_ID = 2**53

#: The longest JSON text a column (or a study definition) may hold when read back.
MAX_JSON_CHARS = 4 * 1024 * 1024

#: The columns of a stored trial, in the order :func:`record_to_row` gives them.
TRIAL_COLUMNS = (
    "trial_id",
    "state",
    "config",
    "metrics",
    "extra",
    "internal",
    "error",
    "worker",
    "attempts",
    "started_at",
    "finished_at",
    "driver",
    "heartbeat_at",
    "intermediate",
    "user_attrs",
)


#: The columns a compare-and-set (``claim_trial``) compares, and their values of a record.
CLAIM_COLUMNS = ("state", "driver", "attempts", "heartbeat_at")


def claim_key(record: TrialRecord) -> tuple[Any, ...]:
    """The values of :data:`CLAIM_COLUMNS` a stored row must still have for a claim."""
    return (int(record.state), record.driver, record.attempts, record.heartbeat_at)


_DECODE = json.JSONDecoder().decode


def _loads(text: Any, where: str) -> Any:
    """Parse stored JSON text of bounded size; :class:`StorageError` naming ``where``."""
    if isinstance(text, (str, bytes)) and len(text) > MAX_JSON_CHARS:
        raise StorageError(
            f"{where} holds {len(text)} characters, over the limit of {MAX_JSON_CHARS}; "
            "the database looks tampered with"
        )
    try:
        # str: the decoder itself, without json.loads' per-call checks (most reads)
        return _DECODE(text) if type(text) is str else json.loads(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise StorageError(f"{where} is not valid JSON ({exc})") from None


_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON; NaN and infinities are refused (JSON has none)."""
    return _ENCODER.encode(value)


#: JSON has no infinities: metrics store them as these strings (NaN is stored as null).
INFINITIES = {"Infinity": math.inf, "-Infinity": -math.inf}


def _encode_metric(value: float | None) -> float | str | None:
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _decode_metric(value: Any) -> float | None:
    if isinstance(value, str) and value in INFINITIES:
        return INFINITIES[value]
    return metric_value(value)


def _clean_metrics(metrics: list[dict[str, float | None]]) -> list[dict[str, Any]]:
    return [{k: _encode_metric(v) for k, v in m.items()} for m in metrics]


def _bounded(study: str | None, record: TrialRecord, column: str, text: str) -> str:
    if len(text) > MAX_JSON_CHARS:
        raise StorageError(
            f"trial {record.trial_id}: column {column} would hold {len(text)} characters, "
            f"over the limit of {MAX_JSON_CHARS} that a storage reads back; the config, "
            "metrics, extras or internal state are too large"
        )
    return text


def record_to_row(record: TrialRecord) -> tuple[Any, ...]:
    """The column values of :data:`TRIAL_COLUMNS` for a record (JSON columns as text).

    Raises
    ------
    StorageError
        If a JSON column would exceed :data:`MAX_JSON_CHARS` (it could not be read back).
    """
    row = _row(record)
    columns = (
        (2, "config"), (3, "metrics"), (4, "extra"), (5, "internal"), (13, "intermediate"),
        (14, "user_attrs"),
    )  # fmt: skip
    for index, column in columns:
        if row[index] is not None:
            _bounded(None, record, column, row[index])
    return row


def _row(record: TrialRecord) -> tuple[Any, ...]:
    return (
        record.trial_id,
        int(record.state),
        dumps(record.config),
        dumps(_clean_metrics(record.metrics)),
        dumps(record.extra),
        None if record.internal is None else dumps(record.internal),
        record.error,
        record.worker,
        record.attempts,
        record.started_at,
        record.finished_at,
        record.driver,
        record.heartbeat_at,
        dumps([[step, _clean_metrics([m])[0]] for step, m in record.intermediate]),
        dumps(record.user_attrs),
    )


def _stored_object(study: str, text: Any, what: str) -> dict[str, Any]:
    """JSON text holding an object, read back for ``study``; :class:`StorageError` if not."""
    data = _loads(text, f"study {study!r}: the stored {what}")
    if not isinstance(data, dict):
        raise StorageError(f"study {study!r}: the {what} must be a JSON object")
    return data


def parse_definition(name: str, text: Any) -> dict[str, Any]:
    """A study definition read back from a storage: JSON text holding an object.

    Raises
    ------
    StorageError
        Naming the study.
    """
    return _stored_object(name, text, "definition")


def parse_user_attrs(study: str, text: Any) -> dict[str, Any]:
    """A study's stored user attributes: JSON text holding an object.

    Raises
    ------
    StorageError
        Naming the study.
    """
    return _stored_object(study, text, "user attributes")


def _metric_history(metrics: list[Any]) -> list[dict[str, float | None]]:
    history = []
    for entry in metrics:
        if not isinstance(entry, dict):
            raise TypeError(f"metrics entries must be objects, got {entry!r}")
        history.append({str(k): _decode_metric(v) for k, v in entry.items()})
    return history


def _reports(reports: list[Any]) -> list[tuple[int, dict[str, float | None]]]:
    intermediate: list[tuple[int, dict[str, float | None]]] = []
    for entry in reports:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], dict)):
            raise TypeError(f"intermediate entries must be [step, object], got {entry!r}")
        step = entry[0]
        if isinstance(step, bool) or not isinstance(step, int):
            raise TypeError(f"intermediate steps must be ints, got {step!r}")
        if intermediate and step < intermediate[-1][0]:
            raise ValueError(f"intermediate steps must not decrease ({step} after "
                             f"{intermediate[-1][0]})")  # fmt: skip
        intermediate.append((step, {str(k): _decode_metric(v) for k, v in entry[1].items()}))
    return intermediate


#: The plain columns of a row: (name, position, accepted types).
_PLAIN_COLUMNS = (
    ("error", 6, (str, type(None))),
    ("worker", 7, (str, type(None))),
    ("attempts", 8, (int,)),
    ("started_at", 9, (int, float, type(None))),
    ("finished_at", 10, (int, float, type(None))),
    ("driver", 11, (str, type(None))),
    ("heartbeat_at", 12, (int, float, type(None))),
)


#: The latest time a stored time column may hold: the end of year 9999 (UTC), the last
#: instant a date can show.
LATEST_TIME = 253402300799.0


def _check_plain(row: Sequence[Any]) -> None:
    for column, position, kinds in _PLAIN_COLUMNS:
        value = row[position]
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise TypeError(f"column {column} has an invalid value {value!r}")
        if isinstance(value, (int, float)) and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"column {column} must be a finite number >= 0, got {value!r}")
        if column.endswith("_at") and isinstance(value, (int, float)) and value > LATEST_TIME:
            raise ValueError(
                f"column {column} holds {value!r}, a time after the year 9999 (seconds "
                "since 1970 are expected)"
            )


#: Stored texts of empty columns (most rows' ``extra``, ``intermediate``,
#: ``user_attrs``): built directly, without the JSON parser's per-call cost.
_EMPTY_JSON: dict[Any, Callable[[], Any]] = {"{}": dict, "[]": list}


def _json_column(study: str, tid: Any, column: str, value: Any, kind: type) -> Any:
    """A JSON column's value (text parsed here, or parsed by the driver), shape checked."""
    empty = _EMPTY_JSON.get(value) if type(value) is str else None
    if empty is not None:
        value = empty()
    elif isinstance(value, (str, bytes)):
        value = _loads(value, f"study {study!r}, trial {tid}: column {column}")
    if not isinstance(value, kind):
        raise StorageError(
            f"study {study!r}, trial {tid}: column {column} must hold a JSON "
            f"{'object' if kind is dict else 'array'}, got {type(value).__name__}"
        )
    return value


def record_from_row(study: str, row: Sequence[Any]) -> TrialRecord:
    """Validate one stored row (columns as in :data:`TRIAL_COLUMNS`) into a record.

    JSON columns may hold text (parsed here) or already-parsed values (a driver
    that decodes JSON itself); either way their shape is checked.

    Raises
    ------
    StorageError
        Naming the study, the trial and the column of the first problem.
    """
    tid = row[0]
    config = _json_column(study, tid, "config", row[2], dict)
    metrics = _json_column(study, tid, "metrics", row[3], list)
    extra = _json_column(study, tid, "extra", row[4], dict)
    internal = None if row[5] is None else _json_column(study, tid, "internal", row[5], dict)
    reports = _json_column(study, tid, "intermediate", row[13], list)
    user_attrs = _json_column(study, tid, "user_attrs", row[14], dict) if len(row) > 14 else {}
    try:
        if isinstance(tid, bool) or not isinstance(tid, int) or not 0 <= tid < MAX_TRIAL_ID:
            raise TypeError(f"trial_id must be an int in [0, 2**53), got {tid!r}")
        history, intermediate = _metric_history(metrics), _reports(reports)
        _check_plain(row)
        return TrialRecord(
            trial_id=tid, state=TrialState(row[1]), config=config, metrics=history,
            extra=extra, internal=internal, error=row[6], worker=row[7], attempts=row[8],
            started_at=row[9], finished_at=row[10], driver=row[11], heartbeat_at=row[12],
            intermediate=intermediate, user_attrs=user_attrs,
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise StorageError(f"study {study!r}, trial {tid}: {exc}") from None


#: Query parameters of a database URL whose values are secrets (libpq's names).
_SECRET_PARAMETERS = ("password", "sslpassword")


def url_secrets(url: str) -> list[str]:
    """The secrets written in a storage URL: the userinfo password, ``password=`` values.

    An ``@`` in an unencoded password is allowed: the userinfo ends at the last
    ``@`` before the host.
    """
    _, sep, rest = url.partition("://")
    if not sep:
        return []
    found = []
    authority, _, tail = rest.partition("/")
    if "?" in authority:  # postgresql://host?password=... without a path
        authority, _, query = authority.partition("?")
        tail = "?" + query
    if "@" in authority:
        userinfo = authority.rpartition("@")[0]
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
    query = tail.partition("?")[2]
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and key.lower() in _SECRET_PARAMETERS and value:
            found.append(value)
    return [secret for secret in found if secret]


def mask_url(url: str, text: str | None = None) -> str:
    """``text`` (default: the URL itself) with every secret of ``url`` replaced by ``***``.

    For printing URLs and the errors of libraries that echo their connection
    string: a password never reaches the terminal or a log.
    """
    out = url if text is None else text
    for secret in sorted(url_secrets(url), key=len, reverse=True):
        out = out.replace(secret, "***")
    return out
