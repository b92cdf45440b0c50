"""The ``hposampler`` command group and what every command shares: error reporting, the
``--storage`` and ``--output`` options, the console."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hposampler import __version__
from hposampler.errors import HposamplerError

F = TypeVar("F", bound=Callable[..., Any])


def make_console() -> Any:
    from rich.console import Console

    console = Console(soft_wrap=True)
    if not console.is_terminal:  # piped or captured: no terminal width to respect
        console = Console(soft_wrap=True, width=max(console.width, 160))
    return console


def user_errors(func: F) -> F:
    """Turn hposampler errors into one red line and exit code 2 (traceback with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return func(*args, **kwargs)
        except (HposamplerError, FileNotFoundError, sqlite3.DatabaseError) as exc:
            if (ctx.find_root().params.get("debug") or kwargs.get("debug")) is True:
                raise
            message = str(exc)
            if isinstance(exc, sqlite3.DatabaseError):  # a damaged page found mid-read
                message = (
                    f"the SQLite file is damaged ({exc}): restore a backup, or recover "
                    "what is left with `sqlite3 FILE .recover | sqlite3 NEW.db`"
                )
            click.secho(f"error: {message}", fg="red", err=True)
            ctx.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hposampler")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
def main(debug: bool) -> None:
    """hposampler: pluggable hyperparameter samplers and a crash-safe study runner.

    \b
    Samplers come from plugins (hposampler-grid, hposampler-optuna,
    hposampler-skopt, hposampler-nevergrad, hposampler-hyperopt, or your
    own). `hposampler list` shows what is installed.
    """


def storage_option(func: F) -> F:
    return click.option(
        "--storage",
        default="hposampler.db",
        show_default=True,
        help="SQLite file holding the study, sqlite:///path, or a storage URL "
        "(postgresql://user:pass@host:5432/db).",
    )(func)


def output_option(default: str, help_text: str) -> Callable[[F], F]:
    """``-o/--output FILE`` with a default, for commands that write one file."""
    option: Callable[[F], F] = click.option(
        "-o", "--output", default=default, show_default=True,
        type=click.Path(dir_okay=False), help=help_text,
    )  # fmt: skip
    return option


def optuna_module(module: str, what: str) -> Any:
    """``hposampler_optuna.<module>``, or one line naming what to install."""
    import importlib

    from hposampler.errors import MissingDependencyError

    try:
        return importlib.import_module(f"hposampler_optuna.{module}")
    except ImportError as exc:
        if isinstance(exc, MissingDependencyError):
            raise
        raise MissingDependencyError(
            f"{what} needs the Optuna plugin with its extra ({exc}); install it with "
            "pip install 'hposampler-optuna[dashboard]'"
        ) from None
