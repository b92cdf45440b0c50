"""Changing stored studies: ``hposampler delete``, ``enqueue`` and ``copy``."""

from __future__ import annotations

import json

import click

from hposampler.cli.base import storage_option, user_errors


@click.command()
@click.argument("name")
@storage_option
@click.option("--yes", is_flag=True, help="Delete without asking.")
@user_errors
def delete(name: str, storage: str, yes: bool) -> None:
    """Delete study NAME and all its trials from the storage.

    Asks first unless --yes. Refused while a worker of the study is alive (it
    holds a lease it renews at every heartbeat, between trials too, or a RUNNING
    trial with a fresh heartbeat): stop the workers first. The check and the
    deletion are one transaction, so no worker can start in between.
    """
    from hposampler.study import delete_study
    from hposampler.study.study import Study

    study = Study.load(storage, name)
    if not yes:
        count = len(study.records())
        click.confirm(
            f"delete study {name!r} and its {count} trials from {study.storage.url}?",
            abort=True,
        )
    deleted = delete_study(study.storage, name)
    click.echo(f"deleted study {name} ({deleted} trials) from {study.storage.url}")


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
