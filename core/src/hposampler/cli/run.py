"""``hposampler run``: create or resume a study from a study file and run it."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from typing import Any

import click

from hposampler.cli.base import (
    PlainConsole,
    draws_live,
    make_console,
    user_errors,
)
from hposampler.cli.display import (
    print_best,
)

#: ``hposampler run``'s exit code when every trial failed (2 is a user error, 130 Ctrl-C).
EXIT_ALL_FAILED = 3


def executor_flags() -> dict[str, tuple[str, str, str]]:
    """The executors' own ``run`` flags: parameter name -> (flag, executor, option).

    An executor plugin declares them as ``ExecutorSpec.run_flags`` (the Ray
    plugin's ``address`` is ``--ray-address``).
    """
    from hposampler.plugins.registry import get_registry

    out = {}
    for name, (spec, _) in sorted(get_registry().executors().items()):
        for option in spec.run_flags:
            flag = spec.flag(option)
            out[flag[2:].replace("-", "_")] = (flag, name, option)
    return out


class RunCommand(click.Command):
    """``run`` with the flags executor plugins declare (``--ray-address``)."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        """The command's options, the executors' flags, then ``--help``."""
        from hposampler.plugins.registry import get_registry

        params = super().get_params(ctx)
        extra: list[click.Parameter] = []
        executors = get_registry().executors()
        for param, (flag, name, option) in executor_flags().items():
            spec = executors[name][0]
            doc = next((o.doc for o in spec.options if o.name == option), "")
            extra.append(click.Option([flag, param], help=f"{doc} (picks --executor {name})"))
        return params[:-1] + extra + params[-1:]


@click.command(cls=RunCommand)
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
    "--warm-start",
    "warm_start",
    multiple=True,
    metavar="STUDY",
    help="Learn the finished trials of this earlier study first (repeatable; NAME in the "
    "same storage or OTHER.db:NAME); added to the study file's [warm_start].",
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
    warm_start: tuple[str, ...],
    debug: bool,
    **flags: str | None,
) -> None:
    """Run (or resume) the study described by STUDY_FILE (TOML).

    \b
    Trials are stored in SQLite as they change state; after a crash,
    `hposampler run STUDY_FILE --resume` re-runs the interrupted trials and
    continues until the study has its total number of finished trials.

    \b
    On a terminal a progress bar shows the finished trials and the best
    value; piped or captured output gets the header line, then the summary
    (the best trial) as plain text once the run ends.

    \b
    Exit codes: 0 done, 2 bad input (one line on stderr), 3 every trial
    failed, 130 interrupted (Ctrl-C; running trials are stored WAITING).
    """
    from hposampler.study.studyfile import load_study_file

    spec = load_study_file(study_file)
    if warm_start:
        import attrs

        spec = attrs.evolve(spec, warm_start=(*spec.warm_start, *warm_start))
    executor_options = {**spec.executor_options, **_parse_options(executor_option)}
    known = executor_flags()
    for param, value in flags.items():
        if value is not None:  # --ray-address X: --executor ray --executor-option address=X
            _, name, option = known[param]
            executor_options[option] = value
            executor = executor or name
    run_args = {
        "objective": _objective(spec),
        "n_trials": spec.trials if trials is None else trials,
        "concurrency": concurrency or spec.concurrency,
        "executor": executor or spec.executor,
        "timeout": spec.timeout if timeout is None else timeout,
        "trial_timeout": spec.trial_timeout,
        "skip_duplicates": spec.skip_duplicates,
        "executor_options": executor_options,
    }
    _check_before_storing(run_args, trials)
    study = _study(spec, storage, resume)
    # piped or captured output gets no live bar and a plain-text summary: no rich
    # (some 35 ms of imports in every worker process)
    console = make_console() if draws_live() else None
    header = [
        f"study {spec.name} in {study.storage.url}: sampler {study.config.sampler}, "
        + (f"pruner {study.config.pruner}, " if study.config.pruner else "")
        + f"{run_args['n_trials']} trials, executor {run_args['executor']}, "
        f"concurrency {run_args['concurrency']}"
    ]
    if study.config.warm_start:
        header.append(study.warm_start().summary())
    for line in header:
        click.echo(line)
    _optimize(study, run_args, console, spec.objective)
    _report_end(study, console or PlainConsole(), spec.objective)


def _objective(spec: Any) -> Any:
    """The study file's objective; modules beside the file are importable."""
    from hposampler.study.study import load_objective

    folder = str(spec.path.resolve().parent)
    if folder not in sys.path:  # objectives beside the study file are importable, but a
        sys.path.append(folder)  # module there never shadows an installed one (optuna.py)
    return load_objective(spec.objective)


def _check_before_storing(run_args: dict[str, Any], trials: int | None) -> None:
    """Everything is checked before the study is stored: a refused run stores nothing."""
    from hposampler.study import arguments
    from hposampler.study.executors import executor_spec

    executor_spec(run_args["executor"], run_args["executor_options"])
    arguments.count(run_args["concurrency"], "concurrency", minimum=1)
    if trials is not None:
        arguments.count(trials, "--trials")


def _study(spec: Any, storage: str | None, resume: bool) -> Any:
    """Create (or, with ``--resume``, load) the study; enqueue the file's configs once."""
    from hposampler.errors import StudyError
    from hposampler.space.tree import compile_space
    from hposampler.study.steering import complete_config
    from hposampler.study.study import Study

    tree = compile_space(spec.search_space)  # a bad space is refused by create too
    for i, config in enumerate(spec.enqueue, 1):  # refused before anything is stored
        try:
            complete_config(tree, config, spec.name)
        except StudyError as exc:
            raise StudyError(f"{spec.path} [[enqueue]] #{i}: {exc}") from None
    study = Study.create(
        storage or spec.storage, spec.name, spec.sampler, spec.search_space, spec.metrics,
        seed=spec.seed, sampler_options=spec.options, load_if_exists=resume,
        pruner=spec.pruner, pruner_options=spec.pruner_options, constraints=spec.constraints,
        warm_start=spec.warm_start,
    )  # fmt: skip
    if study.created:  # a study file's [[enqueue]] configs go in once: by whoever created it
        for config in spec.enqueue:
            study.enqueue(config)
    return study


def _optimize(study: Any, run_args: dict[str, Any], console: Any, objective: str) -> None:
    """Run the study (with a progress bar on a terminal's ``console``, none when it is
    ``None``); Ctrl-C stores running trials WAITING, exit 130."""
    from hposampler.study.progress import progress_bar

    bar: contextlib.AbstractContextManager[Any] = contextlib.nullcontext(None)
    if console is not None:
        done_before = sum(1 for r in study.records() if r.state.is_finished)
        bar = progress_bar(study.optim_metrics, run_args["n_trials"], done_before, console)
    with bar as on_trial:
        try:
            study.optimize(**run_args, callbacks=[on_trial] if on_trial else ())
        except KeyboardInterrupt:
            if on_trial:
                on_trial.stop()
            console = console or PlainConsole()
            console.print(
                "[yellow]interrupted:[/] running trials are stored WAITING; "
                "`hposampler run STUDY_FILE --resume` re-runs them",
                highlight=False,
            )
            print_best(study, console, objective)
            _exit_interrupted()


def _exit_interrupted() -> None:
    """Exit 130 without waiting for objectives still running in threads."""
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


def _report_end(study: Any, console: Any, objective: str) -> None:
    """Say how the run ended: stopped, the best trial, exit 3 when every trial failed."""
    from hposampler.samplers.trial import TrialState

    if study.stopping:
        console.print(
            "[yellow]stopped[/] by the objective or a callback (trial.stop_study() / "
            "Study.stop()); `hposampler run STUDY_FILE --resume` goes on",
            highlight=False,
        )
    print_best(study, console, objective)
    records = study.records()
    failed = (TrialState.FAIL, TrialState.FAIL_RECOVERABLE)
    if records and all(r.state in failed for r in records):
        click.secho(
            f"error: every trial of study {study.name!r} failed; "
            f"`hposampler show {study.name} --storage {study.storage.url}` shows the errors",
            fg="red",
            err=True,
        )
        sys.exit(EXIT_ALL_FAILED)


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    from hposampler.errors import StudyError

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
