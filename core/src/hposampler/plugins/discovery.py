"""Finding the entry points of the ``hposampler`` group, remembered between processes.

Listing entry points through :mod:`importlib.metadata` costs every process
about 20 ms: importing it (it pulls in :mod:`email`, :mod:`zipfile`, :mod:`csv`),
then reading the metadata of every installed distribution. A study's workers and
every CLI command start with it. So the list found is written to a small JSON
file, and a later process reuses it while the **stamp** of what
:mod:`importlib.metadata` would read is unchanged: for each ``sys.path`` entry
in order, its ``*.dist-info``, ``*.egg-info`` and ``*.egg`` children with the
modification time and size of each child's folder, ``entry_points.txt``,
``METADATA`` and ``PKG-INFO``; for a zip file on the path, its own time and size.
Installing, removing, upgrading or editing a distribution changes the stamp; a
new interpreter or ``sys.path`` uses another file. Reading the stamp takes about
1.4 ms on a typical virtual environment.

The cache is skipped (entry points are read afresh every time) when a finder
other than the standard path finder can report distributions, since its
distributions have no stamp; when ``HPOSAMPLER_CACHE_DIR`` is ``off``; and
when the cache folder cannot be written. A cache file that is not what this
module writes is ignored and replaced: it is JSON, checked field by field,
never executed.

Environment variables
---------------------
``HPOSAMPLER_CACHE_DIR``
    Folder for the cache (default: ``$XDG_CACHE_HOME/hposampler``, else
    ``~/.cache/hposampler``; ``%LOCALAPPDATA%\\hposampler`` on Windows);
    ``off`` turns it off.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "ENTRY_POINT_GROUP",
    "ENV_CACHE_DIR",
    "FoundEntryPoint",
    "cache_dir",
    "canonical_name",
    "find_entry_points",
]

logger = logging.getLogger(__name__)

#: The entry-point group plugins declare themselves in.
ENTRY_POINT_GROUP = "hposampler"
ENV_CACHE_DIR = "HPOSAMPLER_CACHE_DIR"

#: The cache file's format; a file of another format is rewritten.
CACHE_FORMAT = 1

#: Days after which a cache file is deleted (when another one is written).
KEEP_DAYS = 30

# module, then an optional ":attr.path", then optional "[extras]" (as entry points allow)
_VALUE = re.compile(r"^(?P<module>[\w.]+)\s*(?::\s*(?P<attr>[\w.]+)\s*)?(?:\[[^\]]*\]\s*)?$")


def canonical_name(name: str) -> str:
    """A distribution name normalised (PEP 503): ``Hposampler_Grid`` -> ``hposampler-grid``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@attrs.frozen
class FoundEntryPoint:
    """One entry point of the group: what :mod:`importlib.metadata` reports of it.

    Attributes
    ----------
    name : str
        The entry point's name (the plugin's name).
    value : str
        ``module`` or ``module:attribute``, what :meth:`load` imports.
    distribution : str or None
        The name of the distribution that declares it.
    version : str or None
        That distribution's version.
    """

    name: str
    value: str
    distribution: str | None = None
    version: str | None = None

    def load(self) -> Any:
        """Import the module the value names (and look up its attribute, if any).

        Raises
        ------
        ImportError
            When the value is not ``module[:attribute]`` or the module cannot be
            imported; :class:`AttributeError` when the attribute is missing.
        """
        match = _VALUE.match(self.value)
        if match is None:
            raise ImportError(
                f"entry point {self.name} = {self.value!r} is not 'module' or 'module:attribute'"
            )
        found: Any = importlib.import_module(match["module"])
        for part in (match["attr"] or "").split("."):
            if part:
                found = getattr(found, part)
        return found


def cache_dir() -> Path | None:
    """The folder of the entry-point cache, or ``None`` when turned off."""
    configured = os.environ.get(ENV_CACHE_DIR)
    if configured is not None:
        return None if configured.strip().lower() in ("off", "0", "") else Path(configured)
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "hposampler"
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home == "~":  # no home to find: no cache, rather than a "~" folder here
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "hposampler"


