"""``write_report``: one self-contained HTML file showing a study, drawn by Optuna and plotly.

The study is copied with :func:`~hposampler_views.view.to_optuna`, and each
figure is Optuna's own (``optuna.visualization``). plotly.js is embedded once,
so the file opens offline: nothing is fetched from the network (no script, style
sheet or font). ``hposampler report NAME --storage S -o report.html`` calls it.

Sections: a summary (sampler, pruner, trial states, best trial or Pareto front),
optimization history, parallel coordinate, parameter importances, slice, the
contour of the two most important parameters, intermediate values (when trials
reported), the Pareto front (several metrics), the timeline, and a table of
every trial. A figure that cannot be drawn for this study (e.g. a contour with a
single parameter) is replaced by a line saying why.
"""

from __future__ import annotations

import html
import json
import random
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from hposampler.errors import MissingDependencyError
from hposampler.samplers.trial import TrialState
from hposampler.study import flatten_config

from .view import to_optuna

if TYPE_CHECKING:
    from hposampler import Study

__all__ = ["MAX_FIGURE_TRIALS", "MAX_TABLE_ROWS", "write_report"]

#: Trials the figures that draw one mark per trial (parallel coordinate, importances,
#: contour, intermediate values, timeline) take from a larger study: the best half and
#: a seeded random sample of the rest. History, slice and Pareto front draw every trial.
MAX_FIGURE_TRIALS = 2000

#: Trials the contour is drawn from (Optuna interpolates on a grid of their distinct
#: values, so its size grows with the square of this).
MAX_CONTOUR_TRIALS = 300

