"""``hposampler bench``: samplers against each other on benchmark suites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hposampler.cli.base import make_console, user_errors
from hposampler.errors import BenchError


def _names(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` -> 0..4, ``"0,3,7"`` -> those; mixed: ``"0-2,9"``.

    Raises
    ------
    BenchError
        For anything else (names the part that is not a seed or a range).
    """
    seeds: list[int] = []
    for part in _names(text):
        low, sep, high = part.partition("-")
        try:
            first, last = int(low), int(high) if sep else int(low)
        except ValueError:
            raise BenchError(
                f"--seeds: {part!r} is not a seed or a range; write e.g. 0-4 or 0,1,7"
            ) from None
        if first < 0 or last < first:
            raise BenchError(f"--seeds: {part!r} is not an increasing range of seeds >= 0")
        seeds.extend(range(first, last + 1))
    if not seeds:
        raise BenchError("--seeds is empty; write e.g. 0-4")
    return list(dict.fromkeys(seeds))


def _list_suites(console: Any) -> None:
    from rich.markup import escape

    from hposampler.bench.tasks import _registry_suites, get_suite
    from hposampler.errors import MissingDependencyError

    for name, spec in sorted(_registry_suites().items()):
        console.print(f"[bold]{name}[/bold]  {spec.description}")
        try:
            suite = get_suite(name)
        except MissingDependencyError as exc:
            console.print(f"  (not usable: {exc})")
            continue
        default = set(suite.default)
        for task in suite.tasks():
            mark = "*" if task.name in default or not default else " "
            goal = task.metrics[task.metric]
            family = escape(f"[{task.family}]")
            console.print(f"  {mark} {task.name}  {family}  {task.metric} ({goal})")
    console.print("(* = run when --tasks is not given)")


def _given(param: str) -> bool:
    """Whether the command line (not the default) gave ``param``."""
    source = click.get_current_context().get_parameter_source(param)
    return source is not None and source.name != "DEFAULT"


def _tasks_of(base: Any, names: list[str]) -> list[str]:
    """The keys (``suite/task``) of a results file's tasks named ``suite/task`` or ``task``.

    Raises
    ------
    BenchError
        For a name that is not one of its tasks, or that names several.
    """
    keys = []
    for name in names:
        found = [name] if name in base.tasks else [k for k in base.tasks
                                                   if k.split("/", 1)[-1] == name]  # fmt: skip
        if len(found) != 1:
            what = "is not one of its tasks" if not found else f"names {', '.join(found)}"
            raise BenchError(
                f"--tasks {name!r} {what}; with --against, give some of: " + ", ".join(base.tasks)
            )
        keys.append(found[0])
    return list(dict.fromkeys(keys))


def _print_table(console: Any, rows: list[Any], title: str) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("sampler", "mean rank (95% CI)", "median regret 25/50/100%", "wins",
                   "ms / trial", "tasks", "skipped"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("sampler", "wins") else "right")
    for row in rows:
        if not row.runs:
            table.add_row(row.sampler, "-", "-", "-", "-", "0", str(len(row.skipped)))
            continue
        regret = "/".join(f"{row.median_regret[k]:.3g}" for k in ("25%", "50%", "100%"))
        wins = ", ".join(f"{f} {n}" for f, n in sorted(row.wins.items())) or "-"
        table.add_row(
            row.sampler,
            f"{row.mean_rank:.2f} ({row.rank_low:.2f}-{row.rank_high:.2f})",
            regret,
            wins,
            f"{row.ms_per_trial:.1f}",
            str(row.tasks),
            str(len(row.skipped)) if row.skipped else "-",
        )
    console.print(table)
    for row in rows:
        for task, reason in row.skipped.items():
            console.print(f"skipped {row.sampler} on {task}: {reason}")


