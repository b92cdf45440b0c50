"""The kit itself: a correct sampler passes; each kind of bug fails the check that names it."""

from __future__ import annotations

import random
from typing import Any

import pytest

from hposampler import SamplerSpec
from hposampler.testing import CHECKS, check_sampler
from hposampler.testing.checks import (
    check_concurrent_distinct,
    check_configs_in_space,
    check_dense_ids_and_drop,
    check_exhaustive,
    check_internal_repr_json,
    check_resume,
    check_resume_continues,
    check_seed_determinism,
    check_updates_accepted,
)
from support import UniformSampler


def test_a_correct_sampler_passes_every_check() -> None:
    check_sampler(
        SamplerSpec("test:uniform", UniformSampler),
        search_space={"z": {"categorical_values": ["a", "b"]}},
    )


class OutOfRange(UniformSampler):
    def _suggest(self, param: Any) -> Any:
        value = super()._suggest(param)
        return value * 10 if isinstance(value, float) else value


class NotJson(UniformSampler):
    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        return {"rng": self.rng}


class OwnCounter(UniformSampler):
    counter = 0

    def new_trial_id(self) -> int:
        self.counter += 1
        return self.counter - 1


class Unseeded(UniformSampler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng = random.Random()


class AlwaysSame(UniformSampler):
    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        self.rng = random.Random(0)
        return super()._eager_sample()


class ForgetsOnResume(UniformSampler):
    def __init__(self, search_space: Any, **kwargs: Any) -> None:
        kwargs["trials"] = []
        super().__init__(search_space, **kwargs)


class ReplaysOnResume(UniformSampler):
    def _resume_done(self) -> None:
        """Restarts the seed's stream: proposes its earlier configs again."""


class RefusesFailures(UniformSampler):
    def _update_trial(self, trial_id: int, metrics: Any, state: Any) -> None:
        if metrics is None:
            raise ValueError("metrics required")


class RepeatsOnGrid(UniformSampler):
    """Declared exhaustive but samples with replacement."""


@pytest.mark.parametrize(
    ("factory", "flags", "check", "message"),
    [
        (OutOfRange, {}, check_configs_in_space, "is not in the search space"),
        (NotJson, {}, check_internal_repr_json, "is not JSON"),
        (OwnCounter, {}, check_dense_ids_and_drop, "ids [0, 1, 2, 3, 4, 5, 6]"),
        (Unseeded, {}, check_seed_determinism, "seed 7 gave different sequences"),
        (AlwaysSame, {}, check_concurrent_distinct, "4 pending trials were not all different"),
        (ForgetsOnResume, {}, check_resume, "ids after resuming 0..5 were [0, 1, 2, 3]"),
        (ReplaysOnResume, {}, check_resume_continues, "which the trials it resumed from"),
        (RefusesFailures, {}, check_updates_accepted, "raised ValueError('metrics required')"),
        (RepeatsOnGrid, {"exhaustive": True}, check_exhaustive, "had duplicates"),
    ],
)
def test_each_bug_fails_its_check(
    factory: Any, flags: dict[str, bool], check: Any, message: str
) -> None:
    spec = SamplerSpec(f"bug:{factory.__name__.lower()}", factory, **flags)
    with pytest.raises(AssertionError) as info:
        check(spec)
    text = str(info.value)
    assert text.startswith(f"[{check.__name__.removeprefix('check_')}] sampler 'bug:")
    assert message in text


def test_unseeded_sampler_declared_non_deterministic_is_not_held_to_it() -> None:
    check_seed_determinism(SamplerSpec("bug:unseeded", Unseeded, deterministic=False))


def test_every_check_has_a_docstring_for_the_guide() -> None:
    assert all(check.__doc__ for check in CHECKS)
