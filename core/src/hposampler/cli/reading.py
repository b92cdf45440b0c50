"""Reading studies: ``hposampler show``, ``studies`` and ``export``."""

from __future__ import annotations

import json
from typing import Any

import click

from hposampler.cli.base import (
    make_console,
    storage_option,
    user_errors,
)
from hposampler.cli.display import (
    print_best,
    results_table,
    when,
)


@click.command()
@click.argument("name")
@storage_option
@click.option("--limit", type=int, default=None, help="Show only the last N trials.")
@click.option(
    "--trial", "trial_id", type=int, default=None,
    help="Show one trial whole: config, metrics, reports, extras, internal state, the "
    "full traceback of a failure.",
)  # fmt: skip
@click.option(
    "--importance", is_flag=True,
    help="Print the parameters' importances: the `importance` command of a plugin "
    "(hposampler-views).",
)  # fmt: skip
@click.option(
    "--evaluator", type=click.Choice(["fanova", "ped-anova", "mdi"]), default="fanova",
    show_default=True, help="Importance evaluator for --importance.",
)  # fmt: skip
@click.option("--metric", help="Metric --importance explains (default: the first).")
@user_errors
def show(
    name: str,
    storage: str,
    limit: int | None,
    trial_id: int | None,
    importance: bool,
    evaluator: str,
    metric: str | None,
) -> None:
    """Show the trials of study NAME and its best trial(s).

    Studies whose objectives report get a "last step" column; pruned trials show
    PRUNED (the objective stopped itself) or PRUNED_POOR_PERFORMANCE (the pruner
    stopped it), with their last reported metrics. --trial N shows one trial in
    full; --importance ranks the parameters by how much they explain the metric.
    A study of the `auto` sampler also says which backend proposed which trials
    and why.
    """
    from hposampler.study.study import Study

    study = Study.load(storage, name, read_only=True)
    if trial_id is not None:
        _show_trial(study, trial_id)
        return
    if importance:
        _show_importance(study.name, storage, evaluator, metric)
        return
    every = study.records()
    records = every[-limit:] if limit is not None else every
    console = make_console()
    console.print(
        results_table(
            f"Study {name} ({study.config.sampler}"
            + (f", pruner {study.config.pruner})" if study.config.pruner else ")"),
            records,
            study.optim_metrics,
            study.constraints,
        )
    )
    print_best(study, console)
    if study.config.warm_start:
        console.print(study.warm_start().summary(), highlight=False)
    from hposampler.auto import explain

    for line in explain((r.trial_id, r.internal) for r in every):
        console.print(f"auto: {line}", highlight=False)


@click.command()
@storage_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@user_errors
def studies(storage: str, as_json: bool) -> None:
    """List the studies in a storage: sampler, trials by state, best, last activity."""
    from rich.table import Table

    from hposampler.samplers.trial import TrialState
    from hposampler.storage import make_storage
    from hposampler.study.results import study_summary
    from hposampler.study.study import Study

    store = make_storage(storage, read_only=True)
    rows = []
    for name in store.study_names():
        study = Study.load(store, name, read_only=True)
        records = study.records()
        metrics = study.optim_metrics
        done = [r for r in records if r.state == TrialState.COMPLETE and r.final_metrics]
        best: Any = None
        if len(metrics) == 1 and done:
            ((metric, direction),) = metrics.items()
            values = [v for r in done if (v := (r.final_metrics or {}).get(metric)) is not None]
            if values:
                best = {metric: min(values) if direction == "min" else max(values)}
        elif done:
            best = {"pareto_front": len(study.best_trials)}
        stamps = [t for r in records for t in (r.finished_at, r.heartbeat_at, r.started_at) if t]
        rows.append({
            "name": name, "sampler": study.config.sampler, "trials": len(records),
            "states": study_summary(records), "best": best,
            "last_activity": when(max(stamps)) if stamps else None,
        })  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Studies in {store.url}", title_justify="left")
    for column in ("name", "sampler", "trials", "best", "last activity"):
        table.add_column(column, justify="right" if column == "trials" else "left")
    for row in rows:
        states = ", ".join(f"{n} {s}" for s, n in sorted(row["states"].items()))
        best = row["best"] or {}
        shown = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in best.items())  # fmt: skip
        table.add_row(row["name"], row["sampler"], f"{row['trials']} ({states})" if states
                      else "0", shown or "-", row["last_activity"] or "-")  # fmt: skip
    console = make_console()
    console.print(table)
    if not rows:
        console.print("no studies yet", highlight=False)


def _show_trial(study: Any, trial_id: int) -> None:
    from hposampler.errors import UnknownTrialError

    records = study.records()
    found = next((r for r in records if r.trial_id == trial_id), None)
    if found is None:
        raise UnknownTrialError(
            f"study {study.name!r} has no trial {trial_id}; its trials are 0 to {len(records) - 1}"
            if records
            else f"study {study.name!r} has no trials yet"
        )
    took = (
        f"{found.finished_at - found.started_at:.3f} s"
        if found.finished_at is not None and found.started_at is not None
        else "-"
    )
    lines = [
        f"trial {found.trial_id} of study {study.name}: {found.state.name}",
        f"attempts: {found.attempts}   worker: {found.worker or '-'}",
        f"started: {when(found.started_at)}   finished: {when(found.finished_at)}   took: {took}",
        "config: " + json.dumps(found.config, indent=2, sort_keys=True),
        "metrics: " + json.dumps(found.metrics),
    ]
    if found.intermediate:
        lines.append("reports (step: metrics):")
        lines += [f"  {step}: {json.dumps(m)}" for step, m in found.intermediate]
    if found.extra:
        lines.append("extras: " + json.dumps(found.extra, indent=2, sort_keys=True))
    if found.user_attrs:
        lines.append("user attrs: " + json.dumps(found.user_attrs, indent=2, sort_keys=True))
    if found.internal is not None:
        lines.append("internal: " + json.dumps(found.internal, indent=2, sort_keys=True))
    if found.error:
        lines.append("error:\n" + found.error.rstrip())
    click.echo("\n".join(lines))


def _show_importance(name: str, storage: str, evaluator: str, metric: str | None) -> None:
    """``show --importance``: the ``importance`` command a plugin adds, if one does."""
    from hposampler.errors import MissingDependencyError

    ctx = click.get_current_context()
    group = ctx.find_root().command
    command = group.get_command(ctx, "importance") if isinstance(group, click.Group) else None
    if command is None:
        raise MissingDependencyError(
            "show --importance runs the `importance` command, which no installed plugin "
            "adds; install hposampler-views (Optuna's importance evaluators)"
        )
    ctx.invoke(command, name=name, storage=storage, evaluator=evaluator, metric=metric)


@click.command()
@click.argument("name")
@storage_option
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File (default: stdout).")
@user_errors
def export(name: str, storage: str, fmt: str, output: str | None) -> None:
    """Export the trials of study NAME as CSV or JSON records.

    Each row has the trial's id, state, started_at / finished_at (ISO 8601, UTC),
    duration, metrics, params.*, extra.* and user_attrs.* columns and the last line
    of its error;
    JSON also has the whole stored traceback (traceback).
    """
    import csv
    import io

    from hposampler.study.study import Study

    rows = Study.load(storage, name, read_only=True).to_records(full_errors=fmt == "json")
    if fmt == "json":
        text = json.dumps(rows, indent=2) + "\n"
    else:
        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()}
            )
        text = buffer.getvalue()
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        click.echo(f"wrote {len(rows)} trials to {output}")
    else:
        click.echo(text, nl=False)
