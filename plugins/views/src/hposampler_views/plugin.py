"""The views plugin: ``hposampler report``, ``dashboard`` and ``importance``.

Registered through the ``register_commands`` hook; each command is built only
when it runs or shows its help, and imports Optuna, plotly or optuna-dashboard
only then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hposampler import hookimpl
from hposampler.plugins.specs import CommandSpec

__all__ = ["EVALUATOR_CHOICES", "register_commands"]

#: ``--evaluator`` choices of ``hposampler importance`` (and ``show --importance``).
EVALUATOR_CHOICES = ("fanova", "ped-anova", "mdi")


def _report() -> Any:
    import click

    from hposampler.cli.base import output_option, storage_option, user_errors

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
        timeline; and a table of the trials. plotly.js is embedded in the file.
        """
        from hposampler import Study

        from .report import write_report

        study = Study.load(storage, name, read_only=True)
        path = write_report(study, output)
        click.echo(f"wrote {path} ({len(study.records())} trials)")

    return report


def _dashboard() -> Any:
    import click

    from hposampler.cli.base import storage_option, user_errors

    @click.command()
    @click.argument("name")
    @storage_option
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
    @click.option(
        "--refresh", default=1.0, show_default=True, type=click.FloatRange(0.0),
        help="Seconds between two looks at the storage for new trials.",
    )  # fmt: skip
    @user_errors
    def dashboard(name: str, storage: str, host: str, port: int, refresh: float) -> None:
        """Serve optuna-dashboard on study NAME, live and read-only, until Ctrl-C.

        Trials that workers store while it runs appear on the next reload: each read
        checks the study's revision (at most every --refresh seconds) and copies the
        study again when it changed. It never writes the study (the dashboard's
        forms are refused). Listens on 127.0.0.1 unless --host says otherwise.
        Needs optuna-dashboard (hposampler-views[dashboard]).
        """
        from hposampler import Study

        from .dashboard import serve

        Study.load(storage, name, read_only=True).storage.close()  # a wrong name fails now

        def listening(url: str) -> None:  # the port it got (--port 0: a free one)
            click.echo(f"study {name}: dashboard on {url} (Ctrl-C stops it)")

        serve(lambda: Study.load(storage, name, read_only=True), host, port, refresh, listening)

    return dashboard


def _importance() -> Any:
    import click

    from hposampler.cli.base import storage_option, user_errors

    @click.command()
    @click.argument("name")
    @storage_option
    @click.option(
        "--evaluator", type=click.Choice(EVALUATOR_CHOICES), default="fanova",
        show_default=True, help="Optuna's importance evaluator.",
    )  # fmt: skip
    @click.option("--metric", help="Metric to explain (default: the first).")
    @user_errors
    def importance(name: str, storage: str, evaluator: str, metric: str | None) -> None:
        """Rank the parameters of study NAME by how much they explain a metric."""
        from hposampler import Study

        from .view import importances

        study = Study.load(storage, name, read_only=True)
        found = importances(study, evaluator, metric)
        chosen = metric or next(iter(study.optim_metrics))
        click.echo(f"importance of each parameter for {chosen} ({evaluator}):")
        width = max((len(k) for k in found), default=0)
        for key, value in found.items():
            click.echo(f"  {key:<{width}}  {value:6.3f}  {'#' * round(value * 40)}")

    return importance


@hookimpl
def register_commands(register: Callable[[CommandSpec], None]) -> None:
    """Register ``report``, ``dashboard`` and ``importance``."""
    register(
        CommandSpec(
            "report", _report, "Write a self-contained HTML report of study NAME (opens offline)."
        )
    )
    register(
        CommandSpec(
            "dashboard", _dashboard, "Serve optuna-dashboard on study NAME, live and read-only."
        )
    )
    register(
        CommandSpec(
            "importance",
            _importance,
            "Rank the parameters of study NAME by how much they explain a metric.",
        )
    )