def find_entry_points(first: tuple[str, ...] = ()) -> list[FoundEntryPoint]:
    """The group's entry points, each once, in a fixed order.

    Parameters
    ----------
    first : tuple of str
        Canonical names of distributions listed first (this project's own);
        the rest follow by distribution name, then entry-point name.

    Returns
    -------
    list of FoundEntryPoint
        From the cache when its stamp still matches, else read afresh (and cached).
    """
    folder = cache_dir()
    stamp = _stamp() if folder is not None else None
    if folder is None or stamp is None:
        return _scan(first)
    where = [sys.executable, [str(entry) for entry in sys.path], list(first)]
    key = hashlib.sha256(json.dumps(where).encode()).hexdigest()[:16]
    path = folder / f"entry-points-{key}.json"
    cached = _read(path, stamp)
    if cached is not None:
        return cached
    found = _scan(first)
    _write(path, stamp, found)
    return found


def _stamp() -> str | None:
    """A digest of what the standard path finder reads on ``sys.path``; ``None`` when
    another finder can report distributions (nothing to stamp them by)."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if finder is not PathFinder and hasattr(finder, "find_distributions"):
            return None
    parts: list[Any] = []
    for entry in sys.path:
        if not isinstance(entry, str):  # importlib.metadata reads str entries; be safe
            return None
        folder = entry or "."
        try:
            with os.scandir(folder) as children:
                names = sorted(
                    c.name for c in children
                    if c.name.lower().endswith((".dist-info", ".egg-info", ".egg"))
                )  # fmt: skip
        except NotADirectoryError:  # a zip file on the path
            parts.append([entry, _file_stamp(folder)])
            continue
        except OSError:  # missing or unreadable: importlib.metadata finds nothing there
            parts.append([entry, None])
            continue
        listed = []
        for name in names:
            child = os.path.join(folder, name)
            inside = os.path.join(child, "EGG-INFO") if name.lower().endswith(".egg") else child
            listed.append([
                name,
                _file_stamp(child),
                _file_stamp(os.path.join(inside, "entry_points.txt")),
                _file_stamp(os.path.join(inside, "METADATA")),
                _file_stamp(os.path.join(inside, "PKG-INFO")),
            ])  # fmt: skip
        parts.append([entry, listed])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _file_stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _scan(first: tuple[str, ...]) -> list[FoundEntryPoint]:
    """Read the entry points through :mod:`importlib.metadata`."""
    from importlib import metadata

    seen: set[tuple[str, str]] = set()
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if (ep.name, ep.value) in seen:  # the same distribution visible twice on sys.path
            continue
        seen.add((ep.name, ep.value))
        dist = getattr(ep, "dist", None)
        name = dist.metadata["Name"] if dist is not None else None
        found.append(FoundEntryPoint(ep.name, ep.value, name, dist.version if dist else None))

    def precedence(ep: FoundEntryPoint) -> tuple[int, str, str]:
        name = canonical_name(ep.distribution) if ep.distribution else ""
        return (0 if name in first else 1, name, ep.name)

    return sorted(found, key=precedence)


def _read(path: Path, stamp: str) -> list[FoundEntryPoint] | None:
    """The cached list if the file is ours, of this format and of this stamp."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not (
        isinstance(data, dict)
        and data.get("format") == CACHE_FORMAT
        and data.get("stamp") == stamp
        and isinstance(data.get("entry_points"), list)
    ):
        return None
    found = []
    for row in data["entry_points"]:
        if not (
            isinstance(row, list)
            and len(row) == 4
            and all(isinstance(v, str) for v in row[:2])
            and all(v is None or isinstance(v, str) for v in row[2:])
        ):
            return None
        found.append(FoundEntryPoint(*row))
    return found


def _write(path: Path, stamp: str, found: list[FoundEntryPoint]) -> None:
    """Store the list (atomically: a reader sees the old file or the new one)."""
    data = {
        "format": CACHE_FORMAT,
        "stamp": stamp,
        "entry_points": [[e.name, e.value, e.distribution, e.version] for e in found],
    }
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".entry-points-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:  # a read-only home, a full disk: run without the cache
        logger.debug("entry-point cache not written to %s: %s", path, exc)
        return
    _forget_old(path.parent)


def _forget_old(folder: Path) -> None:
    """Delete cache files written more than :data:`KEEP_DAYS` ago (there is one per
    interpreter and ``sys.path``, so scripts run from many folders leave many; one
    still in use is written again on its next use)."""
    import time

    limit = time.time() - KEEP_DAYS * 86400
    for old in folder.glob("entry-points-*.json"):
        try:
            if old.stat().st_mtime < limit:
                old.unlink()
        except OSError:
            pass
