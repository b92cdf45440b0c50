"""The shared backend machinery: resume loop, no-op defaults, one space definition."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hposampler
from hposampler import (
    BaseSampler,
    MetricsError,
    SamplerOptionsError,
    SamplerSpec,
    SearchSpace,
    Trial,
    TrialState,
    UnknownTrialError,
    compile_space,
    make_sampler,
    parse_search_space,
)
from hposampler.plugins.specs import OptionSpec, infer_options
from hposampler.space.tree import CategoricalParam, ChoiceParam, FloatParam, IntParam, SpaceTree
from hposampler.testing import space_violation

SPACE = {
    "x": {"value_range": [0, 1], "value_type": "float", "n_bins": 5},
    "opt": {
        "subspaces": [
            {"sub_configuration": {"name": "a", "lr": {"value_range": [1e-3, 1], "log": True}}},
            {"sub_configuration": {"name": "b", "k": {"categorical_values": [1, "1", None]}}},
        ]
    },
}


class Minimal(BaseSampler):
    """A backend written against the shared machinery: two methods and one hook."""

    def __init__(self, search_space: Any, **kwargs: Any) -> None:
        super().__init__(search_space, **kwargs)
        self.resumed: list[tuple[int, TrialState, dict[str, Any]]] = []
        self.u = 0.0

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        self.resumed.append((trial.trial_id, trial.state, params))

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        self.u = (self.u + 0.37) % 1.0
        return self.new_trial_id(), self.tree.sample(lambda p: p.from_unit(self.u))[1]

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        return None


def test_a_backend_needs_only_eager_sample_and_internal_repr() -> None:
    sampler = Minimal(SPACE, optim_metrics={"loss": "min"})
    ids = []
    for i in range(6):
        tid, config, _ = sampler.eager_sample()
        assert space_violation(SPACE, config) is None
        sampler.unlock(drop=i == 2)
        if i != 2:
            sampler.update_trial(tid, {"loss": 0.5}, TrialState.COMPLETE)
            ids.append(tid)
    assert ids == [0, 1, 2, 3, 4]  # the dropped id 2 was handed out again
    assert set(sampler.trial_states.values()) == {TrialState.COMPLETE}


def test_resume_loop_runs_once_in_id_order_with_encoded_params(
    caplog: pytest.LogCaptureFixture,
) -> None:
    trials = [
        Trial(2, {"x": 0.75, "opt": {"name": "b", "k": "1"}}, TrialState.WAITING),
        Trial(0, {"x": 0.5 + 1e-12, "opt": {"name": "a", "lr": 0.01}}, 1, [{"loss": 1.0}]),
        Trial(1, {"x": 0.3, "opt": {"name": "a", "lr": 0.01}}, TrialState.FAIL),  # off-grid
    ]
    sampler = Minimal(SPACE, optim_metrics={"loss": "min"}, trials=trials)
    assert [(tid, state) for tid, state, _ in sampler.resumed] == [
        (0, TrialState.COMPLETE),
        (2, TrialState.WAITING),
    ]
    params0 = sampler.resumed[0][2]
    assert params0 == {"x": 0.5, "opt": 0, "opt.subspaces[0].lr": 0.01}  # snapped to the grid
    assert sampler.resumed[1][2]["opt.subspaces[1].k"] == "1"
    assert "trial 1: config is not in the search space (x: value 0.3" in caplog.text
    assert sampler.resumed[1][1].is_pending and not TrialState.COMPLETE.is_pending
    assert sampler.new_trial_id() == 3


class Forgetful(BaseSampler):
    """Learns nothing from earlier trials: no ``_resume_trial`` of its own."""

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        return self.new_trial_id(), self.tree.sample(lambda p: p.from_unit(0.5))[1]

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        return None


def test_a_backend_without_resume_trial_is_not_given_encoded_configs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    trials = [
        Trial(0, {"x": 0.5, "opt": {"name": "a", "lr": 0.01}}, 1, [{"loss": 1.0}]),
        Trial(3, {"x": 0.3, "opt": {"name": "a", "lr": 0.01}}, TrialState.FAIL),  # off-grid
    ]
    encoded: list[Any] = []
    monkeypatch.setattr(SpaceTree, "encode", lambda self, config: encoded.append(config) or {})
    sampler = Forgetful(SPACE, optim_metrics={"loss": "min"}, trials=trials)
    sampler.sync_trials([Trial(4, {"x": 0.25, "opt": {"name": "a", "lr": 0.1}}, 0)])
    assert encoded == []  # nothing to hand the encoding to
    assert "not in the search space" not in caplog.text  # not "ignored": never used
    assert sampler.trial_states == {0: TrialState.COMPLETE, 3: TrialState.FAIL,
                                    4: TrialState.RUNNING}  # fmt: skip
    assert sampler.eager_sample()[0] == 5
    with pytest.raises(MetricsError, match="missing: \\['loss'\\]"):  # still checked
        Forgetful(SPACE, optim_metrics={"loss": "min"}, trials=[Trial(0, {}, 1, [{"a": 1}])])
    Minimal(SPACE, optim_metrics={"loss": "min"}, trials=trials)
    assert len(encoded) == 2  # a backend that learns gets them encoded


def test_resumed_metrics_must_match_optim_metrics() -> None:
    trial = Trial(0, {"x": 0.5, "opt": {"name": "a", "lr": 0.01}}, 1, [{"acc": 1.0}])
    with pytest.raises(MetricsError, match="missing: \\['loss'\\]"):
        Minimal(SPACE, optim_metrics={"loss": "min"}, trials=[trial])


class AblatorStyle(Minimal):
    """Overrides update_trial itself, as ablator's samplers do."""

    def __init__(self, search_space: Any, **kwargs: Any) -> None:
        super().__init__(search_space, **kwargs)
        self.told: list[tuple[int, Any, Any]] = []

    def update_trial(self, trial_id: int, metrics: Any, state: Any) -> None:
        self.told.append((trial_id, metrics, state))


