"""``hposampler list``: the installed samplers, pruners, executors, storages and the
commands plugins add."""

from __future__ import annotations

import json
from typing import Any

import click

from hposampler.cli.base import (
    make_console,
    user_errors,
)


def _options(spec: Any) -> list[dict[str, Any]]:
    return [{"name": o.name, "default": _jsonable(o.default), "doc": o.doc} for o in spec.options]


def _samplers(registry: Any) -> list[dict[str, Any]]:
    aliases_of: dict[str, list[str]] = {}  # the aliases each sampler holds (not lost in a clash)
    for alias, target in registry.aliases().items():
        aliases_of.setdefault(target, []).append(alias)
    return [
        {
            "name": name,
            "aliases": [a for a in spec.aliases if a in aliases_of.get(name, [])],
            "description": spec.description,
            "plugin": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "capabilities": spec.capabilities,
            "max_pending": spec.max_pending,
            "options": _options(spec),
            "requires": list(spec.requires),
        }
        for name, (spec, info) in sorted(registry.samplers().items())
    ]


def _pruners(registry: Any) -> list[dict[str, Any]]:
    aliases_of: dict[str, list[str]] = {}
    for alias, target in sorted(registry.pruner_aliases().items()):
        aliases_of.setdefault(target, []).append(alias)
    return [
        {
            "name": name,
            "aliases": aliases_of.get(name, []),
            "description": spec.description,
            "plugin": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "options": _options(spec),
        }
        for name, (spec, info) in sorted(registry.pruners().items())
    ]


def _problems(registry: Any) -> dict[str, list[dict[str, Any]]]:
    """Plugins that failed, were disabled, or clashed."""
    failed = [
        {"plugin": f.name, "distribution": f.distribution, "version": f.version,
         "stage": f.stage, "error": f.error}
        for f in registry.failures
    ]  # fmt: skip
    clashes = [
        {"kind": c.kind, "value": c.value, "kept": c.kept,
         "kept_distribution": c.kept_plugin.distribution, "ignored": c.dropped,
         "ignored_distribution": c.dropped_plugin.distribution, "message": str(c)}
        for c in registry.clashes
    ]  # fmt: skip
    disabled = [{"plugin": d.name, "distribution": d.distribution} for d in registry.disabled]
    return {"failed": failed, "disabled": disabled, "clashes": clashes}


def plugin_listing() -> dict[str, Any]:
    """What ``hposampler list --json`` prints: every plugin kind, and the plugins'
    failures, disabled plugins and clashes."""
    from hposampler.cli.base import main
    from hposampler.plugins.registry import get_registry

    main.plugin_commands()  # the core's commands first: a plugin's namesake is a clash
    registry = get_registry()
    executors = [
        {"name": name, "description": spec.description, "plugin": info.name}
        for name, (spec, info) in sorted(registry.executors().items())
    ]
    storages = [
        {"scheme": scheme, "description": spec.description, "plugin": info.name}
        for scheme, (spec, info) in sorted(registry.storages().items())
        if scheme == spec.scheme
    ]
    commands = [
        {"name": name, "description": spec.description, "plugin": info.name,
         "distribution": info.distribution}
        for name, (spec, info) in sorted(registry.commands().items())
        if info.source != "builtin"
    ]  # fmt: skip
    return {
        "samplers": _samplers(registry),
        "pruners": _pruners(registry),
        "executors": executors,
        "storages": storages,
        "commands": commands,
        **_problems(registry),
    }


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _option_rows(spec: Any) -> list[tuple[str, str, str, str]]:
    """(name, default, accepted values, doc) per option of a sampler or pruner spec."""
    rows = []
    for o in spec.options:
        if o.choices is not None:
            accepted = "one of " + ", ".join(map(repr, o.choices))
        elif o.types is not None:
            accepted = " or ".join(
                "None" if t is type(None) else getattr(t, "__name__", str(t)) for t in o.types
            )
        else:
            accepted = "any"
        if o.low is not None or o.high is not None:
            low = "" if o.low is None else f"{o.low} <= "
            high = "" if o.high is None else f" <= {o.high}"
            accepted += f" ({low}value{high})"
        rows.append((o.name, repr(_jsonable(o.default)), accepted, o.doc))
    return rows


def _lookup(name: str) -> tuple[str, Any, Any]:
    """``(kind, spec, plugin)`` of the sampler, else the pruner, called ``name``.

    Raises
    ------
    UnknownPluginError
        The sampler's (its close matches are the likelier ones).
    """
    from hposampler.errors import UnknownPluginError
    from hposampler.plugins.registry import get_registry

    registry = get_registry()
    try:
        return ("sampler", *registry.lookup("sampler", name))
    except UnknownPluginError as sampler_error:
        try:
            return ("pruner", *registry.lookup("pruner", name))
        except UnknownPluginError:
            raise sampler_error from None


