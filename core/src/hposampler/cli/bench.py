"""``hposampler bench``: samplers against each other on the built-in problems."""

from __future__ import annotations

from typing import Any

import click

from hposampler.cli.base import (
    make_console,
    user_errors,
)


@click.command()
@click.option(
    "--samplers",
    default="random,tpe",
    show_default=True,
    help="Comma-separated sampler names or aliases.",
)
@click.option(
    "--problems",
    default="branin,hartmann6",
    show_default=True,
    help="Comma-separated problems from hposampler.problems.",
)
@click.option(
    "--budget", type=click.IntRange(min=1), default=50, show_default=True, help="Trials per run."
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Runs (seeds 0..repeats-1) per sampler and problem.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Also write median regret curves to this PNG.",
)
@user_errors
def bench(samplers: str, problems: str, budget: int, repeats: int, output: str | None) -> None:
    """Compare samplers on standard problems (median best, regret, time per trial).

    \b
    Example:
      hposampler bench --samplers tpe,skopt:gp,random --problems branin,hartmann6 \\
          --budget 50 --repeats 5 -o bench.png
    """
    from rich.progress import Progress
    from rich.table import Table

    from hposampler.bench import plot_bench, run_bench, summarize
    from hposampler.selection import get_sampler_spec

    names = [s.strip() for s in samplers.split(",") if s.strip()]
    problem_names = [p.strip() for p in problems.split(",") if p.strip()]
    for name in names:
        get_sampler_spec(name)  # unknown names fail before any run
    console = make_console()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("runs", total=len(names) * len(problem_names) * repeats)

        def on_run(run: Any) -> None:
            progress.update(task, advance=1, description=f"{run.problem} / {run.sampler}")

        runs = run_bench(names, problem_names, budget, repeats, on_run=on_run)
    table = Table(title=f"{budget} trials, {repeats} seeds", title_justify="left")
    for column in ("problem", "sampler", "median best", "median regret", "ms / trial"):
        table.add_column(column, justify="left" if column in ("problem", "sampler") else "right")
    for row in summarize(runs):
        table.add_row(
            row["problem"],
            row["sampler"],
            f"{row['median_best']:.6g}",
            f"{row['median_regret']:.4g}",
            f"{row['ms_per_trial']:.1f}",
        )
    console.print(table)
    if output:
        console.print(f"wrote {plot_bench(runs, output)}")
