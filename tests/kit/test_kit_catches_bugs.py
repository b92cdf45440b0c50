"""The kit itself: a correct sampler passes; each kind of bug fails the check that names it."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from hposampler import SamplerSpec, TrialState
from hposampler.testing import (
    CALL_TIMEOUT,
    CHECKS,
    CheckHung,
    CheckNotApplicable,
    call_limit,
    check_sampler,
    machine_slowness,
    run_check,
)
from hposampler.testing.checks import (
    check_concurrent_distinct,
    check_configs_in_space,
    check_declared_options,
    check_dense_ids_and_drop,
    check_direction,
    check_exhaustive,
    check_internal_repr_json,
    check_model_phase,
    check_resume,
    check_resume_continues,
    check_seed_determinism,
    check_updates_accepted,
)
from support import UniformSampler


def test_a_correct_sampler_passes_every_check() -> None:
    check_sampler(  # result-blind by design, and it says so
        SamplerSpec("test:uniform", UniformSampler, needs_metrics=False),
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


class StuckAfterStartup(UniformSampler):
    """Fine for 20 trials; its "model" then proposes one config forever."""

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        if self.new_trial_id() >= 20:
            self.rng = random.Random(0)
        return super()._eager_sample()


class RepeatsOnGrid(UniformSampler):
    """Declared exhaustive but samples with replacement."""


@pytest.mark.parametrize(
    ("factory", "flags", "check", "message"),
    [
        (OutOfRange, {}, check_configs_in_space, "is not in the search space"),
        (NotJson, {}, check_internal_repr_json, "is not JSON"),
        (OwnCounter, {}, check_dense_ids_and_drop, "ids [0, 1, 2, 3, 4, 5, 6]"),
        (Unseeded, {}, check_seed_determinism, "seed 7 gave different sequences"),
        (AlwaysSame, {}, check_concurrent_distinct, "3 trials with results, 4 pending trials"),
        (ForgetsOnResume, {}, check_resume, "the next ids were [0, 1, 2, 3]; expected [6, 7,"),
        (ReplaysOnResume, {}, check_resume_continues, "which the trials it resumed from"),
        (StuckAfterStartup, {}, check_model_phase, "distinct configs in 40 trials"),
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


def test_checks_a_spec_excludes_are_skipped_with_the_reason() -> None:
    spec = SamplerSpec("bug:unseeded", Unseeded, deterministic=False, needs_metrics=False)
    with pytest.raises(CheckNotApplicable, match="deterministic=False"):
        check_seed_determinism(spec)
    skipped = check_sampler(spec)
    assert "seed_determinism: the spec declares deterministic=False" in skipped
    assert any(s.startswith("exhaustive:") for s in skipped)


class Blocks(UniformSampler):
    """Blocks forever on its third sample, as a sequential optimiser asked twice would."""

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        if self.new_trial_id() == 2:
            threading.Event().wait()
        return super()._eager_sample()


def test_a_blocking_backend_fails_with_a_clear_message_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hposampler.testing import checks

    monkeypatch.setattr(checks, "_slowness", 1.0)
    with pytest.raises(CheckHung) as caught:
        run_check(check_configs_in_space, SamplerSpec("bug:blocks", Blocks), timeout=1)
    message = str(caught.value)
    assert message.startswith("[configs_in_space] sampler 'bug:blocks': eager_sample() made ")
    assert "no progress for 1 s" in message and "does the backend block" in message
    assert "max_pending" not in message  # every earlier trial was told: not a pending problem
    assert isinstance(caught.value, AssertionError)
    with pytest.raises(CheckHung, match="while 2 had no result yet.*max_pending=1"):
        run_check(check_dense_ids_and_drop, SamplerSpec("bug:blocks-pending", Blocks), timeout=1)


def walk(search_space: Any, *, step: float = 0.5, **kwargs: Any) -> UniformSampler:
    sampler = UniformSampler(search_space, **kwargs)
    sampler.step = step  # type: ignore[attr-defined]
    return sampler


def test_options_reach_the_sampler_under_test() -> None:
    built: list[Any] = []

    def factory(search_space: Any, *, step: float = 0.5, **kwargs: Any) -> UniformSampler:
        built.append(step)
        return walk(search_space, step=step, **kwargs)

    check_sampler(SamplerSpec("bug:walk", factory, needs_metrics=False), options={"step": 0.25})
    assert built and set(built) == {0.25}
    with pytest.raises(Exception, match="has no option 'stp'"):
        check_sampler(SamplerSpec("bug:walk", factory, needs_metrics=False), options={"stp": 0.25})


def test_every_check_has_a_docstring_for_the_guide() -> None:
    assert all(check.__doc__ for check in CHECKS)


class Slow(UniformSampler):
    """Every call is slow (a GP on a loaded machine), none of them blocks."""

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        time.sleep(0.06)
        return super()._eager_sample()


def test_a_slow_sampler_is_never_called_hung(monkeypatch: pytest.MonkeyPatch) -> None:
    from hposampler.testing import checks

    monkeypatch.setattr(checks, "_slowness", 1.0)
    spec = SamplerSpec("bug:slow", Slow)
    started = time.monotonic()
    # 48 samples of 0.06 s: the check takes > 2 s, each call far less than the 2 s limit
    run_check(check_configs_in_space, spec, timeout=2.0)
    assert time.monotonic() - started > 2.0


def test_after_a_hang_the_other_checks_of_that_sampler_are_skipped_with_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hposampler.testing import checks

    monkeypatch.setattr(checks, "_slowness", 1.0)
    spec = SamplerSpec("bug:blocks-too", Blocks)
    with pytest.raises(CheckHung):
        check_sampler(spec, timeout=0.5)
    with pytest.raises(CheckNotApplicable, match=r"not run: \[configs_in_space\] eager_sample"):
        run_check(check_resume, spec, timeout=0.5)


def test_the_limit_scales_with_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    from hposampler.testing import checks

    monkeypatch.setattr(checks, "_slowness", 4.0)
    assert call_limit() == 4 * CALL_TIMEOUT and call_limit(2.0) == 8.0
    monkeypatch.setenv("HPOSAMPLER_KIT_CALL_TIMEOUT", "900")
    assert call_limit() == 900.0
    monkeypatch.setattr(checks, "_slowness", None)
    monkeypatch.delenv("HPOSAMPLER_KIT_CALL_TIMEOUT")
    assert machine_slowness() >= 1.0


class Climber(UniformSampler):
    """A hill climber over float spaces: after 8 random trials, it perturbs the best so far.

    ``wrong_direction`` reads every metric as a loss (the bug the direction check catches).
    """

    wrong_direction = False

    def __init__(self, search_space: Any, **kwargs: Any) -> None:
        super().__init__(search_space, **kwargs)
        self.best: tuple[float, dict[str, Any]] | None = None

    def _update_trial(self, trial_id: int, metrics: Any, state: Any) -> None:
        super()._update_trial(trial_id, metrics, state)
        if state != TrialState.COMPLETE or not metrics:
            return
        ((name, direction),) = self.optim_metrics.items()
        value = metrics[name]
        if value is None:  # no result: nothing to climb from
            return
        loss = value if direction == "min" or self.wrong_direction else -value
        if self.best is None or loss < self.best[0]:
            self.best = (loss, self.configs[trial_id])

    def _suggest(self, param: Any) -> Any:
        if (self.best is None or len(self.configs) < 8 or param.name not in self.best[1]
                or not isinstance(self.best[1][param.name], float)):  # fmt: skip
            return super()._suggest(param)
        centre = self.best[1][param.name]
        return min(param.high, max(param.low, self.rng.gauss(centre, 0.05)))


class WrongWay(Climber):
    wrong_direction = True


def test_a_sampler_that_reads_max_as_min_fails_the_direction_check() -> None:
    run_check(check_direction, SamplerSpec("ok:climber", Climber, needs_metrics=True))
    with pytest.raises(AssertionError, match=r"^\[direction\] sampler 'bug:wrong-way': .*"
                       r"A 'max' metric must be maximised"):  # fmt: skip
        run_check(check_direction, SamplerSpec("bug:wrong-way", WrongWay, needs_metrics=True))
    with pytest.raises(CheckNotApplicable, match="needs_metrics=False"):
        check_direction(SamplerSpec("ok:random", UniformSampler, needs_metrics=False))


def test_a_sampler_that_declares_nothing_is_checked_for_learning() -> None:
    """An author who forgot ``needs_metrics=True`` on a sampler that ignores results does
    not get a green kit: undeclared means checked (a bare class too)."""
    from hposampler.testing.checks import check_learns_from_results

    for undeclared in (SamplerSpec("bug:forgot", UniformSampler), UniformSampler):
        with pytest.raises(AssertionError, match=r"\[learns_from_results\]"):
            run_check(check_learns_from_results, undeclared)
    run_check(check_learns_from_results, SamplerSpec("ok:climber", Climber))  # learns: passes


class IgnoresResults(Climber):
    """Declares it learns (needs_metrics) but never looks at a result."""

    def _update_trial(self, trial_id: int, metrics: Any, state: Any) -> None:
        UniformSampler._update_trial(self, trial_id, metrics, state)


class IntsAsFloats(UniformSampler):
    def _suggest(self, param: Any) -> Any:
        value = super()._suggest(param)
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class LatePendingDuplicates(UniformSampler):
    """Fine while fresh; once 20 trials have results, pending trials all get one config."""

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        finished = sum(1 for s in self.trial_states.values() if s == TrialState.COMPLETE)
        pending = sum(1 for s in self.trial_states.values() if s == TrialState.RUNNING)
        if finished >= 20 and pending:
            self.rng = random.Random(0)
        return super()._eager_sample()


class NumpyInternal(UniformSampler):
    """Its internal state is a NumPy array (not JSON)."""

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        import numpy as np

        return {"point": np.zeros(2)}


def test_a_sampler_that_ignores_results_fails_learns_from_results() -> None:
    from hposampler.testing.checks import check_learns_from_results

    run_check(check_learns_from_results, SamplerSpec("ok:climber", Climber, needs_metrics=True))
    spec = SamplerSpec("bug:ignores-results", IgnoresResults, needs_metrics=True)
    with pytest.raises(AssertionError, match=r"^\[learns_from_results\] sampler "
                       r"'bug:ignores-results': it proposed exactly the same"):  # fmt: skip
        run_check(check_learns_from_results, spec)
    with pytest.raises(CheckNotApplicable, match="needs_metrics=False"):
        check_learns_from_results(SamplerSpec("ok:random", UniformSampler, needs_metrics=False))


def test_ints_returned_as_floats_are_named_as_such() -> None:
    spec = SamplerSpec("bug:ints-as-floats", IntsAsFloats)
    with pytest.raises(AssertionError) as info:
        run_check(check_configs_in_space, spec)
    assert str(info.value).startswith("[configs_in_space] sampler 'bug:ints-as-floats'")
    assert "it is a float, and this is an int parameter" in str(info.value)


def test_pending_duplicates_after_the_start_up_phase_are_caught() -> None:
    spec = SamplerSpec("bug:late-pending", LatePendingDuplicates)
    with pytest.raises(AssertionError, match=r"^\[concurrent_distinct\] sampler 'bug:late-pending"
                       r"': after 25 trials with results, 4 pending trials"):  # fmt: skip
        run_check(check_concurrent_distinct, spec)


def test_a_non_json_internal_state_fails_every_check_with_its_name() -> None:
    spec = SamplerSpec("bug:numpy-internal", NumpyInternal)
    for check in (check_internal_repr_json, check_resume, check_resume_continues):
        with pytest.raises(AssertionError) as info:
            run_check(check, spec)
        name = check.__name__.removeprefix("check_")
        assert str(info.value).startswith(f"[{name}] sampler 'bug:numpy-internal':"), info.value
        assert "JSON" in str(info.value)


def test_quick_mode_runs_fewer_trials_and_skips_the_learning_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = SamplerSpec("ok:climber", Climber, needs_metrics=True)
    quick = check_sampler(spec, quick=True)
    assert any(s.startswith("learns_from_results: quick mode") for s in quick)
    assert any(s.startswith("direction: quick mode") for s in quick)
    assert not any(s.startswith("learns_from_results") for s in check_sampler(spec))
    monkeypatch.setenv("HPOSAMPLER_KIT_QUICK", "1")
    from hposampler.testing import quick_mode

    assert quick_mode()
    with pytest.raises(AssertionError, match="in 20 trials"):  # the quick budget
        run_check(check_model_phase, SamplerSpec("bug:stuck", StuckAfterStartup10))


class StuckAfterStartup10(UniformSampler):
    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        if self.new_trial_id() >= 10:
            self.rng = random.Random(0)
        return super()._eager_sample()


def test_the_hang_message_names_the_environment_limit_when_it_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HPOSAMPLER_KIT_CALL_TIMEOUT", "1")
    with pytest.raises(CheckHung) as caught:
        run_check(check_configs_in_space, SamplerSpec("bug:blocks-env", Blocks))
    message = str(caught.value)
    assert "no progress for 1 s" in message
    assert "set by HPOSAMPLER_KIT_CALL_TIMEOUT=1" in message
    assert "slowness" not in message  # the machine's slowness played no part


def test_an_int_far_outside_its_range_is_not_told_to_give_int_of_it() -> None:
    from hposampler import compile_space

    tree = compile_space({"k": {"value_range": [0, 10], "value_type": "int"}})
    far = tree.violation({"k": -3.08})
    assert far is not None and "give an int from 0 to 10" in far and "int(-3.08)" not in far
    near = tree.violation({"k": 3.0})
    assert near is not None and "give int(3.0)" in near


def test_declared_option_defaults_that_the_factory_cannot_take_fail_the_kit() -> None:
    from hposampler import OptionSpec

    def factory(search_space: Any, *, width: int = 3, **kwargs: Any) -> UniformSampler:
        sampler = UniformSampler(search_space, **kwargs)
        sampler.spread = list(range(width))  # type: ignore[attr-defined]  # an int, really
        return sampler

    declared_as_text = SamplerSpec(
        "bug:option-types",
        factory,
        options=(OptionSpec("width", "3", (str,), "how wide"),),
        needs_metrics=False,
    )
    with pytest.raises(AssertionError) as info:
        check_sampler(declared_as_text)
    message = str(info.value)
    assert message.startswith("[declared_options] sampler 'bug:option-types'")
    assert "{'width': '3'}" in message and "TypeError" in message
    right = SamplerSpec(
        "ok:option-types", factory, options=(OptionSpec("width", 3, (int,)),), needs_metrics=False
    )
    run_check(check_declared_options, right)
