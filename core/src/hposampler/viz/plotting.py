"""``hposampler plot``: learning curves, best-so-far history, a Pareto panel, one scatter per
parameter.

Drawing uses matplotlib's object API on its own :class:`~matplotlib.figure.Figure`
with the Agg canvas: no pyplot, no backend switch, no ``rcParams`` change, so a
user's matplotlib settings are never touched. Names (study, metrics,
parameters, categorical values) are text, never markup: every text drawn from
them has ``parse_math=False``, while matplotlib's own tick labels (``10^2`` on
log axes) keep their math.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hposampler.errors import MissingDependencyError, StudyError
from hposampler.samplers.trial import TrialState

if TYPE_CHECKING:
    from hposampler.study.study import Study

__all__ = ["cut", "new_figure", "plot_study", "study_figure"]


def cut(text: str, limit: int) -> str:
    """``text`` for display: at most ``limit`` characters, an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def new_figure(width: float, height: float) -> Any:
    """A matplotlib ``Figure`` on an Agg canvas (no pyplot, no global state).

    Raises
    ------
    MissingDependencyError
        When matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            "plotting needs matplotlib; install it with `pip install matplotlib` (the plot "
            "extra of hposampler)"
        ) from None
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _label(value: Any) -> str:
    """A categorical value as people write it: ``relu``, ``3``, ``[1, 2]`` (no quotes)."""
    return value if isinstance(value, str) else json.dumps(value)


def _param_kinds(study: Study) -> dict[str, Any]:
    """Dotted config key -> compiled parameter (the first branch's, for shared keys)."""
    from hposampler.space.tree import ChoiceParam, compile_space, config_key

    kinds: dict[str, Any] = {}
    for name, param in compile_space(study.config.search_space).params.items():
        if not isinstance(param, ChoiceParam):
            kinds.setdefault(config_key(name), param)
    return kinds


def study_figure(study: Study, metric: str | None = None) -> Any:
    """The figure ``plot_study`` saves (a matplotlib ``Figure``), for inspection or saving.

    Panels: learning curves (when trials reported; pruned trials end in an x),
    ``metric`` per trial coloured by trial order with the best-so-far line
    (pruned trials as grey x at their last report), a Pareto panel of the first
    two metrics for studies with several, then the metric against each parameter
    that varies: log axes for ``log`` ranges, integer ticks for int ranges,
    categorical values as labels.

    Raises
    ------
    StudyError
        For an unknown metric, or a study without a completed trial.
    """
    metrics = study.optim_metrics
    name = metric or next(iter(metrics))
    if name not in metrics:
        raise StudyError(f"study {study.name!r} has no metric {name!r}; metrics: {list(metrics)}")
    records = study.records()
    curves = [r for r in records if r.intermediate]
    points, pruned, infeasible = _groups(study, records, name)
    if not points and not infeasible:
        raise StudyError(f"study {study.name!r} has no completed trial to plot")
    kinds = _param_kinds(study)
    both = points + pruned + infeasible
    params = sorted({key for _, _, flat in both for key in flat})
    params = [p for p in params if len({repr(flat.get(p)) for _, _, flat in both}) > 1]
    pareto = len(metrics) > 1
    ncols = min(3, max(1, len(params)))
    top = (1 if curves else 0) + 1 + (1 if pareto else 0)
    nrows = top + math.ceil(len(params) / ncols)
    fig = new_figure(4.5 * ncols + 1.0, 3.4 * nrows)
    grid = fig.add_gridspec(nrows, ncols)
    row = 0
    if curves:
        _learning_curves(fig.add_subplot(grid[row, :]), curves, name, study)
        row += 1
    _history_panel(fig, fig.add_subplot(grid[row, :]), study, name, (points, pruned, infeasible))
    row += 1
    if pareto:
        _pareto_panel(fig.add_subplot(grid[row, :]), study, list(metrics)[:2])
        row += 1
    shown = [v for _, v, _ in both]
    log_values = min(shown) > 0 and max(shown) / min(shown) > 100
    for i, param in enumerate(params):
        sub = fig.add_subplot(grid[top + i // ncols, i % ncols])
        _param_panel(sub, param, kinds.get(param), (points, pruned, infeasible), name)
        if log_values:
            sub.set_yscale("log")
    return fig


Point = tuple[int, float, dict[str, Any]]  # (trial id, metric value, flat config)


def _groups(
    study: Study, records: Sequence[Any], name: str
) -> tuple[list[Point], list[Point], list[Point]]:
    """Completed feasible, pruned and infeasible trials with a finite ``name`` value."""
    from hposampler.study.results import flatten_config

    points, pruned, infeasible = [], [], []
    for record in records:
        value = (record.final_metrics or {}).get(name)
        if value is None or not math.isfinite(value):
            continue
        if record.state == TrialState.COMPLETE and not study.feasible(record):
            infeasible.append((record.trial_id, value, flatten_config(record.config)))
        elif record.state == TrialState.COMPLETE:
            points.append((record.trial_id, value, flatten_config(record.config)))
        elif record.state.is_pruned:
            pruned.append((record.trial_id, value, flatten_config(record.config)))
    return points, pruned, infeasible


def _history_panel(
    fig: Any, ax: Any, study: Study, name: str, groups: tuple[list[Point], ...]
) -> None:
    """The metric per trial, coloured by trial order, with the best-so-far line."""
    from matplotlib.ticker import MaxNLocator

    points, pruned, infeasible = groups
    direction = study.optim_metrics[name]
    ids = [p[0] for p in points]
    values = [p[1] for p in points]
    best, running = [], math.inf if direction == "min" else -math.inf
    for v in values:
        running = min(running, v) if direction == "min" else max(running, v)
        best.append(running)
    dots = ax.scatter(ids, values, s=16, c=ids, cmap="viridis", label=f"{name} per trial")
    if pruned:
        ax.scatter([p[0] for p in pruned], [p[1] for p in pruned], marker="x", s=16,
                   color="0.6", label="pruned (last report)")  # fmt: skip
    if infeasible:
        ax.scatter([p[0] for p in infeasible], [p[1] for p in infeasible], marker="s", s=14,
                   facecolors="none", edgecolors="0.5",
                   label="infeasible (a constraint > 0)")  # fmt: skip
    if ids:
        label = "best feasible so far" if infeasible else f"best so far ({direction})"
        ax.step(ids, best, where="post", color="C3", label=label)
    shown = values + [p[1] for p in pruned] + [p[1] for p in infeasible]
    if min(shown) > 0 and max(shown) / min(shown) > 100:
        ax.set_yscale("log")  # otherwise the best-so-far line hugs the axis
    ax.set_xlabel("trial id")
    ax.set_ylabel(name, parse_math=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(
        f"study {cut(study.name, 80)!r}: {study.config.sampler}, {len(points)} completed"
        + (f", {len(pruned)} pruned" if pruned else "")
        + (f", {len(infeasible)} infeasible" if infeasible else "")
        + " trials",
        parse_math=False,
    )
    _text_legend(ax)
    if ids:
        fig.colorbar(dots, ax=ax, label="trial id", pad=0.01)


def _param_panel(
    sub: Any, param: str, kind: Any, groups: tuple[list[Point], ...], name: str
) -> None:
    """The metric against one parameter: log axes for log ranges, labels for choices."""
    from matplotlib.ticker import MaxNLocator

    from hposampler.space.tree import CategoricalParam, FloatParam, IntParam

    both = [point for group in groups for point in group]
    for group, marker, colour in zip(groups, ("o", "x", "s"), (None, "0.6", "0.75")):
        group = [g for g in group if param in g[2]]  # a branch's parameter: its trials
        if not group:
            continue
        xs: list[Any] = [flat[param] for _, _, flat in group]
        ys = [v for _, v, _ in group]
        order = [t for t, _, _ in group]
        style: dict[str, Any] = {"color": colour} if colour else {"c": order, "cmap": "viridis"}
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
        if numeric and not isinstance(kind, CategoricalParam):
            sub.scatter([float(x) for x in xs], ys, s=12, marker=marker, **style)
            continue
        labels = _categories(kind, [f[param] for _, _, f in both if param in f])
        index = {json.dumps(v, sort_keys=True): j for j, v in enumerate(labels)}
        where = [index[json.dumps(x, sort_keys=True)] for x in xs]
        sub.scatter(where, ys, s=12, marker=marker, **style)
        sub.set_xticks(range(len(labels)))
        ticks = sub.set_xticklabels([cut(_label(v), 24) for v in labels],
                                    rotation=30, fontsize=7)  # fmt: skip
        for tick in ticks:
            tick.set_parse_math(False)
    if isinstance(kind, (FloatParam, IntParam)) and kind.log:
        sub.set_xscale("log")
    elif isinstance(kind, IntParam):
        sub.xaxis.set_major_locator(MaxNLocator(integer=True))
    sub.set_xlabel(cut(param, 60), fontsize=8, parse_math=False)
    sub.set_ylabel(name, fontsize=8, parse_math=False)


def _categories(kind: Any, seen: Sequence[Any]) -> list[Any]:
    """The categorical axis: the space's choices in order, else the values seen."""
    from hposampler.space.tree import CategoricalParam

    if isinstance(kind, CategoricalParam):
        return list(kind.choices)
    out: list[Any] = []
    for value in seen:
        if not any(json.dumps(value, sort_keys=True) == json.dumps(o, sort_keys=True) for o in out):
            out.append(value)
    return sorted(out, key=lambda v: json.dumps(v, sort_keys=True))


def _text_legend(ax: Any) -> None:
    legend = ax.legend(loc="best", fontsize=8)
    for text in legend.get_texts():
        text.set_parse_math(False)


def _pareto_panel(ax: Any, study: Study, pair: list[str]) -> None:
    """The first two metrics of every completed trial; the Pareto front highlighted."""
    first, second = pair
    done = [
        r
        for r in study.trials
        if r.state == TrialState.COMPLETE
        and all((r.final_metrics or {}).get(m) is not None for m in pair)
    ]
    front = {t.trial_id for t in study.best_trials}
    xy = {r.trial_id: ((r.final_metrics or {})[first], (r.final_metrics or {})[second])
          for r in done}  # fmt: skip
    rest = [xy[r.trial_id] for r in done if r.trial_id not in front]
    best = sorted(xy[t] for t in front if t in xy)
    ax.scatter([x for x, _ in rest], [y for _, y in rest], s=14, color="C0", alpha=0.5,
               label="dominated")  # fmt: skip
    ax.plot([x for x, _ in best], [y for _, y in best], "o-", color="C3", ms=5,
            label=f"Pareto front ({len(best)} trials)")  # fmt: skip
    metrics = study.optim_metrics
    ax.set_xlabel(f"{first} ({metrics[first]})", parse_math=False)
    ax.set_ylabel(f"{second} ({metrics[second]})", parse_math=False)
    ax.set_title(f"{first} against {second}", parse_math=False)
    _text_legend(ax)


def plot_study(study: Study, output: str | Path, metric: str | None = None) -> Path:
    """Write a PNG of :func:`study_figure`: learning curves (when trials reported),
    best-so-far of ``metric`` by trial, a Pareto panel (several metrics), and the
    metric against each parameter.

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
    path = Path(output)
    study_figure(study, metric).savefig(path, dpi=110)
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
    ax.set_ylabel(name, parse_math=False)
    pruner = study.config.pruner or "no pruner"
    ax.set_title(
        f"learning curves: {len(records)} trials, {pruned} pruned (x) by {pruner}",
        parse_math=False,
    )
