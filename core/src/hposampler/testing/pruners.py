"""The conformance kit for pruners: :func:`check_pruner`.

A pruner is called by the study runner in ways a quick test of one learning
curve does not show: reports of many trials interleaved, ``None`` values (NaN
reports), trials that end in every state, trials it learns only from the storage
(resumed ones, other workers', with gaps in the ids), and ``max`` metrics.
:func:`check_pruner` drives a pruner through all of that and fails with an
``AssertionError`` naming the pruner and what went wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hposampler.pruning import BasePruner
from hposampler.samplers.trial import TrialState
from hposampler.selection import make_pruner

__all__ = ["check_pruner"]

STEPS = 10
TRIALS = 14


def _curve(trial_id: int, step: int) -> float | None:
    """Learning curves of different quality; trial 3 reports NaN (None) at step 2."""
    if trial_id == 3 and step == 2:
        return None
    quality = ((trial_id * 37) % 11) / 11
    return quality + 1.0 / (step + 1) + 0.01 * math.sin(trial_id + step)


def _fail(name: str, what: str) -> None:
    raise AssertionError(f"[pruner_check] pruner {name!r}: {what}")


def _scenario(pruner: BasePruner, name: str, sign: float) -> list[tuple[int, int]]:
    """Run the scenario; return the (trial, step) pairs where the pruner said stop."""
    decisions: list[tuple[int, int]] = []
    # a resumed history with a gap in the ids (trial 1 was dropped), learned up front
    for trial_id, state in ((0, TrialState.COMPLETE), (2, TrialState.FAIL)):
        for step in range(STEPS if state == TrialState.COMPLETE else 3):
            value = _curve(trial_id, step)
            pruner.report(trial_id, step, None if value is None else sign * value)
        final = _curve(trial_id, STEPS - 1)
        ended = sign * final if final is not None and state == TrialState.COMPLETE else None
        pruner.finish(trial_id, state, ended)
    running = list(range(3, TRIALS))
    steps = dict.fromkeys(running, 0)
    while running:
        for trial_id in list(running)[:3]:  # three trials at a time, interleaved
            step = steps[trial_id]
            value = _curve(trial_id, step)
            pruner.report(trial_id, step, None if value is None else sign * value)
            answer = pruner.prune(trial_id)
            if not isinstance(answer, bool):
                _fail(name, f"prune({trial_id}) returned {answer!r}, not a bool")
            if answer:
                decisions.append((trial_id, step))
                pruner.finish(trial_id, TrialState.PRUNED_POOR_PERFORMANCE,
                              None if value is None else sign * value)  # fmt: skip
                running.remove(trial_id)
            elif step == STEPS - 1:
                pruner.finish(trial_id, TrialState.COMPLETE, sign * (value or 0.0))
                running.remove(trial_id)
            else:
                steps[trial_id] = step + 1
    # a trial that ended without a report, and one the objective pruned itself
    pruner.finish(TRIALS, TrialState.FAIL, None)
    pruner.report(TRIALS + 1, 0, sign * 5.0)
    pruner.finish(TRIALS + 1, TrialState.PRUNED, sign * 5.0)
    return decisions


def check_pruner(
    name: str, options: Mapping[str, Any] | None = None, *, symmetric: bool = True
) -> None:
    """Check that the installed pruner ``name`` behaves as the study runner needs.

    Parameters
    ----------
    name : str
        A pruner name or alias (as ``hposampler list`` shows it).
    options : mapping, optional
        Options to build it with.
    symmetric : bool
        Whether a ``max`` metric reported as the negated values of a ``min`` one
        must get the same decisions (``False`` for pruners configured with
        absolute values, such as thresholds).

    Raises
    ------
    AssertionError
        ``[pruner_check] pruner '...': ...`` naming what went wrong: an
        exception from a call the runner makes, ``prune`` not returning a bool,
        different decisions for the same reports, or different decisions for a
        ``max`` metric reported as the negated values of a ``min`` one.

    Examples
    --------
    >>> from hposampler.testing import check_pruner
    >>> check_pruner("median", {"n_startup_trials": 2})  # doctest: +SKIP
    """
    runs: dict[str, list[tuple[int, int]]] = {}
    plan = [("min", 1.0), ("again", 1.0)] + ([("max", -1.0)] if symmetric else [])
    for direction, sign in plan:
        metrics = {"loss": "max" if direction == "max" else "min"}
        try:
            pruner = make_pruner(name, metrics, **dict(options or {}))
            runs[direction] = _scenario(pruner, name, sign)
        except AssertionError:
            raise
        except Exception as exc:
            _fail(name, f"raised {exc!r} in the {direction!r} run (reports of interleaved "
                        "trials, None values, every end state, ids with gaps)")  # fmt: skip
    if runs["min"] != runs["again"]:
        _fail(name, f"the same reports gave different decisions: {runs['min']} then "
                    f"{runs['again']}")  # fmt: skip
    if symmetric and runs["min"] != runs["max"]:
        _fail(name, f"a 'max' metric (the negated values) gave {runs['max']}, the 'min' one "
                    f"{runs['min']}; read self.direction")  # fmt: skip
