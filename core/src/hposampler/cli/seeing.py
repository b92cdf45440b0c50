"""Seeing a study: ``hposampler plot`` (matplotlib). ``report``, ``dashboard`` and
``importance`` come from a plugin (hposampler-views)."""

from __future__ import annotations

import click

from hposampler.cli.base import output_option, storage_option, user_errors


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
