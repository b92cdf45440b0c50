"""The ``hposampler`` command line."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import __version__
from .errors import HposamplerError

F = TypeVar("F", bound=Callable[..., Any])


def _console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=True)


def user_errors(func: F) -> F:
    """Turn hposampler errors into one red line and exit code 2 (traceback with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return func(*args, **kwargs)
        except (HposamplerError, FileNotFoundError) as exc:
            if (ctx.find_root().params.get("debug") or kwargs.get("debug")) is True:
                raise
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hposampler")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
def main(debug: bool) -> None:
    """hposampler: pluggable hyperparameter samplers and a crash-safe study runner.

    \b
    Samplers come from plugins (hposampler-grid, hposampler-optuna,
    hposampler-skopt, or your own). `hposampler list` shows what is installed.
    """


def _plugin_listing() -> dict[str, Any]:
    from .plugins import get_registry

    registry = get_registry()
    samplers = []
    for name, (spec, info) in sorted(registry.samplers().items()):
        samplers.append(
            {
                "name": name,
                "aliases": list(spec.aliases),
                "description": spec.description,
                "plugin": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "capabilities": spec.capabilities,
                "options": [
                    {"name": o.name, "default": _jsonable(o.default), "doc": o.doc}
                    for o in spec.options
                ],
                "requires": list(spec.requires),
            }
        )
    executors = [
        {"name": name, "description": spec.description, "plugin": info.name}
        for name, (spec, info) in sorted(registry.executors().items())
    ]
    return {
        "samplers": samplers,
        "executors": executors,
        "failed": [
            {
                "plugin": f.name,
                "distribution": f.distribution,
                "version": f.version,
                "stage": f.stage,
                "error": f.error,
            }
            for f in registry.failures
        ],
        "disabled": [{"plugin": d.name, "distribution": d.distribution} for d in registry.disabled],
    }


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@user_errors
def list_cmd(as_json: bool) -> None:
    """List installed samplers, executors, and plugins that failed or are disabled."""
    listing = _plugin_listing()
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    from rich.table import Table

    console = _console()
    if not listing["samplers"]:
        console.print(
            "[yellow]No samplers are installed.[/] Install a plugin distribution, e.g. "
            "`pip install hposampler-grid hposampler-optuna`, or see docs/plugins.md to "
            "write one."
        )
    else:
        table = Table(title="Samplers", title_justify="left")
        for col in ("name", "aliases", "plugin", "capabilities", "description"):
            table.add_column(col)
        for s in listing["samplers"]:
            caps = ", ".join(k for k, v in s["capabilities"].items() if v)
            dist = f"{s['distribution']} {s['version']}" if s["distribution"] else s["plugin"]
            table.add_row(s["name"], ", ".join(s["aliases"]), dist, caps, s["description"])
        console.print(table)
    ex = ", ".join(e["name"] for e in listing["executors"])
    console.print(f"Executors: {ex or 'none'}")
    for f in listing["failed"]:
        dist = f" ({f['distribution']} {f['version']})" if f["distribution"] else ""
        console.print(
            f"[red]Failed plugin[/] {f['plugin']}{dist}: could not {f['stage']}: {f['error']}",
            markup=True,
            highlight=False,
        )
    for d in listing["disabled"]:
        console.print(f"[dim]Disabled plugin {d['plugin']} (HPOSAMPLER_DISABLE_PLUGINS)[/]")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
