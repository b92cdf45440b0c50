"""The pruner kit fails broken pruners with a message naming the problem."""

from __future__ import annotations

from typing import Any

import pytest

import hposampler
from hposampler import BasePruner, PrunerSpec, TrialState
from hposampler.testing import check_pruner


class LastBelow(BasePruner):
    """A correct pruner: stop when the last value is worse than the best finished one."""

    def __init__(self, optim_metrics: Any) -> None:
        super().__init__(optim_metrics)
        self.last: dict[int, float] = {}
        self.best: float | None = None

    def _score(self, value: float) -> float:
        return value if self.direction == "min" else -value

    def report(self, trial_id: int, step: int, value: float | None) -> None:
        if value is not None:
            self.last[trial_id] = self._score(value)

    def finish(self, trial_id: int, state: TrialState, value: float | None) -> None:
        if state == TrialState.COMPLETE and value is not None:
            score = self._score(value)
            self.best = score if self.best is None else min(self.best, score)

    def prune(self, trial_id: int) -> bool:
        last = self.last.get(trial_id)
        return self.best is not None and last is not None and last > self.best + 1.0


class ChokesOnNone(LastBelow):
    def report(self, trial_id: int, step: int, value: float | None) -> None:
        self.last[trial_id] = self._score(float(value))  # type: ignore[arg-type]


class ReturnsNumbers(LastBelow):
    def prune(self, trial_id: int) -> bool:
        return 1 if super().prune(trial_id) else 0  # type: ignore[return-value]


class IgnoresDirection(LastBelow):
    def _score(self, value: float) -> float:
        return value


class Plugin:
    @hposampler.hookimpl
    def register_pruners(self, register: Any) -> None:
        for name, cls in (("ok", LastBelow), ("none", ChokesOnNone),
                          ("numbers", ReturnsNumbers), ("direction", IgnoresDirection)):  # fmt: skip
            register(PrunerSpec(f"kit:{name}", cls))


@pytest.fixture
def kit_pruners(isolated_plugins: Any) -> None:
    isolated_plugins(("kit-pruners", Plugin()))


def test_a_correct_pruner_passes(kit_pruners: None) -> None:
    check_pruner("kit:ok")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("kit:none", r"pruner 'kit:none': raised TypeError.* in the 'min' run"),
        ("kit:numbers", r"pruner 'kit:numbers': prune\(\d+\) returned \d, not a bool"),
        ("kit:direction", r"pruner 'kit:direction': a 'max' metric .* read self.direction"),
    ],
)
def test_broken_pruners_fail_with_the_reason(kit_pruners: None, name: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_pruner(name)