@click.command()
@click.option(
    "--suite",
    "suites",
    default="builtin",
    show_default=True,
    help="Comma-separated suites (`--list` shows them): builtin, hpobench, bbob, ...",
)
@click.option(
    "--tasks",
    default=None,
    help="Comma-separated tasks of those suites (suite/task or task); default: "
    "each suite's default tasks. With --against: some of its tasks.",
)
@click.option(
    "--samplers",
    default="random,tpe",
    show_default=True,
    help="Comma-separated sampler names or aliases.",
)
@click.option(
    "--seeds",
    default="0-2",
    show_default=True,
    help="Seeds, e.g. 0-4 or 0,3,7: one run per sampler, task and seed.",
)
@click.option(
    "--budget", type=click.IntRange(min=1), default=50, show_default=True, help="Trials per run."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes on this machine (others may join on the same storage).",
)
@click.option(
    "--storage",
    default=None,
    help="Where every run is a study (SQLite file or URL): an interrupted bench "
    "resumes, and workers elsewhere share it. Default: a temporary file.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the results (every run's curve) to this JSON file.",
)
@click.option(
    "--against",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="A results file (e.g. docs/leaderboard.json): run only --samplers on its "
    "tasks (or those of the --suite or --tasks given), seeds (or the --seeds given) "
    "and budget, and rank them against its runs.",
)
@click.option(
    "--html",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the leaderboard as a self-contained HTML page.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write median regret curves per task family to this PNG.",
)
@click.option("--list", "list_only", is_flag=True, help="List the suites and their tasks.")
@click.option("--problems", default=None, hidden=True)
@click.option("--repeats", type=click.IntRange(min=1), default=None, hidden=True)
@user_errors
def bench(
    suites: str, tasks: str | None, samplers: str, seeds: str, budget: int, workers: int,
    storage: str | None, json_out: str | None, against: str | None, html: str | None,
    output: str | None, list_only: bool, problems: str | None, repeats: int | None,
) -> None:  # fmt: skip
    """Rank samplers on benchmark suites: mean rank, normalised regret, time per trial.

    Every (sampler, task, seed) run is a study in --storage, so running the same
    command again resumes an interrupted bench, and processes on other machines
    given the same --storage share the runs. `hposampler-bench` adds the
    `hpobench` (15 tabular tasks) and `bbob` (COCO) suites.

    \b
    Examples:
      hposampler bench --samplers random,tpe,skopt:gp --budget 50 --seeds 0-4
      hposampler bench --suite hpobench,bbob --samplers tpe,optuna:cmaes \\
          --seeds 0-4 --budget 100 --workers 2 --storage bench.db --json bench.json
      hposampler bench --against docs/leaderboard.json --samplers mypkg:xyz
    """
    import tempfile

    from hposampler.bench.harness import plan
    from hposampler.bench.results import BenchResults
    from hposampler.bench.summary import summarize_results

    console = make_console()
    if list_only:
        _list_suites(console)
        return
    suite_names, task_names = _names(suites), _names(tasks)
    if problems is not None:  # 0.3's flags: built-in problems, seeds 0..repeats-1
        suite_names, task_names = ["builtin"], _names(problems)
    seed_list = list(range(repeats)) if repeats is not None else parse_seeds(seeds)
    base = None
    if against is not None:
        base = BenchResults.read(against)
        task_names = _tasks_of(base, task_names) if task_names else list(base.tasks)
        if _given("suites"):  # some of its suites: their tasks
            held = list(dict.fromkeys(t.suite for t in base.tasks.values()))
            unknown = [name for name in suite_names if name not in held]
            if unknown:
                raise BenchError(
                    f"--suite {', '.join(unknown)}: not in {against}; with --against, give "
                    f"some of: {', '.join(held)}"
                )
            task_names = [k for k in task_names if base.tasks[k].suite in suite_names]
            if not task_names:
                raise BenchError(
                    f"--suite {', '.join(suite_names)} and --tasks leave none of {against}'s "
                    "tasks to run; give tasks of those suites"
                )
        suite_names = list(dict.fromkeys(base.tasks[k].suite for k in task_names))
        seed_list = sorted({r.seed for r in base.runs})
        if _given("seeds"):
            seed_list = parse_seeds(seeds)  # fewer seeds for a slow sampler: say so
        budget = base.budget
    bench_plan = plan(suite_names, _names(samplers), seed_list, budget, task_names)
    with tempfile.TemporaryDirectory() as scratch:
        where = storage if storage is not None else str(Path(scratch) / "bench.db")
        results = _run(console, bench_plan, where, workers, suite_names, task_names)
        if base is not None:
            results = base.merged(results)
    rows = summarize_results(results)
    title = (f"{len(results.tasks)} tasks, {len(seed_list)} seeds, {results.budget} trials"
             + (f", against {against}" if against else ""))  # fmt: skip
    _print_table(console, rows, title)
    unfinished = sum(1 for r in results.runs if r.status == "unfinished")
    if unfinished:
        console.print(f"{unfinished} run(s) unfinished (another worker's, or interrupted): "
                      "run the same command again to finish them")  # fmt: skip
    if json_out:
        results.write(json_out)
        console.print(f"wrote {json_out}")
    if html:
        from hposampler.bench.page import write_page

        console.print(f"wrote {write_page(results, rows, html)}")
    if output:
        from hposampler.bench.plots import plot_families

        console.print(f"wrote {plot_families(results, output)}")


def _run(console: Any, bench_plan: Any, storage: str, workers: int,
         suites: list[str], tasks: list[str]) -> Any:  # fmt: skip
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from hposampler.bench.harness import run_suite
    from hposampler.bench.runs import RunKey

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("runs"))  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("bench", total=len(bench_plan.runnable))

        def progress(event: str, key: RunKey) -> None:
            where = f"{key.task} / {key.sampler} / seed {key.seed}"
            bar.update(task, advance=1 if event == "run" else 0, description=where)

        return run_suite(bench_plan, storage, workers, progress, suites, tasks)
