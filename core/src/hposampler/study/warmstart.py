"""Warm starts: earlier studies' finished trials as a new study's history.

A study created with ``warm_start=["study-a", "other.db:study-b"]`` gives its
sampler, before the first proposal, the COMPLETE trials of those studies, on
the same path as its own stored trials when it resumes: every backend learns
from them, bundled or third-party, with nothing to implement. They are not the
study's trials: they are never stored in it, do not count toward ``n_trials``,
and reach the sampler with negative ids (``-n .. -1``, in source order) so that
the study's own ids stay ``0, 1, 2, ...``.

Parameters are matched by name: a source config that is a config of the new
space is kept as it is; one whose numbers lie outside the new ranges (or off
its grids) is *clipped* to the nearest allowed value; one that cannot be
mapped (a parameter missing, a categorical value the new space lacks, another
structure) is *dropped*. :func:`warm_trials` says how many of each.

With two or more sources, their values are first put on one scale
(:func:`pool_scales`): each source's values keep their order but take the
values of the pooled sources' distribution at the same quantile. Without this,
the source whose task scores highest (an easier dataset, a smaller loss)
would fill a model's "good" group on its own: leave one out over HPOBench's 8
datasets, TPE warm-started from the raw values was 1.5x worse after 100 trials
than cold; from pooled values it is no worse (docs/leaderboard.md, "Warm
start"). One source is told as it is.

A source is the name of a study in the same storage, or ``STORAGE:NAME`` for
another storage (a SQLite path ending in ``.db``/``.sqlite``/``.sqlite3``, an
existing file, or a URL with ``://``).
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from hposampler.errors import HposamplerError, StudyError
from hposampler.samplers.trial import Trial, TrialState
from hposampler.space.tree import CategoricalParam, FloatParam, IntParam, SpaceTree
from hposampler.storage import Storage, make_storage
from hposampler.study.records import RecordReader

__all__ = [
    "WarmStart",
    "numbered_history",
    "pool_scales",
    "split_source",
    "warm_history",
    "warm_trials",
]

logger = logging.getLogger("hposampler.study")

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


@attrs.frozen
class WarmStart:
    """What a warm start gives the sampler, and how many configs it changed."""

    trials: list[Trial]
    kept: int
    clipped: int
    dropped: int
    sources: tuple[str, ...]

    def summary(self) -> str:
        """One line, e.g. ``"warm start: 40 trials from a, b (3 clipped, 2 dropped)"``."""
        changes = [f"{n} {what}" for n, what in ((self.clipped, "clipped"),
                                                 (self.dropped, "dropped")) if n]  # fmt: skip
        tail = f" ({', '.join(changes)})" if changes else ""
        return (f"warm start: {len(self.trials)} trials from {', '.join(self.sources)}{tail}; "
                "not this study's trials")  # fmt: skip


def split_source(source: str) -> tuple[str | None, str]:
    """``"other.db:name"`` -> ``("other.db", "name")``; ``"name"`` -> ``(None, "name")``."""
    head, sep, tail = source.rpartition(":")
    storage_like = "://" in head or head.endswith(_SQLITE_SUFFIXES) or Path(head).is_file()
    if sep and head and tail and storage_like:
        return head, tail
    return None, source


def _source_records(storage: Storage | None, source: str) -> tuple[Any, list[Any]]:
    from hposampler.selection import SamplerConfig
    from hposampler.space.tree import compile_space

    where, name = split_source(source)
    if where is None and storage is None:
        raise StudyError(
            f"warm-start source {source!r} names no storage; write it as FILE.db:NAME "
            "(or a storage URL, then :NAME)"
        )
    store = storage if where is None else make_storage(where, read_only=True)
    assert store is not None  # one of the two, checked above
    if name not in store.study_names():
        place = store.url if where is None else where
        raise StudyError(
            f"warm-start source {source!r}: no study {name!r} in {place}; "
            "`hposampler studies --storage ...` lists them"
        )
    config = SamplerConfig.from_dict(store.load_definition(name))
    tree = compile_space(config.search_space)
    return config, RecordReader(store, name, lambda: tree).read()


def _clip(config: Any, tree: SpaceTree) -> dict[str, Any] | None:
    """The config with every number moved into the new space, or ``None`` if it cannot be."""
    if not isinstance(config, dict):
        return None
    out: dict[str, Any] = {}
    for name, param in tree.params.items():
        value: Any = config
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                return None  # a parameter the source does not have, or a branch
            value = value[part]
        if isinstance(param, CategoricalParam):
            if not param.contains(value):
                return None
        elif isinstance(param, (FloatParam, IntParam)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            grid = param.grid()
            if grid is not None:
                value = min(grid, key=lambda point: abs(point - value))
            else:
                value = min(max(value, param.low), param.high)
                value = round(value) if isinstance(param, IntParam) else float(value)
        else:
            return None  # subspaces: matched only as they are
        out[name] = value
    try:
        clipped = tree.decode(out)
    except (KeyError, ValueError, TypeError):
        return None
    return clipped if tree.violation(clipped) is None else None


Metrics = list[dict[str, float | None]]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _ranks(values: list[float]) -> tuple[list[float], list[float]]:
    """Distinct sorted values and their mean quantile (0 .. 1) among ``values``."""
    ordered = sorted(values)
    n = len(ordered)
    xs: list[float] = []
    qs: list[float] = []
    for x in ordered:
        low = bisect.bisect_left(ordered, x)
        high = bisect.bisect_right(ordered, x) - 1
        if not xs or xs[-1] != x:
            xs.append(x)
            qs.append(0.5 if n == 1 else (low + high) / 2 / (n - 1))
    return xs, qs


def _interpolate(x: float, xs: list[float], ys: list[float]) -> float:
    """Piecewise-linear ``y(x)`` through the points, flat outside them."""
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_right(xs, x)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def _quantile(pooled: list[float], q: float) -> float:
    """The sorted values' quantile ``q`` (0 .. 1), linear between them."""
    position = q * (len(pooled) - 1)
    i = min(int(position), len(pooled) - 1)
    return (
        pooled[i]
        if i == len(pooled) - 1
        else pooled[i] + (pooled[i + 1] - pooled[i]) * (position - i)
    )


