"""The progress bar of a running study (``hposampler run`` and ``optimize(progress=True)``).

One rich bar: finished trials out of the total, the best value of the first
optimised metric so far, time elapsed and an estimate of the time left.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from hposampler.samplers.trial import TrialState
from hposampler.storage import TrialRecord

__all__ = ["ProgressCallback", "progress_bar"]


class ProgressCallback:
    """A study callback moving a bar on; :meth:`stop` ends the bar early (Ctrl-C)."""

    def __init__(self, progress: Any, task: Any, metrics: Mapping[str, str]) -> None:
        self._progress, self._task, self._metrics = progress, task, metrics
        self._first = next(iter(metrics))
        self._best: float | None = None

    def __call__(self, _study: Any, record: TrialRecord) -> None:
        """One more finished trial."""
        value = (record.final_metrics or {}).get(self._first)
        if value is not None and record.state == TrialState.COMPLETE:  # not a pruned one
            lower = self._metrics[self._first] == "min"
            if self._best is None or (value < self._best if lower else value > self._best):
                self._best = value
        label = "trials" if self._best is None else f"best {self._first}={self._best:.6g}"
        self._progress.update(self._task, advance=1, description=label)

    def stop(self) -> None:
        """Stop drawing (the bar stays as it was)."""
        self._progress.stop()


@contextlib.contextmanager
def progress_bar(
    metrics: Mapping[str, str], total: int, done_before: int = 0, console: Any = None
) -> Iterator[ProgressCallback]:
    """Show a bar while the block runs; yields the callback that moves it on.

    Parameters
    ----------
    metrics : mapping
        The study's ``{metric: "min" | "max"}``; the bar shows the best of the first.
    total : int
        The study's total number of trials.
    done_before : int
        Trials finished before this run (the bar starts there).
    console : rich.console.Console, optional
        Where to draw (default: rich's console on the terminal).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("trials", total=total, completed=min(done_before, total))
        yield ProgressCallback(progress, task, metrics)
