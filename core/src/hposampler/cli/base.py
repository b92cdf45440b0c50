"""The ``hposampler`` command group and what every command shares: error reporting, the
``--storage`` and ``--output`` options, the console."""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hposampler import __version__
from hposampler.errors import HposamplerError

F = TypeVar("F", bound=Callable[..., Any])


def draws_live() -> bool:
    """Whether standard output is a terminal (or ``FORCE_COLOR`` asks for one), where a
    live progress bar can be drawn: rich, the bar's library, decides the same way."""
    return sys.stdout.isatty() or bool(os.environ.get("FORCE_COLOR"))


def make_console() -> Any:
    from rich.console import Console

    console = Console(soft_wrap=True)
    if not console.is_terminal:  # piped or captured: no terminal width to respect
        console = Console(soft_wrap=True, width=max(console.width, 160))
    return console


_STYLE = r"(?:bold|dim|italic|red|green|yellow|blue|magenta|cyan)"
_MARKUP = re.compile(rf"\[/?{_STYLE}(?: {_STYLE})*\]|\[/\]")


class PlainConsole:
    """Prints what :func:`make_console`'s console would, as plain text, without rich.

    For output that is not a terminal, where rich would draw no colours anyway:
    importing it costs some 35 ms, paid by every worker process at the end of a
    run. Style markup (``[yellow]...[/]``) is dropped; tables print through
    their ``plain()`` method.
    """

    def print(self, item: Any, highlight: bool = False) -> None:
        plain = getattr(item, "plain", None)
        click.echo(plain() if callable(plain) else _MARKUP.sub("", str(item)))


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


class PluginGroup(click.Group):
    """A command group whose commands are its own, then those plugins register.

    Plugin commands (the ``register_commands`` hook) are listed by name and
    description and built only when one runs or shows its help; a plugin command
    named like one of the group's own is a clash (``hposampler list`` shows it).
    """

    def plugin_commands(self) -> dict[str, Any]:
        """The commands plugins register, by name (the group's own are reserved first, so a
        plugin's command of the same name is a clash, not a replacement)."""
        from hposampler.plugins.registry import PluginInfo, get_registry
        from hposampler.plugins.specs import CommandSpec

        registry = get_registry()
        own = [
            CommandSpec(name, functools.partial(self.commands.__getitem__, name))
            for name in self.commands
        ]
        registry.reserve("command", own, PluginInfo("hposampler.cli", "hposampler.cli",
                                                    source="builtin"))  # fmt: skip
        return {n: spec for n, (spec, _) in registry.commands().items() if n not in self.commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The group's commands and the plugins' ones, by name."""
        return sorted({*self.commands, *self.plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The group's own command (no plugin is loaded for it), else a plugin's (built now)."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = self.plugin_commands().get(cmd_name)
        if spec is None:
            return None
        command: click.Command = spec.factory()
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands with their short help; a plugin's from its spec (not built)."""
        plugins = self.plugin_commands()
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        rows = []
        for name in names:
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, plugins[name].description))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
