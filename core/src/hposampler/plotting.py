"""``hposampler plot``: learning curves, best-so-far history, one scatter per parameter."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MissingDependencyError, StudyError
from .trial import TrialState

if TYPE_CHECKING:
    from .study import Study

__all__ = ["cut", "plot_study"]


def cut(text: str, limit: int) -> str:
    """``text`` for display: at most ``limit`` characters, an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingDependencyError(
            "plotting needs matplotlib; install it with `pip install 'hposampler[plot]'`"
        ) from None
    matplotlib.use("Agg")
    # study, metric and parameter names are text, never markup: "$x$" stays "$x$"
    matplotlib.rcParams["text.parse_math"] = False
    matplotlib.rcParams["text.usetex"] = False
    import matplotlib.pyplot as plt

    return plt


def plot_study(study: Study, output: str | Path, metric: str | None = None) -> Path:
    """Write a PNG: learning curves (when trials reported), best-so-far of ``metric`` by
    trial, and the metric against each parameter.

    Parameters
    ----------
    study : Study
        The study to plot.
    output : path
        The PNG file to write.
    metric : str, optional
        Which metric (default: the first of ``optim_metrics``).

    Returns
    -------
    Path
        The written file.
    """
    from .study import _flatten

    metrics = study.optim_metrics
    name = metric or next(iter(metrics))
    if name not in metrics:
        raise StudyError(f"study {study.name!r} has no metric {name!r}; metrics: {list(metrics)}")
    direction = metrics[name]
    points = []
    records = study.records()
    curves = [r for r in records if r.intermediate]
    for record in records:
        final = record.final_metrics or {}
        value = final.get(name)
        if record.state == TrialState.COMPLETE and value is not None and math.isfinite(value):
            points.append((record.trial_id, value, _flatten(record.config)))
    if not points:
        raise StudyError(f"study {study.name!r} has no completed trial to plot")
    params = sorted({key for _, _, flat in points for key in flat})
    params = [p for p in params if len({repr(flat.get(p)) for _, _, flat in points}) > 1]
    plt = _matplotlib()
    ncols = min(3, max(1, len(params)))
    top = 2 if curves else 1
    nrows = top + math.ceil(len(params) / ncols)
    fig = plt.figure(figsize=(4.5 * ncols, 3.4 * nrows), constrained_layout=True)
    grid = fig.add_gridspec(nrows, ncols)
    if curves:
        _learning_curves(fig.add_subplot(grid[0, :]), curves, name, study)
    ax = fig.add_subplot(grid[top - 1, :])
    ids = [p[0] for p in points]
    values = [p[1] for p in points]
    best, running = [], math.inf if direction == "min" else -math.inf
    for v in values:
        running = min(running, v) if direction == "min" else max(running, v)
        best.append(running)
    ax.scatter(ids, values, s=14, alpha=0.5, label=f"{name} per trial")
    ax.step(ids, best, where="post", color="C3", label=f"best so far ({direction})")
    if min(values) > 0 and max(values) / min(values) > 100:
        ax.set_yscale("log")  # otherwise the best-so-far line hugs the axis
    ax.set_xlabel("trial id")
    ax.set_ylabel(name)
    ax.set_title(
        f"study {cut(study.name, 80)!r}: {study.config.sampler}, {len(points)} completed trials"
    )
    ax.legend(loc="best")
    for i, param in enumerate(params):
        sub = fig.add_subplot(grid[top + i // ncols, i % ncols])
        xs = [flat.get(param) for _, _, flat in points]
        nums = [float(x) for x in xs if isinstance(x, (int, float)) and not isinstance(x, bool)]
        if len(nums) == len(xs):
            sub.scatter(nums, values, s=12, alpha=0.6)
            if min(nums) > 0 and max(nums) / min(nums) > 1e3:
                sub.set_xscale("log")
        else:
            labels = sorted({repr(x) for x in xs})
            sub.scatter([labels.index(repr(x)) for x in xs], values, s=12, alpha=0.6)
            shown = [cut(text, 24) for text in labels]  # long values are cut for display
            sub.set_xticks(range(len(labels)), shown, rotation=30, fontsize=7)
        sub.set_xlabel(cut(param, 60), fontsize=8)
        sub.set_ylabel(name, fontsize=8)
    path = Path(output)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _learning_curves(ax: Any, records: list[Any], name: str, study: Study) -> None:
    """Reported ``name`` by step, one line per trial; an x where a pruned trial stopped."""
    pruned = 0
    for record in records:
        steps = [step for step, m in record.intermediate if m.get(name) is not None]
        values = [m[name] for _, m in record.intermediate if m.get(name) is not None]
        if not steps:
            continue
        stopped = record.state.is_pruned
        ax.plot(steps, values, lw=0.8, alpha=0.35 if stopped else 0.8,
                color="C7" if stopped else "C0")  # fmt: skip
        if stopped:
            pruned += 1
            ax.scatter([steps[-1]], [values[-1]], marker="x", s=18, color="C3", zorder=3)
    positive = [m[name] for r in records for _, m in r.intermediate if m.get(name)]
    if positive and min(positive) > 0 and max(positive) / min(positive) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(name)
    pruner = study.config.pruner or "no pruner"
    ax.set_title(f"learning curves: {len(records)} trials, {pruned} pruned (x) by {pruner}")