def test_an_ablator_style_update_trial_override_gets_the_validated_call() -> None:
    sampler = AblatorStyle(SPACE, optim_metrics={"loss": "min"})
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    sampler.update_trial(tid, {"loss": float("nan")}, 1)
    assert sampler.told == [(0, {"loss": None}, TrialState.COMPLETE)]
    assert sampler.trial_states == {0: TrialState.COMPLETE}
    with pytest.raises(UnknownTrialError):
        sampler.update_trial(99, {"loss": 1.0}, 1)
    with pytest.raises(MetricsError, match="unexpected: \\['bogus'\\]"):
        sampler.update_trial(0, {"loss": 1.0, "bogus": 2}, 1)
    with pytest.raises(MetricsError, match="state 42 is not a TrialState"):
        sampler.update_trial(0, {"loss": 1.0}, 42)
    assert len(sampler.told) == 1


def test_metrics_accept_any_real_number() -> None:
    import decimal
    import fractions

    import numpy as np

    sampler = Minimal(SPACE, optim_metrics={"loss": "min"})
    for value in (np.float32(1.5), np.int64(3), decimal.Decimal("0.25"), fractions.Fraction(1, 4),
                  np.array(2.0)):  # fmt: skip
        tid, _, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        sampler.update_trial(tid, {"loss": value}, TrialState.COMPLETE)
    with pytest.raises(MetricsError, match="metric 'loss' must be a number"):
        sampler.update_trial(0, {"loss": True}, 1)
    with pytest.raises(MetricsError, match="must be a number"):
        sampler.update_trial(0, {"loss": np.array([1.0, 2.0])}, 1)