#: Trials listed in the report's table (the best, when there are more); figures show all.
MAX_TABLE_ROWS = 2000

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1200px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f4f4f4; } .note { color: #666; font-style: italic; }
.summary td:first-child { font-weight: 600; }
.scroll { max-height: 32rem; overflow: auto; }
"""


def _plotly() -> Any:
    try:
        import plotly.offline
    except ImportError:
        raise MissingDependencyError(
            "the report draws with plotly, which is not installed; install it with "
            "pip install plotly (the dashboard extra of hposampler-views brings it)"
        ) from None
    return plotly.offline


def _sample(view: optuna.Study, limit: int) -> tuple[optuna.Study, str]:
    """At most ``limit`` trials of ``view`` (the best half, a seeded random half), and a note."""
    trials = view.get_trials(deepcopy=False)
    if len(trials) <= limit:
        return view, ""
    sign = -1.0 if view.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = sorted(complete, key=lambda t: sign * t.values[0])[: limit // 2]
    taken = {t.number for t in best}
    rest = [t for t in trials if t.number not in taken]
    chosen = best + random.Random(0).sample(rest, limit - len(best))
    subset = optuna.create_study(directions=view.directions, study_name=view.study_name)
    subset.add_trials(sorted(chosen, key=lambda t: t.number))
    note = (
        f'<p class="note">Drawn from {limit} of the {len(trials)} trials: the best '
        f"{len(best)} and {limit - len(best)} of the others at random (seeded).</p>"
    )
    return subset, note


Figure = tuple[str, Callable[[], Any], str]


def _figures(view: optuna.Study, metrics: list[str]) -> list[Figure]:
    vis = optuna.visualization
    several = len(metrics) > 1
    target = (lambda t: t.values[0]) if several else None
    name = metrics[0]
    kw: dict[str, Any] = {"target": target, "target_name": name} if several else {}
    top: list[str] = []
    few, note = _sample(view, MAX_FIGURE_TRIALS)  # figures that draw a mark per trial
    grid, grid_note = _sample(view, MAX_CONTOUR_TRIALS)  # its z grid is trials x trials

    sign = -1.0 if view.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    low_is_good = (lambda t: sign * t.values[0]) if several else None  # PED-ANOVA's reading

    def importances() -> Any:
        # Optuna's default evaluator: PED-ANOVA from Optuna 4 (fast on large studies),
        # fANOVA before
        found = optuna.importance.get_param_importances(few, target=low_is_good)
        top[:] = list(found)[:2]
        return vis.plot_param_importances(few, target=low_is_good, target_name=name)

    def contour() -> Any:
        if len(top) < 2:
            raise ValueError("it needs two parameters with an importance")
        return vis.plot_contour(grid, params=top, **kw)

    complete = [
        t for t in view.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE
    ]
    reported = any(t.intermediate_values for t in view.get_trials(deepcopy=False))
    figures: list[Figure] = [
        ("Optimization history", lambda: vis.plot_optimization_history(view, **kw), ""),
        ("Parallel coordinate", lambda: vis.plot_parallel_coordinate(few, **kw), note),
        ("Parameter importances", importances, note),
        ("Slice", lambda: vis.plot_slice(view, **kw), ""),
        ("Contour of the two most important parameters", contour, grid_note),
    ]
    if reported:
        figures.append(("Intermediate values", lambda: vis.plot_intermediate_values(few), note))
    if several and complete:
        figures.append(
            ("Pareto front", lambda: vis.plot_pareto_front(view, target_names=metrics), "")
        )
    if hasattr(vis, "plot_timeline"):  # Optuna >= 3.2
        figures.append(("Timeline", lambda: vis.plot_timeline(few), note))
    return figures


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return html.escape(json.dumps(value, sort_keys=True))
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[Any]], klass: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers) if any(headers) else ""
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f'<table class="{klass}">{thead}<tbody>{body}</tbody></table>'


def write_report(study: Study, path: str | Path) -> Path:
    """Write the study's report to ``path`` (one HTML file, opens offline).

    Parameters
    ----------
    study : hposampler.Study
        Any study, from any sampler and storage.
    path : str or pathlib.Path
        Where to write the file (its folder must exist).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    MissingDependencyError
        When plotly is not installed.
    """
    offline = _plotly()
    with warnings.catch_warnings():  # Optuna warns about figures of studies with few trials
        warnings.simplefilter("ignore")
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        try:
            return _write(study, Path(path), offline)
        finally:
            optuna.logging.set_verbosity(verbosity)


def _write(study: Study, out: Path, offline: Any) -> Path:
    records = study.records()
    view = to_optuna(study, records)
    metrics = list(study.config.optim_metrics)
    states = Counter(r.state.name for r in records)
    head: list[str] = []

    summary = [
        ["study", study.name],
        ["storage", study.storage.url],
        ["sampler", study.config.sampler],
        ["pruner", study.config.pruner or "none"],
        ["metrics", ", ".join(f"{m} ({d})" for m, d in study.config.optim_metrics.items())],
        ["trials", f"{len(records)}: " + ", ".join(f"{n} {s}" for s, n in states.most_common())],
    ]
    head.append("<h2>Summary</h2>" + _table(["", ""], summary, "summary"))
    sign = -1.0 if study.config.optim_metrics[metrics[0]] == "max" else 1.0

    def rank(r: Any) -> float:
        value = (r.trial.final_metrics or {}).get(metrics[0])
        return float("inf") if value is None else sign * value

    complete = [r for r in records if r.state == TrialState.COMPLETE]
    best: list[Any]
    if len(metrics) > 1:
        best = study.best_trials if complete else []
    else:
        best = [min(complete, key=rank).trial] if complete else []
    if best:
        title = "Pareto front" if len(metrics) > 1 else "Best trial"
        front: list[list[Any]] = [
            [t.trial_id, *[(t.final_metrics or {}).get(m) for m in metrics], t.config] for t in best
        ]
        head.append(f"<h2>{title}</h2>" + _table(["trial", *metrics, "config"], front))

    shown = records
    if len(records) > MAX_TABLE_ROWS:  # the best trials by the first metric, in id order
        shown = sorted(sorted(records, key=rank)[:MAX_TABLE_ROWS], key=lambda r: r.trial_id)
    keys = sorted({k for r in shown for k in flatten_config(r.config)})
    rows: list[list[Any]] = []
    for r in shown:
        final = r.trial.final_metrics or {}
        flat = flatten_config(r.config)
        took = (r.finished_at - r.started_at) if r.finished_at and r.started_at else None
        rows.append([r.trial_id, r.state.name, *[final.get(m) for m in metrics],
                     *[flat.get(k, "") for k in keys], "" if took is None else took])  # fmt: skip
    note = "" if len(records) <= MAX_TABLE_ROWS else (
        f'<p class="note">The best {MAX_TABLE_ROWS} of {len(records)} trials by '
        f"{html.escape(metrics[0])}; the figures show every trial.</p>"
    )  # fmt: skip
    table = (
        "<h2>Trials</h2>" + note + '<div class="scroll">'
        + _table(["trial", "state", *metrics, *keys, "seconds"], rows) + "</div>"
    )  # fmt: skip
    del records, complete, shown, rows  # the figures need only the Optuna view

    made = time.strftime("%Y-%m-%d %H:%M:%S")
    with out.open("w", encoding="utf-8") as page:  # written as drawn: one figure in memory
        page.write(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>hposampler report: {html.escape(study.name)}</title>
<style>{_STYLE}</style>
<script type="text/javascript">{offline.get_plotlyjs()}</script>
</head><body>
<h1>Study {html.escape(study.name)}</h1>
<p class="note">Made by hposampler on {made}; figures by Optuna's visualization module.</p>
""")
        page.write("".join(head))
        for title, draw, figure_note in _figures(view, metrics):
            try:
                body = draw().to_html(
                    full_html=False, include_plotlyjs=False, config={"displaylogo": False}
                )
            except Exception as exc:
                body = f'<p class="note">Not drawn: {html.escape(str(exc))}</p>'
            page.write(f"<h2>{html.escape(title)}</h2>\n{figure_note}{body}")
        page.write(table)
        page.write("\n</body></html>\n")
    return out
