"""The ``hposampler`` command line."""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import __version__
from .errors import HposamplerError

F = TypeVar("F", bound=Callable[..., Any])


def _console() -> Any:
    from rich.console import Console

    console = Console(soft_wrap=True)
    if not console.is_terminal:  # piped or captured: no terminal width to respect
        console = Console(soft_wrap=True, width=max(console.width, 160))
    return console


#: ``hposampler run``'s exit code when every trial failed (2 is a user error, 130 Ctrl-C).
EXIT_ALL_FAILED = 3


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
                "max_pending": spec.max_pending,
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
    storages = [
        {"scheme": scheme, "description": spec.description, "plugin": info.name}
        for scheme, (spec, info) in sorted(registry.storages().items())
        if scheme == spec.scheme
    ]
    aliases_of: dict[str, list[str]] = {}
    for alias, target in sorted(registry.pruner_aliases().items()):
        aliases_of.setdefault(target, []).append(alias)
    pruners = [
        {
            "name": name,
            "aliases": aliases_of.get(name, []),
            "description": spec.description,
            "plugin": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "options": [
                {"name": o.name, "default": _jsonable(o.default), "doc": o.doc}
                for o in spec.options
            ],
        }
        for name, (spec, info) in sorted(registry.pruners().items())
    ]
    return {
        "samplers": samplers,
        "pruners": pruners,
        "executors": executors,
        "storages": storages,
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
        "clashes": [
            {
                "kind": c.kind,
                "value": c.value,
                "kept": c.kept,
                "kept_distribution": c.kept_plugin.distribution,
                "ignored": c.dropped,
                "ignored_distribution": c.dropped_plugin.distribution,
                "message": str(c),
            }
            for c in registry.clashes
        ],
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
    """List installed samplers, pruners, executors, storages, and plugins that failed or are
    disabled."""
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


def _metric_text(record: Any, metrics: dict[str, str]) -> str:
    final = record.final_metrics or {}
    return ", ".join(
        f"{m}={final[m]:.6g}" if final.get(m) is not None else f"{m}=None" for m in metrics
    )


def _results_table(
    title: str, records: list[Any], metrics: dict[str, str], constraints: tuple[str, ...] = ()
) -> Any:
    from rich.table import Table

    from .study import _flatten, is_feasible

    table = Table(title=title, title_justify="left")
    table.add_column("trial", justify="right")
    table.add_column("state")
    steps = any(getattr(r, "intermediate", None) for r in records)
    if steps:
        table.add_column("last step", justify="right")
    for metric in metrics:
        table.add_column(f"{metric} ({metrics[metric]})", justify="right")
    for name in constraints:
        table.add_column(f"{name} (<= 0)", justify="right")
    if constraints:
        table.add_column("feasible")
    params = sorted({k for r in records for k in _flatten(r.config)})
    for param in params:
        table.add_column(param, overflow="fold")
    for record in records:
        final = record.final_metrics or {}
        flat = _flatten(record.config)
        cells = [str(record.trial_id), record.state.name]
        if steps:
            cells.append("" if record.last_step is None else str(record.last_step))
        cells += ["" if final.get(m) is None else f"{final[m]:.6g}" for m in metrics]
        if constraints:
            cells += ["" if final.get(c) is None else f"{final[c]:.6g}" for c in constraints]
            done = record.state.name == "COMPLETE"
            cells.append(("yes" if is_feasible(record, constraints) else "no") if done else "")
        cells += [_short(flat.get(p, "")) for p in params]
        table.add_row(*cells)
    return table


#: Table cells longer than this are cut (the full values are in `hposampler export`).
MAX_CELL = 60


def _short(value: Any) -> str:
    from .plotting import cut  # matplotlib itself is imported only to draw

    if isinstance(value, float):
        return f"{value:.6g}"
    return cut(str(value), MAX_CELL)


@main.command()
@click.argument("study_file", type=click.Path(dir_okay=False))
@click.option("--trials", type=click.IntRange(min=0), help="Total finished trials to reach.")
@click.option("--resume", is_flag=True, help="Continue the study if it exists (else create it).")
@click.option(
    "--storage",
    help="SQLite file, sqlite:///path or a storage URL such as "
    "postgresql://user:pass@host:5432/db (default: the study file's, or hposampler.db).",
)
@click.option("--executor", help="thread, process, or a plugin's executor (e.g. ray).")
@click.option("--concurrency", type=click.IntRange(min=1), help="Maximum trials in flight.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds after which no new trial starts (overrides the study file's timeout).",
)
@click.option(
    "--executor-option",
    "executor_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Executor option (repeatable); VALUE is read as JSON, else as a string.",
)
@click.option(
    "--ray-address",
    help="Ray cluster to join ('auto', 'ray://host:10001'); same as --executor-option address=...",
)
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@user_errors
def run(
    study_file: str,
    trials: int | None,
    resume: bool,
    storage: str | None,
    executor: str | None,
    concurrency: int | None,
    timeout: float | None,
    executor_option: tuple[str, ...],
    ray_address: str | None,
    debug: bool,
) -> None:
    """Run (or resume) the study described by STUDY_FILE (TOML).

    \b
    Trials are stored in SQLite as they change state; after a crash,
    `hposampler run STUDY_FILE --resume` re-runs the interrupted trials and
    continues until the study has its total number of finished trials.

    \b
    Exit codes: 0 done, 2 bad input (one line on stderr), 3 every trial
    failed, 130 interrupted (Ctrl-C; running trials are stored WAITING).
    """
    from . import arguments
    from .executors import executor_spec
    from .progress import progress_bar
    from .study import Study, load_objective
    from .studyfile import load_study_file
    from .trial import TrialState

    spec = load_study_file(study_file)
    executor_options = {**spec.executor_options, **_parse_options(executor_option)}
    if ray_address is not None:
        executor_options["address"] = ray_address
        executor = executor or "ray"
    folder = str(spec.path.resolve().parent)
    if folder not in sys.path:  # objectives beside the study file are importable, but a
        sys.path.append(folder)  # module there never shadows an installed one (optuna.py)
    objective = load_objective(spec.objective)
    # everything is checked before the study is stored: a refused run stores nothing
    executor_spec(executor or spec.executor, executor_options)
    arguments.count(concurrency or spec.concurrency, "concurrency", minimum=1)
    if trials is not None:
        arguments.count(trials, "--trials")
    study = Study.create(
        storage or spec.storage,
        spec.name,
        spec.sampler,
        spec.search_space,
        spec.metrics,
        seed=spec.seed,
        sampler_options=spec.options,
        load_if_exists=resume,
        pruner=spec.pruner,
        pruner_options=spec.pruner_options,
        constraints=spec.constraints,
    )
    if study.created:  # a study file's [[enqueue]] configs go in once: by whoever created it
        for config in spec.enqueue:
            study.enqueue(config)
    total = spec.trials if trials is None else trials
    metrics = study.optim_metrics
    console = _console()
    console.print(
        f"study [bold]{spec.name}[/] in {study.storage.url}: sampler {study.config.sampler}, "
        + (f"pruner {study.config.pruner}, " if study.config.pruner else "")
        + f"{total} trials, executor {executor or spec.executor}, "
        f"concurrency {concurrency or spec.concurrency}",
        highlight=False,
    )
    done_before = sum(1 for r in study.records() if r.state.is_finished)
    with progress_bar(metrics, total, done_before, console) as on_trial:
        optimize = functools.partial(
            study.optimize,
            objective,
            total,
            concurrency=concurrency or spec.concurrency,
            executor=executor or spec.executor,
            timeout=spec.timeout if timeout is None else timeout,
            trial_timeout=spec.trial_timeout,
            skip_duplicates=spec.skip_duplicates,
            callbacks=[on_trial],
            executor_options=executor_options,
        )
        try:
            optimize()
        except KeyboardInterrupt:
            on_trial.stop()
            console.print(
                "[yellow]interrupted:[/] running trials are stored WAITING; "
                "`hposampler run STUDY_FILE --resume` re-runs them",
                highlight=False,
            )
            _print_best(study, console, spec.objective)
            sys.stdout.flush()
            sys.stderr.flush()
            # the first Ctrl-C ends the run: objectives still running in threads are
            # abandoned (their trials are WAITING), not waited for at interpreter exit;
            # with nothing left running (worker processes are stopped), exit normally so
            # that multiprocessing releases what it holds
            others = [
                t for t in threading.enumerate()
                if t is not threading.main_thread() and not t.daemon
            ]  # fmt: skip
            deadline = time.monotonic() + 1.0  # threads that are just ending (pool managers)
            for thread in others:
                thread.join(max(0.0, deadline - time.monotonic()))
            if any(t.is_alive() for t in others):
                os._exit(130)
            sys.exit(130)
    if study.stopping:
        console.print(
            "[yellow]stopped[/] by the objective or a callback (trial.stop_study() / "
            "Study.stop()); `hposampler run STUDY_FILE --resume` goes on",
            highlight=False,
        )
    _print_best(study, console, spec.objective)
    records = study.records()
    failed = (TrialState.FAIL, TrialState.FAIL_RECOVERABLE)
    if records and all(r.state in failed for r in records):
        click.secho(
            f"error: every trial of study {spec.name!r} failed; "
            f"`hposampler show {spec.name} --storage {study.storage.url}` shows the errors",
            fg="red",
            err=True,
        )
        sys.exit(EXIT_ALL_FAILED)


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    from .errors import StudyError

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise StudyError(f"--executor-option {pair!r} must look like KEY=VALUE")
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out


def _known_optimum(study: Any, objective: Any) -> float | None:
    """The optimum of a built-in problem the study runs (``hposampler.problems:NAME``)."""
    from .problems import PROBLEMS

    if not isinstance(objective, str) or len(study.optim_metrics) != 1:
        return None
    module, _, name = objective.partition(":")
    problem = PROBLEMS.get(name) if module == "hposampler.problems" else None
    if problem is None or next(iter(study.optim_metrics.values())) != "min":
        return None
    return problem.optimum


def _print_best(study: Any, console: Any, objective: Any = None) -> None:
    from .study import study_summary

    records = study.records()
    metrics = study.optim_metrics
    counts = ", ".join(f"{n} {state}" for state, n in sorted(study_summary(records).items()))
    console.print(f"{len(records)} trials: {counts}", highlight=False)
    if len(metrics) == 1:
        try:
            best = study.best_trial
        except HposamplerError as exc:
            console.print(f"[yellow]{str(exc).replace(f'study {study.name!r} has ', '')}[/]")
            return
        console.print(_results_table("Best trial", [best], metrics, study.constraints))
        console.print(
            f"best {_metric_text(best, metrics)} (trial {best.trial_id})", highlight=False
        )
        optimum = _known_optimum(study, objective)
        value = (best.final_metrics or {}).get(next(iter(metrics)))
        if optimum is not None and value is not None:
            console.print(
                f"best {value:.6g}, optimum {optimum:.6g}, regret {value - optimum:.3g}",
                highlight=False,
            )
    else:
        front = study.best_trials
        console.print(_results_table(f"Pareto front ({len(front)} trials)", front, metrics,
                                     study.constraints))  # fmt: skip


def _storage_option(func: F) -> F:
    return click.option(
        "--storage",
        default="hposampler.db",
        show_default=True,
        help="SQLite file holding the study, sqlite:///path, or a storage URL "
        "(postgresql://user:pass@host:5432/db).",
    )(func)


@main.command()
@click.argument("name")
@_storage_option
@click.option("--limit", type=int, default=None, help="Show only the last N trials.")
@click.option(
    "--trial", "trial_id", type=int, default=None,
    help="Show one trial whole: config, metrics, reports, extras, internal state, the "
    "full traceback of a failure.",
)  # fmt: skip
@click.option(
    "--importance", is_flag=True,
    help="Print the parameters' importances (Optuna's evaluators; needs hposampler-optuna).",
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
    """
    from .study import Study

    study = Study.load(storage, name, read_only=True)
    if trial_id is not None:
        _show_trial(study, trial_id)
        return
    if importance:
        _show_importance(study, evaluator, metric)
        return
    records = study.records()
    if limit is not None:
        records = records[-limit:]
    console = _console()
    console.print(
        _results_table(
            f"Study {name} ({study.config.sampler}"
            + (f", pruner {study.config.pruner})" if study.config.pruner else ")"),
            records,
            study.optim_metrics,
            study.constraints,
        )
    )
    _print_best(study, console)


@main.command()
@_storage_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@user_errors
def studies(storage: str, as_json: bool) -> None:
    """List the studies in a storage: sampler, trials by state, best, last activity."""
    from rich.table import Table

    from .storage import make_storage
    from .study import Study, study_summary
    from .trial import TrialState

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
            "last_activity": _when(max(stamps)) if stamps else None,
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
    console = _console()
    console.print(table)
    if not rows:
        console.print("no studies yet", highlight=False)


@main.command()
@click.argument("name")
@_storage_option
@click.option("--yes", is_flag=True, help="Delete without asking.")
@user_errors
def delete(name: str, storage: str, yes: bool) -> None:
    """Delete study NAME and all its trials from the storage.

    Asks first unless --yes. Refused while a worker still runs one of its trials
    (a RUNNING trial whose worker is alive or whose heartbeat is fresh): stop the
    workers first.
    """
    import time as _time

    from .errors import StudyError
    from .runner import is_stale
    from .study import Study
    from .trial import TrialState

    study = Study.load(storage, name)
    live = [
        r for r in study.records()
        if r.state == TrialState.RUNNING and not is_stale(r, _time.time())
    ]  # fmt: skip
    if live:
        ids = ", ".join(str(r.trial_id) for r in live[:10])
        raise StudyError(
            f"study {name!r} has {len(live)} trial(s) running under live workers (trials "
            f"{ids}); stop the workers first (Ctrl-C or kill), then delete it"
        )
    count = len(study.records())
    delete_study = getattr(study.storage, "delete_study", None)
    if delete_study is None:
        raise StudyError(f"the storage {study.storage.url} cannot delete studies")
    if not yes:
        click.confirm(
            f"delete study {name!r} and its {count} trials from {study.storage.url}?",
            abort=True,
        )
    delete_study(name)
    click.echo(f"deleted study {name} ({count} trials) from {study.storage.url}")


@main.command()
@click.argument("name")
@click.argument("configs", nargs=-1, required=True)
@_storage_option
@user_errors
def enqueue(name: str, configs: tuple[str, ...], storage: str) -> None:
    """Queue CONFIGS (JSON objects) to run first in study NAME.

    \b
    Each config becomes a WAITING trial that the next `hposampler run --resume`
    (or any worker already running the study) runs before sampling new ones:
        hposampler enqueue demo '{"x": 1.5, "y": 2}' --storage demo.db
    Keys left out are drawn at random from the search space.
    """
    from .errors import StudyError
    from .study import Study

    study = Study.load(storage, name)
    parsed = []
    for text in configs:
        try:
            config = json.loads(text)
        except ValueError as exc:
            raise StudyError(
                f"config {text!r} is not JSON ({exc}); quote it: '{{\"x\": 1}}'"
            ) from None
        parsed.append(config)
    for config in parsed:
        trial_id = study.enqueue(config)
        click.echo(f"enqueued trial {trial_id} of study {name}: {json.dumps(config)}")


@main.command()
@click.argument("name")
@click.option("--from", "source", required=True, metavar="STORAGE", help="Where the study is.")
@click.option("--to", "target", required=True, metavar="STORAGE", help="Where to copy it.")
@click.option("--as", "new_name", metavar="NAME", help="The copy's name (default: NAME).")
@user_errors
def copy(name: str, source: str, target: str, new_name: str | None) -> None:
    """Copy study NAME with all its trials from one storage to another.

    \b
    Ids, states, reports, internal states and user attributes are kept, so the
    copy continues where the study was, e.g. a laptop's SQLite study moved to a
    PostgreSQL server:
        hposampler copy demo --from demo.db --to postgresql://host/db
    Trials RUNNING in the source run again in the copy.
    """
    from .study import Study

    study = Study.load(source, name, read_only=True)
    copied = study.copy_to(target, new_name)
    click.echo(
        f"copied study {name} ({len(copied.records())} trials) from {study.storage.url} "
        f"to {copied.storage.url} as {copied.name}"
    )


def _when(stamp: float | None) -> str:
    import datetime

    if stamp is None:
        return "-"
    return datetime.datetime.fromtimestamp(stamp).isoformat(sep=" ", timespec="seconds")


def _show_trial(study: Any, trial_id: int) -> None:
    from .errors import UnknownTrialError

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
        f"started: {_when(found.started_at)}   finished: {_when(found.finished_at)}   took: {took}",
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


def _show_importance(study: Any, evaluator: str, metric: str | None) -> None:
    module = _optuna_module("view", "hposampler show --importance")
    found = module.importances(study, evaluator, metric)
    chosen = metric or next(iter(study.optim_metrics))
    click.echo(f"importance of each parameter for {chosen} ({evaluator}):")
    width = max((len(k) for k in found), default=0)
    for key, value in found.items():
        click.echo(f"  {key:<{width}}  {value:6.3f}  {'#' * round(value * 40)}")


@main.command()
@click.argument("name")
@_storage_option
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

    from .study import Study

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


def _output_option(default: str, help_text: str) -> Callable[[F], F]:
    """``-o/--output FILE`` with a default, for commands that write one file."""
    option: Callable[[F], F] = click.option(
        "-o", "--output", default=default, show_default=True,
        type=click.Path(dir_okay=False), help=help_text,
    )  # fmt: skip
    return option


def _optuna_module(module: str, what: str) -> Any:
    """``hposampler_optuna.<module>``, or one line naming what to install."""
    import importlib

    from .errors import MissingDependencyError

    try:
        return importlib.import_module(f"hposampler_optuna.{module}")
    except ImportError as exc:
        if isinstance(exc, MissingDependencyError):
            raise
        raise MissingDependencyError(
            f"{what} needs the Optuna plugin with its extra ({exc}); install it with "
            "pip install 'hposampler-optuna[dashboard]'"
        ) from None


@main.command()
@click.argument("name")
@_storage_option
@_output_option("report.html", "HTML file to write.")
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
    from .study import Study

    module = _optuna_module("report", "hposampler report")
    study = Study.load(storage, name, read_only=True)
    path = module.write_report(study, output)
    click.echo(f"wrote {path} ({len(study.records())} trials)")


@main.command()
@click.argument("name")
@_storage_option
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
    from .study import Study

    module = _optuna_module("dashboard", "hposampler dashboard")
    Study.load(storage, name, read_only=True).storage.close()  # a wrong name fails now
    click.echo(f"study {name}: dashboard on http://{host}:{port}/ (Ctrl-C stops it)")
    module.serve(lambda: Study.load(storage, name, read_only=True), host, port, refresh)


@main.command()
@click.argument("name")
@_storage_option
@_output_option("history.png", "PNG file to write.")
@click.option("--metric", help="Metric to plot (default: the first).")
@user_errors
def plot(name: str, storage: str, output: str, metric: str | None) -> None:
    """Plot study NAME: best-so-far history and the metric against each parameter.

    When trials reported as they ran, a first panel draws their learning curves
    (reported value by step), pruned trials marked with an x where they stopped.
    """
    from .plotting import plot_study
    from .study import Study

    path = plot_study(Study.load(storage, name, read_only=True), output, metric)
    click.echo(f"wrote {path}")


@main.command()
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

    from .bench import plot_bench, run_bench, summarize
    from .selection import get_sampler_spec

    names = [s.strip() for s in samplers.split(",") if s.strip()]
    problem_names = [p.strip() for p in problems.split(",") if p.strip()]
    for name in names:
        get_sampler_spec(name)  # unknown names fail before any run
    console = _console()
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