def pool_scales(sources: Sequence[Sequence[Metrics]]) -> list[list[Metrics]]:
    """Every source's metric histories on the pooled sources' scale.

    For each metric, a value ``v`` of source ``s`` becomes the pooled final
    values' quantile at ``v``'s quantile among ``s``'s final values (linear
    between them, so intermediate reports map too). Order within a source is
    kept, for either direction; ``None`` stays ``None``; one source maps onto
    itself unchanged.

    Parameters
    ----------
    sources : sequence of sequences of metric histories
        Per source, per trial, the trial's metrics (a list of dicts, the last
        the final one).

    Returns
    -------
    list
        The same shape, with the values rescaled.

    Examples
    --------
    >>> easy = [[{"acc": 0.9}], [{"acc": 0.95}]]
    >>> hard = [[{"acc": 0.5}], [{"acc": 0.6}]]
    >>> pool_scales([easy, hard])[1]
    [[{'acc': 0.5}], [{'acc': 0.95}]]
    """
    if len(sources) < 2:
        return [list(source) for source in sources]
    names = sorted({name for source in sources for history in source for step in history
                    for name in step})  # fmt: skip
    maps: list[dict[str, tuple[list[float], list[float]]]] = [{} for _ in sources]
    for name in names:
        finals = [[float(v) for history in source if history
                   for v in [history[-1].get(name)] if v is not None and _finite(v)]
                  for source in sources]  # fmt: skip
        pooled = sorted(v for values in finals for v in values)
        if not pooled:
            continue
        for i, values in enumerate(finals):
            if values:
                xs, qs = _ranks(values)
                maps[i][name] = (xs, [_quantile(pooled, q) for q in qs])

    def rescale(step: dict[str, float | None], mapping: dict[str, Any]) -> dict[str, float | None]:
        return {name: _interpolate(value, *mapping[name])
                if name in mapping and value is not None and _finite(value) else value
                for name, value in step.items()}  # fmt: skip

    return [[[rescale(step, maps[i]) for step in history] for history in source]
            for i, source in enumerate(sources)]  # fmt: skip


def numbered_history(
    sources: Sequence[Sequence[tuple[dict[str, Any], Metrics]]],
) -> list[Trial]:
    """The sources' ``(config, metric history)`` pairs as COMPLETE trials on one scale
    (:func:`pool_scales`), in source order, with ids ``-n .. -1``."""
    scaled = pool_scales([[metrics for _, metrics in source] for source in sources])
    pairs = [(config, metrics) for source, histories in zip(sources, scaled)
             for (config, _), metrics in zip(source, histories)]  # fmt: skip
    n = len(pairs)
    return [Trial(i - n, config, TrialState.COMPLETE, metrics)
            for i, (config, metrics) in enumerate(pairs)]  # fmt: skip


def warm_trials(
    storage: Storage | None,
    sources: Sequence[str],
    tree: SpaceTree,
    optim_metrics: dict[str, str],
) -> WarmStart:
    """The sources' COMPLETE trials as history for a study's sampler (see the module doc).

    ``storage`` holds the sources named without a storage (``None``: every
    source must name one, ``FILE.db:NAME``).

    Raises
    ------
    StudyError
        For a missing source, or one whose metrics or directions differ (one line).
    """
    if not sources:
        return WarmStart([], 0, 0, 0, ())
    per_source: list[list[tuple[dict[str, Any], Metrics]]] = []
    kept = clipped = dropped = 0
    for source in sources:
        taken: list[tuple[dict[str, Any], Metrics]] = []
        per_source.append(taken)
        try:
            config, records = _source_records(storage, source)
        except HposamplerError as exc:
            if isinstance(exc, StudyError):
                raise
            raise StudyError(f"warm-start source {source!r}: {exc}") from None
        if dict(config.optim_metrics) != dict(optim_metrics):
            raise StudyError(
                f"warm-start source {source!r} optimises {dict(config.optim_metrics)}, this "
                f"study {dict(optim_metrics)}; warm-start from studies of the same metrics "
                "and directions"
            )
        for record in records:
            if record.state != TrialState.COMPLETE:
                continue
            if tree.violation(record.config) is None:
                taken.append((record.config, list(record.metrics)))
                kept += 1
                continue
            moved = _clip(record.config, tree)
            if moved is None:
                dropped += 1
            else:
                taken.append((moved, list(record.metrics)))
                clipped += 1
    result = WarmStart(numbered_history(per_source), kept, clipped, dropped, tuple(sources))
    logger.info("%s", result.summary())
    return result


def warm_history(storage: Storage, config: Any) -> list[Trial]:
    """The warm-start trials of a study's definition (a :class:`SamplerConfig`)."""
    if not config.warm_start:
        return []
    from hposampler.space.tree import compile_space

    tree = compile_space(config.search_space)
    return warm_trials(storage, config.warm_start, tree, dict(config.optim_metrics)).trials