def test_importing_the_contract_discovers_no_plugins_and_builds_nothing_by_name() -> None:
    code = (
        "import sys, hposampler.samplers, hposampler.space, hposampler.pruning\n"
        "from hposampler.plugins import registry\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('hposampler'))\n"
        "assert registry._registry is None, 'plugins were discovered'\n"
        "assert not [m for m in loaded if m.startswith('hposampler_')], loaded\n"
        "for lookup in ('hposampler.selection', 'hposampler.study', 'hposampler.storage'):\n"
        "    assert lookup not in loaded, (lookup, loaded)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("old", "new"),
    [("hposampler.tree", "hposampler.space.tree"), ("hposampler.flat", "hposampler.space.flat"),
     ("hposampler.spec", "hposampler.plugins.specs"), ("hposampler.runner", "hposampler.study.runner"),
     ("hposampler.channels", "hposampler.study.channels")],
)  # fmt: skip
def test_old_module_paths_warn_and_are_the_moved_module(old: str, new: str) -> None:
    code = (
        "import importlib, warnings\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        f"    old = importlib.import_module({old!r})\n"
        f"new = importlib.import_module({new!r})\n"
        "assert old is new and new.__spec__.name == new.__name__, (old, new.__spec__)\n"
        "[w] = [w for w in seen if issubclass(w.category, DeprecationWarning)]\n"
        f"assert {old!r} + ' moved to ' + {new!r} in str(w.message), w.message\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_directly_built_samplers_fire_no_hooks_and_make_sampler_attaches_them() -> None:
    assert Minimal(SPACE)._hook is None
    assert make_sampler("grid", {"x": {"categorical_values": [1]}})._hook is not None


def test_search_spaces_are_hashable_and_equal_by_value() -> None:
    a = SearchSpace(sub_configuration={"lr": {"value_range": ["0", "1"]}, "k": [1, 2]})
    b = parse_search_space({"s": {"sub_configuration": {"lr": {"value_range": [0.0, 1.0]},
                                                        "k": [1, 2]}}})["s"]  # fmt: skip
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.sub_configuration["lr"].value_type == "float"  # ablator's default
    assert hash(SearchSpace(categorical_values=[[1], {"a": 1}])) != hash(
        SearchSpace(categorical_values=[[1], {"a": 2}])
    )


def test_space_violation_accepts_everything_parse_accepts() -> None:
    space = {"group": {"inner": {"value_range": [0, 1], "value_type": "int"}, "c": "x"}}
    assert space_violation(space, {"group": {"inner": 1, "c": "x"}}) is None
    assert space_violation(space, {"group": {"inner": 2, "c": "x"}}) == (
        "group.inner: value 2 is not in the search space: outside [0, 1]"
    )
    assert "keys" in (space_violation(space, {"group": {"inner": 1}}) or "")


def test_search_space_contains_is_the_trees_definition() -> None:
    space = parse_search_space(SPACE)
    tree = compile_space(SPACE)
    for config in ({"name": "a", "lr": 0.5}, {"name": "b", "k": None}, {"name": "b", "k": 1.0}):
        expected = tree.violation({"x": 0.0, "opt": config}) is None
        assert space["opt"].contains(config) is expected


params = st.one_of(
    st.builds(
        lambda low, span, log, bins: FloatParam("f", low, low + span, log, bins),
        st.floats(1e-3, 1e3), st.floats(0, 1e3), st.booleans(),
        st.one_of(st.none(), st.integers(1, 12)),
    ),
    st.builds(
        lambda low, span, log, bins: IntParam("i", low, low + span, log, bins),
        st.integers(1, 1000), st.integers(0, 1000), st.booleans(),
        st.one_of(st.none(), st.integers(1, 12)),
    ),
    st.builds(lambda n: ChoiceParam("c", n), st.integers(1, 6)),
    st.builds(lambda n: CategoricalParam("k", tuple(range(n))), st.integers(1, 6)),
)  # fmt: skip


@given(params, st.floats(0, 1))
def test_unit_encoding_lands_inside_and_round_trips(param: Any, u: float) -> None:
    value = param.from_unit(u)
    assert param.contains(value)
    back = param.to_unit(value)
    assert 0.0 <= back <= 1.0
    if param.grid() is not None or not isinstance(param, FloatParam):
        assert param.from_unit(back) == value  # discrete: the bin's centre maps back
    else:
        assert param.from_unit(back) == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert param.canonical(value) == value


def test_grid_index_tolerates_round_off_and_canonical_snaps() -> None:
    f = FloatParam("f", 0.0, 1.0, n_bins=4)
    assert f.index_of(1 / 3 + 1e-13) == 1 and f.index_of(0.5) is None
    assert f.canonical(1 / 3 + 1e-13) == f.grid()[1]  # type: ignore[index]
    with pytest.raises(ValueError, match="is not in f"):
        f.canonical(0.5)


def walk_factory(search_space: Any, *, optim_metrics: Any = None, trials: Any = None,
                 seed: Any = None, step: float = 0.2, mode: str | None = None,
                 budget: int | None = None) -> BaseSampler:  # fmt: skip
    return Minimal(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)


def test_options_are_inferred_from_a_factory_when_not_declared() -> None:
    inferred = infer_options(walk_factory)
    assert inferred == (
        OptionSpec("step", 0.2, (float,)),
        OptionSpec("mode", None, (str, type(None))),
    )
    spec = SamplerSpec("walk:simple", walk_factory)
    assert spec.check_options({"step": 0.5}) == {"step": 0.5}
    with pytest.raises(SamplerOptionsError, match="Did you mean 'step'"):
        spec.check_options({"stp": 0.5})
    with pytest.raises(SamplerOptionsError, match="must be float"):
        spec.check_options({"step": "big"})
    assert SamplerSpec("walk:none", walk_factory, options=()).options == ()
    assert [o.name for o in SamplerSpec("ex:min", Minimal).options] == []


def test_public_names_still_resolve_lazily() -> None:
    for name in ("make_sampler", "available_samplers", "get_sampler_spec", "SamplerConfig",
                 "Study"):  # fmt: skip
        assert getattr(hposampler, name) is not None
    with pytest.raises(AttributeError):
        hposampler.nothing_here  # noqa: B018


ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "del"]),
        st.one_of(st.integers(0, 40), st.just(1 << 30)),  # dense ids and one far beyond
        st.sampled_from(list(TrialState)),
    ),
    max_size=60,
)