def _show_one(name: str) -> None:
    """``hposampler list NAME``: one sampler's (or pruner's) flags and options."""
    from rich.table import Table

    kind, spec, info = _lookup(name)
    console = make_console()
    dist = f"{info.distribution} {info.version}" if info.distribution else info.name
    console.print(f"[bold]{spec.name}[/] ({kind}, from {dist}): {spec.description}",
                  highlight=False)  # fmt: skip
    if spec.aliases:
        console.print(f"aliases: {', '.join(spec.aliases)}", highlight=False)
    caps = getattr(spec, "capabilities", None)
    if caps:
        console.print(f"capabilities: {', '.join(k for k, v in caps.items() if v) or 'none'}",
                      highlight=False)  # fmt: skip
    if getattr(spec, "requires", ()):
        console.print(f"requires: {', '.join(spec.requires)} ({spec.install_hint})",
                      highlight=False)  # fmt: skip
    if not spec.options:
        console.print("options: none")
        return
    table = Table(title="Options", title_justify="left")
    for col in ("option", "default", "accepts", "meaning"):
        table.add_column(col, overflow="fold")
    for row in _option_rows(spec):
        table.add_row(*row)
    console.print(table)


@click.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@user_errors
def list_cmd(name: str | None, as_json: bool) -> None:
    """List installed samplers, pruners, executors, storages, plugin commands, and plugins
    that failed, clashed or are disabled.

    With NAME (a sampler or pruner name or alias, e.g. ``hposampler list tpe``): that
    one's capabilities and options, with their defaults, accepted values and meaning.
    """
    if name is not None and not as_json:
        _show_one(name)
        return
    listing = plugin_listing()
    if name is not None:  # --json NAME: that entry of the listing
        kind, spec, _ = _lookup(name)
        entries = [e for e in listing[f"{kind}s"] if e["name"] == spec.name]
        click.echo(json.dumps(entries[0] if entries else {"name": spec.name}, indent=2))
        return
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    from rich.table import Table

    console = make_console()
    if not listing["samplers"]:
        console.print(
            "[yellow]No samplers are installed.[/] Install a plugin distribution, e.g. from "
            "a clone of hposampler `pip install ./core ./plugins/grid ./plugins/optuna`, or "
            "see docs/plugins.md to write one."
        )
    else:
        table = Table(title="Samplers", title_justify="left")
        longest = max(len(s["name"]) for s in listing["samplers"])
        table.add_column("name", no_wrap=True, min_width=longest)  # names are never cut
        for col in ("aliases", "plugin", "capabilities", "description"):
            table.add_column(col, overflow="fold")
        for s in listing["samplers"]:
            caps = ", ".join(k for k, v in s["capabilities"].items() if v)
            dist = f"{s['distribution']} {s['version']}" if s["distribution"] else s["plugin"]
            table.add_row(s["name"], ", ".join(s["aliases"]), dist, caps, s["description"])
        console.print(table)
    if listing["pruners"]:
        table = Table(title="Pruners", title_justify="left")
        longest = max(len(p["name"]) for p in listing["pruners"])
        table.add_column("name", no_wrap=True, min_width=longest)
        for col in ("aliases", "plugin", "options", "description"):
            table.add_column(col, overflow="fold")
        for p in listing["pruners"]:
            dist = f"{p['distribution']} {p['version']}" if p["distribution"] else p["plugin"]
            options = ", ".join(o["name"] for o in p["options"])
            table.add_row(p["name"], ", ".join(p["aliases"]), dist, options, p["description"])
        console.print(table)
    ex = ", ".join(e["name"] for e in listing["executors"])
    console.print(f"Executors: {ex or 'none'}")
    schemes = ", ".join(f"{s['scheme']}://" for s in listing["storages"])
    console.print(f"Storages: {schemes or 'none'}", highlight=False)
    commands = ", ".join(c["name"] for c in listing["commands"])
    console.print(f"Commands from plugins: {commands or 'none'}", highlight=False)
    for f in listing["failed"]:
        dist = f" ({f['distribution']} {f['version']})" if f["distribution"] else ""
        console.print(
            f"[red]Failed plugin[/] {f['plugin']}{dist}: could not {f['stage']}: {f['error']}",
            markup=True,
            highlight=False,
        )
    for c in listing["clashes"]:
        console.print(f"[yellow]Clash:[/] {c['message']}", markup=True, highlight=False)
    for d in listing["disabled"]:
        console.print(f"[dim]Disabled plugin {d['plugin']} (HPOSAMPLER_DISABLE_PLUGINS)[/]")
