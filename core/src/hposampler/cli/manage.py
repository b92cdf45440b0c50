"""Changing stored studies: ``hposampler delete``, ``enqueue`` and ``copy``."""

from __future__ import annotations

import json

import click

from hposampler.cli.base import (
    storage_option,
    user_errors,
)


@click.command()
@click.argument("name")
@storage_option
@click.option("--yes", is_flag=True, help="Delete without asking.")
@user_errors
def delete(name: str, storage: str, yes: bool) -> None:
    """Delete study NAME and all its trials from the storage.

    Asks first unless --yes. Refused while a worker still runs one of its trials
    (a RUNNING trial whose worker is alive or whose heartbeat is fresh): stop the
    workers first.
    """
    import time as _time

    from hposampler.errors import StudyError
    from hposampler.samplers.trial import TrialState
    from hposampler.study.runner import is_stale
    from hposampler.study.study import Study

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
    if not yes:
        click.confirm(
            f"delete study {name!r} and its {count} trials from {study.storage.url}?",
            abort=True,
        )
    study.storage.delete_study(name)
    click.echo(f"deleted study {name} ({count} trials) from {study.storage.url}")


@click.command()
@click.argument("name")
@click.argument("configs", nargs=-1, required=True)
@storage_option
@user_errors
def enqueue(name: str, configs: tuple[str, ...], storage: str) -> None:
    """Queue CONFIGS (JSON objects) to run first in study NAME.

    \b
    Each config becomes a WAITING trial that the next `hposampler run --resume`
    (or any worker already running the study) runs before sampling new ones:
        hposampler enqueue demo '{"x": 1.5, "y": 2}' --storage demo.db
    Keys left out are drawn at random from the search space.
    """
    from hposampler.errors import StudyError
    from hposampler.study.study import Study

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


@click.command()
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
    from hposampler.study.study import Study

    study = Study.load(source, name, read_only=True)
    copied = study.copy_to(target, new_name)
    click.echo(
        f"copied study {name} ({len(copied.records())} trials) from {study.storage.url} "
        f"to {copied.storage.url} as {copied.name}"
    )
