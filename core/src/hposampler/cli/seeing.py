"""Seeing a study through Optuna's views: ``hposampler report``, ``dashboard`` and ``plot``."""

from __future__ import annotations

import click

from hposampler.cli.base import (
    optuna_module,
    output_option,
    storage_option,
    user_errors,
)


@click.command()
@click.argument("name")
@storage_option
@output_option("report.html", "HTML file to write.")
@user_errors
def report(name: str, storage: str, output: str) -> None:
    """Write a self-contained HTML report of study NAME (opens offline).

    Summary (sampler, pruner, states, best trial or Pareto front), then Optuna's
    figures of the study: optimization history, parallel coordinate, parameter
    importances, slice, contour of the two most important parameters,
    intermediate values when trials reported, Pareto front for several metrics,
    timeline; and a table of the trials. Needs hposampler-optuna[dashboard]
    (Optuna and plotly); plotly.js is embedded in the file.
    """
    from hposampler.study.study import Study

    module = optuna_module("report", "hposampler report")
    study = Study.load(storage, name, read_only=True)
    path = module.write_report(study, output)
    click.echo(f"wrote {path} ({len(study.records())} trials)")


@click.command()
@click.argument("name")
@storage_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--refresh",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.0),
    help="Seconds between two looks at the storage for new trials.",
)
@user_errors
def dashboard(name: str, storage: str, host: str, port: int, refresh: float) -> None:
    """Serve optuna-dashboard on study NAME, live and read-only, until Ctrl-C.

    Trials that workers store while it runs appear on the next reload: each read
    checks the study's revision (at most every --refresh seconds) and copies the
    study again when it changed. It never writes the study (the dashboard's
    forms are refused). Listens on 127.0.0.1 unless --host says otherwise.
    Needs hposampler-optuna[dashboard].
    """
    from hposampler.study.study import Study

    module = optuna_module("dashboard", "hposampler dashboard")
    Study.load(storage, name, read_only=True).storage.close()  # a wrong name fails now
    click.echo(f"study {name}: dashboard on http://{host}:{port}/ (Ctrl-C stops it)")
    module.serve(lambda: Study.load(storage, name, read_only=True), host, port, refresh)


@click.command()
@click.argument("name")
@storage_option
@output_option("history.png", "PNG file to write.")
@click.option("--metric", help="Metric to plot (default: the first).")
@user_errors
def plot(name: str, storage: str, output: str, metric: str | None) -> None:
    """Plot study NAME: best-so-far history and the metric against each parameter.

    When trials reported as they ran, a first panel draws their learning curves
    (reported value by step), pruned trials marked with an x where they stopped.
    """
    from hposampler.study.study import Study
    from hposampler.viz.plotting import plot_study

    path = plot_study(Study.load(storage, name, read_only=True), output, metric)
    click.echo(f"wrote {path}")