@given(ops)
def test_compact_tables_behave_like_dicts(operations: list[tuple[str, int, TrialState]]) -> None:
    from hposampler.samplers.tables import DenseIntMap, StateTable

    table, numbers, model = StateTable(), DenseIntMap(), {}
    for op, trial_id, state in operations:
        if op == "set":
            table[trial_id] = state
            numbers[trial_id] = int(state) * 7
            model[trial_id] = state
        elif trial_id in model:
            del table[trial_id]
            assert numbers.pop(trial_id) == int(model.pop(trial_id)) * 7
        else:
            with pytest.raises(KeyError):
                del table[trial_id]
            assert numbers.pop(trial_id) is None
        assert len(table) == len(model) and dict(table.items()) == model
        assert list(table) == sorted(model)
        assert all(numbers.get(t) == int(s) * 7 for t, s in model.items())


def test_sync_reaches_an_ablator_style_override_without_hooks() -> None:
    worker = AblatorStyle(SPACE, optim_metrics={"loss": "min"})
    other = Trial(0, {"x": 0.5, "opt": {"name": "a", "lr": 0.01}}, TrialState.RUNNING)
    worker.sync_trials([other])  # another worker's running trial: new to this one
    assert worker.resumed == [(0, TrialState.RUNNING, {"x": 0.5, "opt": 0,
                                                      "opt.subspaces[0].lr": 0.01})]  # fmt: skip
    worker.sync_trials([other.evolve(state=TrialState.COMPLETE, metrics=[{"loss": 0.25}])])
    assert worker.told == [(0, {"loss": 0.25}, TrialState.COMPLETE)]
    assert worker.trial_states == {0: TrialState.COMPLETE}
    assert worker.eager_sample()[0] == 1


class Curves(Minimal):
    """Keeps learning curves through the ``_report`` hook; final results through
    ``_update_trial``."""

    def __init__(self, search_space: Any, **kwargs: Any) -> None:
        super().__init__(search_space, **kwargs)
        self.reports: list[tuple[int, int, Any]] = []
        self.updates: list[tuple[int, Any, TrialState]] = []

    def _report(self, trial_id: int, step: int, metrics: dict[str, float | None]) -> None:
        self.reports.append((trial_id, step, metrics))

    def _update_trial(self, trial_id: int, metrics: Any, state: TrialState) -> None:
        self.updates.append((trial_id, metrics, state))


def test_report_reaches_the_report_hook_with_its_step_validated() -> None:
    sampler = Curves(SPACE, optim_metrics={"loss": "min"})
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    sampler.report(tid, 3, {"loss": float("nan")})
    sampler.update_trial(tid, {"loss": 0.5}, TrialState.RUNNING)  # ablator's call: no step
    sampler.update_trial(tid, {"loss": 0.25}, TrialState.COMPLETE)
    assert sampler.reports == [(0, 3, {"loss": None})]
    assert sampler.updates == [
        (0, {"loss": 0.5}, TrialState.RUNNING),
        (0, {"loss": 0.25}, TrialState.COMPLETE),
    ]
    assert sampler.reporting_step is None
    with pytest.raises(MetricsError, match="unexpected: \\['acc'\\]"):
        sampler.report(tid, 4, {"loss": 1.0, "acc": 2.0})
    assert len(sampler.reports) == 1


def test_without_a_report_hook_reports_are_running_updates() -> None:
    class Plain(Minimal):
        def __init__(self, search_space: Any, **kwargs: Any) -> None:
            super().__init__(search_space, **kwargs)
            self.updates: list[tuple[int, Any, TrialState]] = []

        def _update_trial(self, trial_id: int, metrics: Any, state: TrialState) -> None:
            self.updates.append((trial_id, metrics, state))

    sampler = Plain(SPACE, optim_metrics={"loss": "min"})
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    sampler.report(tid, 7, {"loss": 2.0})
    assert sampler.updates == [(0, {"loss": 2.0}, TrialState.RUNNING)]


def test_an_ablator_style_override_sees_the_report_step() -> None:
    class Ported(AblatorStyle):
        def update_trial(self, trial_id: int, metrics: Any, state: Any) -> None:
            self.told.append((trial_id, metrics, state, self.reporting_step))

    sampler = Ported(SPACE, optim_metrics={"loss": "min"})
    tid, _, _ = sampler.eager_sample()
    sampler.unlock(drop=False)
    sampler.report(tid, 2, {"loss": 1.0})
    assert sampler.told == [(0, {"loss": 1.0}, TrialState.RUNNING, 2)]
