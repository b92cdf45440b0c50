"""The conformance kit: an executable definition of a correct hposampler sampler.

>>> from hposampler.testing import check_sampler
>>> skipped = check_sampler("grid")   # every check; returns the skipped ones, with why
>>> skipped[0]
'learns_from_results: the spec declares needs_metrics=False (it ignores results)'
>>> skipped = check_sampler("random")   # no options, not exhaustive: two checks do not apply
>>> for reason in skipped[:2]:
...     print(reason)
declared_options: the spec declares no options
exhaustive: the spec does not declare exhaustive=True

In a plugin's test suite, one test per (sampler, check)::

    from hposampler.testing import parametrize_with_checks

    @parametrize_with_checks(["example:halton"])
    def test_conformance(sampler, check):
        check(sampler)

Each check raises ``AssertionError`` whose message starts with ``[check name]``
and names the sampler and the offending value. Spaces are chosen from the
sampler's capability flags when none is given: ranges get ``n_bins`` for
exhaustive samplers.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from hposampler.errors import MetricsError
from hposampler.plugins.specs import SamplerSpec
from hposampler.samplers.base import BaseSampler, normalize_optim_metrics
from hposampler.samplers.trial import Trial, TrialState
from hposampler.selection import get_sampler_spec
from hposampler.space.model import parse_search_space
from hposampler.space.tree import compile_space

__all__ = [
    "CHECKS",
    "CALL_TIMEOUT",
    "CheckHung",
    "CheckNotApplicable",
    "Configured",
    "SPACES",
    "SamplerLike",
    "call_limit",
    "check_sampler",
    "machine_slowness",
    "parametrize_with_checks",
    "quick_mode",
    "run_check",
    "space_violation",
]

#: A registered name, a :class:`SamplerSpec`, or a factory (read as a default spec).
SamplerLike = str | SamplerSpec | Callable[..., BaseSampler]

#: The spaces the kit samples from when none is given.
SPACES: dict[str, dict[str, Any]] = {
    "int": {
        "n": {"value_range": [-3, 40], "value_type": "int"},
        "m": {"value_range": [1, 1000], "value_type": "int", "log": True},
    },
    "log_float": {
        "lr": {"value_range": [1e-5, 1e-1], "value_type": "float", "log": True},
        "dropout": {"value_range": [0.0, 0.9], "value_type": "float"},
    },
    "categorical": {
        "c": {"categorical_values": [1, "1", 1.5, True, None, [1, 2], {"k": "v"}]},
        "fixed": "constant",
    },
    "nested": {
        "train_config.optimizer_config": {
            "subspaces": [
                {"sub_configuration": {"name": "sgd", "arguments": {
                    "lr": {"value_range": [1e-3, 1.0], "value_type": "float", "log": True},
                    "momentum": {"categorical_values": [0.0, 0.9]}}}},
                {"sub_configuration": {"name": "adam", "arguments": {
                    "lr": {"value_range": [1e-5, 1e-2], "value_type": "float", "log": True},
                    "amsgrad": {"categorical_values": [True, False]}}}},
            ]
        },
        "model_config.width": {"value_range": [16, 256], "value_type": "int"},
    },
}  # fmt: skip

_LOSS = {"loss": "min"}

#: Quick mode (``check_sampler(..., quick=True)``, ``HPOSAMPLER_KIT_QUICK=1``): fewer
#: trials per check and no learning checks, for an author's edit loop.
_QUICK = False


def quick_mode() -> bool:
    """Whether the checks run in quick mode (see :func:`check_sampler`)."""
    import os

    return _QUICK or os.environ.get("HPOSAMPLER_KIT_QUICK", "") not in ("", "0")


def _n(full: int, quick: int) -> int:
    return quick if quick_mode() else full


@contextlib.contextmanager
def _quick(on: bool) -> Iterator[None]:
    """Quick mode inside the block when ``on`` (kept if it was on already)."""
    global _QUICK
    before, _QUICK = _QUICK, _QUICK or on
    try:
        yield
    finally:
        _QUICK = before


_TWO = {"loss": "min", "score": "max"}


class CheckNotApplicable(Exception):
    """A check does not apply to a sampler (its declared capabilities exclude it)."""


class Configured:
    """A sampler under test with options for its factory (``options=`` of the kit).

    Parameters
    ----------
    sampler : str or SamplerSpec or callable
        What the checks build.
    options : mapping
        Backend options passed on every build (validated like ``make_sampler``'s).
    """

    def __init__(self, sampler: SamplerLike, options: Mapping[str, Any]) -> None:
        self.sampler = sampler
        self.options = dict(options)

    def __repr__(self) -> str:
        return f"Configured({self.sampler!r}, {self.options!r})"


class _Subject:
    """A sampler under test: how to build it and what it declares."""

    def __init__(self, sampler: SamplerLike | Configured) -> None:
        self.options: dict[str, Any] = {}
        if isinstance(sampler, Configured):
            self.options = sampler.options
            sampler = sampler.sampler
        if isinstance(sampler, str):
            self.spec = get_sampler_spec(sampler)
            self.label = sampler
        elif isinstance(sampler, SamplerSpec):
            self.spec, self.label = sampler, sampler.name
        elif callable(sampler):
            name = getattr(sampler, "__name__", "factory").lower().strip("_") or "factory"
            self.spec = SamplerSpec(f"custom:{name}", sampler)
            self.label = self.spec.name
        else:
            raise TypeError(f"check_sampler takes a name, a SamplerSpec or a factory: {sampler!r}")

    def build(
        self,
        space: Mapping[str, Any],
        metrics: Mapping[str, str] | None = None,
        trials: Iterable[Trial] | None = None,
        seed: int | None = 0,
    ) -> BaseSampler:
        from hposampler.selection import make_sampler

        metrics = dict(_LOSS if metrics is None else metrics)
        watch = _WATCH
        if watch is not None:
            watch.enter("building the sampler")
        try:
            if _registered(self.spec):  # through make_sampler: options and capabilities checked
                built = make_sampler(
                    self.spec.name, space, optim_metrics=metrics, trials=trials, seed=seed,
                    **self.options,
                )  # fmt: skip
                return _watched(built)
            sampler = self.spec.factory(
                parse_search_space(space),
                optim_metrics=normalize_optim_metrics(metrics),
                trials=list(trials or []),
                seed=seed,
                **self.spec.check_options(self.options),
            )
        finally:
            if watch is not None:
                watch.leave()
        _check(isinstance(sampler, BaseSampler), "build", self, f"factory returned {sampler!r}")
        return _watched(sampler)

    def spaces(self) -> dict[str, dict[str, Any]]:
        if not self.spec.exhaustive:
            return SPACES
        return {name: _finite(space) for name, space in SPACES.items()}


def _registered(spec: SamplerSpec) -> bool:
    try:
        return get_sampler_spec(spec.name) is spec
    except LookupError:
        return False


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _finite(v) for k, v in value.items()}
        if "value_range" in out and "n_bins" not in out:
            out["n_bins"] = 3
        return out
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _check(condition: bool, check: str, subject: _Subject, detail: str) -> None:
    if not condition:
        raise AssertionError(f"[{check}] sampler {subject.label!r}: {detail}")


def space_violation(space: Mapping[str, Any], config: Mapping[str, Any]) -> str | None:
    """Why ``config`` is not a config of ``space`` (path and reason), or ``None``.

    The same check samplers use when they resume (:meth:`SpaceTree.violation
    <hposampler.space.tree.SpaceTree.violation>`), so anything ``parse_search_space``
    accepts, nested plain-dict groups included, is checked the same way.
    """
    return compile_space(space).violation(config)


def _loss(config: Mapping[str, Any]) -> float:
    """A deterministic, config-dependent loss so model-based samplers get signal."""
    text = json.dumps(config, sort_keys=True, default=repr)
    return (sum(map(ord, text)) % 97) / 97.0


def _run(sampler: BaseSampler, n: int, update: bool = True) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for _ in range(n):
        try:
            trial_id, config, _ = sampler.eager_sample()
        except StopIteration:
            break
        sampler.unlock(drop=False)
        if update:
            metrics = {m: _loss(config) for m in sampler.optim_metrics}
            sampler.update_trial(trial_id, metrics, TrialState.COMPLETE)
        out.append((trial_id, config))
    return out


# -- the checks ---------------------------------------------------------------------------


def check_configs_in_space(sampler: SamplerLike) -> None:
    """Every sampled config is inside the space, on int, log, categorical and nested spaces."""
    subject = _Subject(sampler)
    for name, space in subject.spaces().items():
        for trial_id, config in _run(subject.build(space), _n(12, 6)):
            problem = space_violation(space, config)
            _check(problem is None, "configs_in_space", subject,
                   f"space {name!r}, trial {trial_id}: {problem}")  # fmt: skip


def check_internal_repr_json(sampler: SamplerLike) -> None:
    """``internal_repr`` (and ``eager_sample``'s third value) is JSON-serialisable or None."""
    subject = _Subject(sampler)
    built = subject.build(subject.spaces()["nested"])
    for _ in range(5):
        trial_id, config, internal = built.eager_sample()
        built.unlock(drop=False)
        for value in (internal, built.internal_repr(trial_id)):
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                _check(False, "internal_repr_json", subject,
                       f"trial {trial_id}: internal {value!r} is not JSON ({exc})")  # fmt: skip
        _check(isinstance(internal, (dict, type(None))), "internal_repr_json", subject,
               f"trial {trial_id}: internal must be a dict or None, got {internal!r}")  # fmt: skip
        built.update_trial(trial_id, {"loss": _loss(config)}, TrialState.COMPLETE)


def check_dense_ids_and_drop(sampler: SamplerLike) -> None:
    """Ids are 0, 1, 2, ...; a dropped id is handed out again."""
    subject = _Subject(sampler)
    built = subject.build(subject.spaces()["log_float"])
    got = []
    for drop in (False, False, True, False, True, True, False):
        trial_id, _, _ = built.eager_sample()
        built.unlock(drop=drop)
        got.append(trial_id)
    _check(got == [0, 1, 2, 2, 3, 3, 3], "dense_ids_and_drop", subject,
           f"ids {got}; expected [0, 1, 2, 2, 3, 3, 3] (drops at positions 3, 5, 6)")  # fmt: skip


def check_lock_discipline(sampler: SamplerLike) -> None:
    """Sampling twice without ``unlock`` and dropping while unlocked raise SamplerLockedError."""
    from hposampler.errors import SamplerLockedError

    subject = _Subject(sampler)
    built = subject.build(subject.spaces()["int"])
    for label, action in (("unlock(drop=True) while unlocked", lambda: built.unlock(drop=True)),
                          ("eager_sample() twice", lambda: (built.eager_sample(),
                                                            built.eager_sample()))):  # fmt: skip
        try:
            action()
        except SamplerLockedError:
            continue
        _check(False, "lock_discipline", subject, f"{label} did not raise SamplerLockedError")


def check_updates_accepted(sampler: SamplerLike) -> None:
    """COMPLETE, FAIL, PRUNED, RUNNING (intermediate), stepped reports and None metrics
    are accepted."""
    subject = _Subject(sampler)
    built = subject.build(subject.spaces()["log_float"])
    plan = [
        (TrialState.RUNNING, {"loss": 0.7}),
        (TrialState.COMPLETE, {"loss": 0.5}),
        (TrialState.FAIL, None),
        (TrialState.PRUNED, {"loss": 0.9}),
        (TrialState.COMPLETE, {"loss": None}),
        (TrialState.FAIL_RECOVERABLE, None),
    ]
    for state, metrics in plan:
        trial_id, _, _ = built.eager_sample()
        built.unlock(drop=False)
        try:
            built.update_trial(trial_id, metrics, state)
        except Exception as exc:
            call = f"update_trial({trial_id}, {metrics!r}, {state.name})"
            _check(False, "updates_accepted", subject, f"{call} raised {exc!r}")
    trial_id, _, _ = built.eager_sample()  # reported as it runs (a study with a pruner)
    built.unlock(drop=False)
    try:
        for step in (0, 1, 1, 4):
            built.report(trial_id, step, {"loss": 1.0 / (step + 1)})
        built.update_trial(trial_id, {"loss": 0.2}, TrialState.COMPLETE)
    except Exception as exc:
        _check(False, "updates_accepted", subject,
               f"report({trial_id}, step, ...) (intermediate reports) raised {exc!r}")  # fmt: skip
    try:
        built.update_trial(0, {"wrong_name": 1.0}, TrialState.COMPLETE)
    except MetricsError:
        return
    _check(False, "updates_accepted", subject, "a misnamed metric was not refused")


def check_resume(sampler: SamplerLike) -> None:
    """A sampler resumed from JSON round-tripped trials continues the ids with valid configs."""
    subject = _Subject(sampler)
    space = subject.spaces()["nested"]
    first = subject.build(space, seed=1)
    trials = []
    for i in range(6):
        trial_id, config, internal = first.eager_sample()
        first.unlock(drop=False)
        state = TrialState.COMPLETE if i < 5 else TrialState.RUNNING
        metrics = [{"loss": _loss(config)}] if i < 5 else []
        if metrics:
            first.update_trial(trial_id, metrics[0], state)
        trials.append(Trial(trial_id, config, state, metrics, internal))
    records = json.loads(json.dumps([t.to_dict() for t in trials]))
    resumed = subject.build(space, trials=[Trial.from_dict(r) for r in records], seed=1)
    after = _run(resumed, 4)
    ids = [t for t, _ in after]
    _check(ids == [6, 7, 8, 9], "resume", subject,
           f"resumed from trials 0..5 (5 COMPLETE, 5 still RUNNING), the next ids were {ids}; "
           "expected [6, 7, 8, 9]: new ids continue after the largest resumed id (use "
           "new_trial_id(), and pass the trials on to BaseSampler.__init__)")  # fmt: skip
    for trial_id, config in after:
        problem = space_violation(space, config)
        _check(problem is None, "resume", subject, f"trial {trial_id}: {problem}")
    resumed.update_trial(5, {"loss": 0.1}, TrialState.COMPLETE)  # the pending trial finishes


def check_resume_continues(sampler: SamplerLike) -> None:
    """A sampler rebuilt from its own trials proposes none of them again (continues its stream)."""
    subject = _Subject(sampler)
    space = subject.spaces()["log_float"]  # 9 grid points for an exhaustive sampler
    built = subject.build(space, seed=3)
    trials = []
    for _ in range(4):  # as a study stores them: config, result and internal state
        trial_id, config, internal = built.eager_sample()
        built.unlock(drop=False)
        metrics = {m: _loss(config) for m in built.optim_metrics}
        built.update_trial(trial_id, metrics, TrialState.COMPLETE)
        trials.append(Trial(trial_id, config, TrialState.COMPLETE, [metrics], internal))
    records = json.loads(json.dumps([t.to_dict() for t in trials]))
    resumed = subject.build(space, trials=[Trial.from_dict(r) for r in records], seed=3)
    seen = {json.dumps(t.config, sort_keys=True) for t in trials}
    for trial_id, config in _run(resumed, 4):
        _check(
            json.dumps(config, sort_keys=True) not in seen,
            "resume_continues",
            subject,
            f"trial {trial_id} re-proposes {config!r}, which the trials it resumed from "
            "already tried; derive the stream from the seed and the history "
            "(BaseSampler.derived_seed) or fast-forward it",
        )


def check_seed_determinism(sampler: SamplerLike) -> None:
    """The same seed gives the same sequence (skipped if the spec is not deterministic)."""
    subject = _Subject(sampler)
    if not subject.spec.deterministic:
        raise CheckNotApplicable("the spec declares deterministic=False")
    space = subject.spaces()["nested"]
    one = [c for _, c in _run(subject.build(space, seed=7), 10)]
    two = [c for _, c in _run(subject.build(space, seed=7), 10)]
    first = next((i for i, (a, b) in enumerate(zip(one, two)) if a != b), len(one))
    _check(one == two, "seed_determinism", subject,
           f"seed 7 gave different sequences; first difference at trial {first}")  # fmt: skip


def check_exhaustive(sampler: SamplerLike) -> None:
    """An exhaustive sampler covers a finite space once, then stops or cycles over it."""
    subject = _Subject(sampler)
    if not subject.spec.exhaustive:
        raise CheckNotApplicable("the spec does not declare exhaustive=True")
    space = {"a": {"categorical_values": [1, 2, 3]},
             "b": {"value_range": [0, 1], "value_type": "float", "n_bins": 2}}  # fmt: skip
    built = subject.build(space)
    configs = [json.dumps(c, sort_keys=True) for _, c in _run(built, 6)]
    _check(len(set(configs)) == 6, "exhaustive", subject,
           f"the first 6 samples of a 6-point space had duplicates: {configs}")  # fmt: skip
    more = [json.dumps(c, sort_keys=True) for _, c in _run(built, 6)]
    _check(not more or set(more) <= set(configs), "exhaustive", subject,
           f"after exhausting the space it sampled points outside it: {more}")  # fmt: skip


def check_concurrent_distinct(sampler: SamplerLike) -> None:
    """Pending trials on a continuous space are not identical (if declared concurrent),
    on a fresh sampler and after its start-up phase."""
    subject = _Subject(sampler)
    if not subject.spec.concurrent:
        raise CheckNotApplicable("the spec declares concurrent=False")
    # a fresh sampler, then one past its start-up phase (an exhaustive one would have
    # used up the kit's finite space by then: it may repeat)
    for done in (3,) if subject.spec.exhaustive else (3, _n(25, 12)):
        built = subject.build(subject.spaces()["log_float"])
        _run(built, done)
        pending = [json.dumps(c, sort_keys=True) for _, c in _run(built, 4, update=False)]
        _check(len(set(pending)) == len(pending), "concurrent_distinct", subject,
               f"after {done} trials with results, 4 pending trials were not all different: "
               f"{pending}; a model-based backend must see pending trials (a constant liar: "
               "hposampler.samplers.pending.ConstantLiar)")  # fmt: skip


def check_multi_objective(sampler: SamplerLike) -> None:
    """Two metrics are accepted if and only if the spec declares ``multi_objective``."""
    from hposampler.selection import make_sampler

    subject = _Subject(sampler)
    space = subject.spaces()["log_float"]
    if subject.spec.multi_objective:
        built = subject.build(space, metrics=_TWO)
        for trial_id, config in _run(built, 3, update=False):
            built.update_trial(trial_id, {"loss": _loss(config), "score": None},
                               TrialState.COMPLETE)  # fmt: skip
        return
    if not _registered(subject.spec):
        raise CheckNotApplicable(
            "a single-objective sampler is refused two metrics by make_sampler, which "
            "needs a registered name"
        )
    try:
        make_sampler(subject.spec.name, space, optim_metrics=_TWO)
    except MetricsError:
        return
    _check(
        False, "multi_objective", subject, "two metrics were accepted by a single-objective spec"
    )


def check_model_phase(sampler: SamplerLike) -> None:
    """40 trials with results (through a model-based phase that starts late) stay valid."""
    subject = _Subject(sampler)
    space = subject.spaces()["nested"]
    built = subject.build(space, seed=11)
    total = _n(40, 20)
    trials = _run(built, total)
    ids = [t for t, _ in trials]
    _check(ids == list(range(len(ids))), "model_phase", subject, f"ids were {ids}")
    if not subject.spec.exhaustive:
        _check(len(ids) == total, "model_phase", subject, f"stopped after {len(ids)} trials")
    for trial_id, config in trials:
        problem = space_violation(space, config)
        _check(problem is None, "model_phase", subject, f"trial {trial_id}: {problem}")
    if not subject.spec.exhaustive:
        distinct = len({json.dumps(c, sort_keys=True) for _, c in trials})
        _check(distinct >= total * 3 // 4, "model_phase", subject,
               f"only {distinct} distinct configs in {total} trials on a continuous "
               "space")  # fmt: skip


#: Trials of the learning checks, and the last of them that are judged.
_LEARN_TRIALS, _LEARN_JUDGED = 40, 15


def _true_loss(config: Mapping[str, Any]) -> float:
    """A bowl with its bottom inside the space: a strong signal for any learner."""
    return float((config["x"] - 0.23) ** 2 + (config["y"] - 0.71) ** 2)


_BOWL = {
    "x": {"value_range": [0.0, 1.0], "value_type": "float"},
    "y": {"value_range": [0.0, 1.0], "value_type": "float"},
}


def _late_losses(
    subject: _Subject,
    told: Callable[[Mapping[str, Any]], float],
    metrics: Mapping[str, str],
    trials: int = _LEARN_TRIALS,
) -> list[float]:
    """The true losses of the last proposals of a run told ``told(config)`` as its metric."""
    ((metric, direction),) = metrics.items()
    built = subject.build(_BOWL, metrics=metrics, seed=5)
    losses = []
    for _ in range(trials):
        trial_id, config, _ = built.eager_sample()
        built.unlock(drop=False)
        value = told(config)
        built.update_trial(trial_id, {metric: value if direction == "min" else -value},
                           TrialState.COMPLETE)  # fmt: skip
        losses.append(_true_loss(config))
    return losses[-_LEARN_JUDGED:]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _learning_applies(subject: _Subject) -> None:
    if quick_mode():
        raise CheckNotApplicable("quick mode (run the full kit before publishing)")
    if subject.spec.needs_metrics is False:
        raise CheckNotApplicable("the spec declares needs_metrics=False (it ignores results)")
    if subject.spec.exhaustive:
        raise CheckNotApplicable("the spec declares exhaustive=True")


def check_direction(sampler: SamplerLike) -> None:
    """A ``max`` metric is maximised: told the negated loss of a bowl as a ``max`` metric,
    the sampler's late proposals are about as good as when told the loss as ``min``
    (if ``needs_metrics``; a sampler reading every metric as a loss climbs out)."""
    subject = _Subject(sampler)
    _learning_applies(subject)
    minimised = _median(_late_losses(subject, _true_loss, _LOSS))
    maximised = _median(_late_losses(subject, _true_loss, {"score": "max"}))
    _check(
        maximised <= 2 * minimised + 0.01,
        "direction",
        subject,
        f"told the loss of a bowl as a 'min' metric, its last {_LEARN_JUDGED} of "
        f"{_LEARN_TRIALS} proposals have a median loss of {minimised:.4g}; told the "
        f"negated loss as a 'max' metric, {maximised:.4g}. A 'max' metric must be "
        "maximised: read the direction from optim_metrics",
    )


def _decoy_loss(config: Mapping[str, Any]) -> float:
    """Another bowl, its bottom far from :func:`_true_loss`'s: results that mislead."""
    return float((config["x"] - 0.77) ** 2 + (config["y"] - 0.29) ** 2)


#: Trials a population-based sampler gets when its first proposals do not depend on
#: results yet (a first generation of NSGA-II's 50, a swarm).
_LATE_LEARNER_TRIALS = 160

#: Told the true bowl, the late proposals' median loss must be at most this fraction
#: of the median when told the decoy bowl. Measured with the bundled learners at the
#: kit's seed: 0.38 (nevergrad:de) is the largest, most are under 0.1.
_LEARN_RATIO = 0.5


def check_learns_from_results(sampler: SamplerLike) -> None:
    """Results change what is proposed: told a bowl's loss, the late proposals are near its
    bottom; told a decoy bowl elsewhere, they are not (if ``needs_metrics``).

    The same seed in both runs: a sampler that ignores ``update_trial`` proposes the
    same configs twice. A population-based sampler whose first generation does not
    depend on results gets :data:`_LATE_LEARNER_TRIALS` trials instead.
    """
    subject = _Subject(sampler)
    _learning_applies(subject)
    trials = _LEARN_TRIALS
    real = _late_losses(subject, _true_loss, _LOSS, trials)
    decoy = _late_losses(subject, _decoy_loss, _LOSS, trials)
    if real == decoy:  # not a difference yet: maybe a first generation
        trials = _LATE_LEARNER_TRIALS
        real = _late_losses(subject, _true_loss, _LOSS, trials)
        decoy = _late_losses(subject, _decoy_loss, _LOSS, trials)
    _check(
        real != decoy,
        "learns_from_results",
        subject,
        f"it proposed exactly the same {trials} configs whether told the loss of a bowl or "
        "of a different bowl (same seed): results never reach the model. Tell the backend "
        "in _update_trial (and learn resumed results in _resume_trial); a sampler that "
        "ignores results by design declares needs_metrics=False",
    )
    told, misled = _median(real), _median(decoy)
    _check(
        told <= _LEARN_RATIO * misled,
        "learns_from_results",
        subject,
        f"after {trials} trials told a bowl's loss, its last {_LEARN_JUDGED} proposals have a "
        f"median loss of {told:.4g} on that bowl; told a decoy bowl instead, {misled:.4g}: "
        f"results should pull the proposals to the bowl (at most {_LEARN_RATIO:g} times the "
        "decoy's). Check that the values told reach the model with the right sign",
    )


def check_declared_options(sampler: SamplerLike) -> None:
    """Built with every declared option given its declared default (the value a user
    copying ``hposampler list`` or the docs would pass), the sampler still samples
    and learns: an option whose declared type or default disagrees with what the
    factory does with it is caught here, not by the first user who sets it."""
    subject = _Subject(sampler)
    declared = {o.name: o.default for o in subject.spec.options if o.name not in subject.options}
    if not declared:
        raise CheckNotApplicable("the spec declares no options")
    given = _Subject(Configured(subject.spec, {**subject.options, **declared}))
    try:
        built = given.build(subject.spaces()["nested"])
        _run(built, _n(6, 3))
    except (AssertionError, CheckNotApplicable):
        raise
    except Exception as exc:
        _check(False, "declared_options", subject,
               f"built with its declared option defaults {declared!r} it failed: "
               f"{type(exc).__name__}: {exc}. Make each OptionSpec's default and types what "
               "the factory accepts (the default is what a user passing it gives)")  # fmt: skip


#: Every check, in the order ``check_sampler`` runs them.
CHECKS: tuple[Callable[[SamplerLike], None], ...] = (
    check_configs_in_space,
    check_declared_options,
    check_internal_repr_json,
    check_dense_ids_and_drop,
    check_lock_discipline,
    check_updates_accepted,
    check_resume,
    check_resume_continues,
    check_seed_determinism,
    check_exhaustive,
    check_concurrent_distinct,
    check_multi_objective,
    check_model_phase,
    check_learns_from_results,
    check_direction,
)

#: Seconds one call into the sampler under test (build, eager_sample, update_trial, ...)
#: may go without returning before the kit calls it a hang, on a machine of normal
#: speed; :func:`call_limit` scales it by :func:`machine_slowness`. A check as a whole
#: has no time limit: a slow sampler on a slow machine is slow, not broken.
CALL_TIMEOUT = 60.0


#: Seconds :func:`_reference_work` takes on the machine the limit was chosen on.
_REFERENCE_SECONDS = 0.012

_slowness: float | None = None


def _reference_work() -> float:
    start = time.perf_counter()
    total = 0
    for i in range(200_000):
        total += i * i % 7
    return time.perf_counter() - start


def machine_slowness() -> float:
    """How many times slower than the reference machine this one runs now (at least 1).

    Measured once per process (best of 3 runs of a fixed pure-Python workload), so
    a loaded or slow machine gets proportionally longer limits.
    """
    global _slowness
    if _slowness is None:
        best = min(_reference_work() for _ in range(3))
        _slowness = max(1.0, best / _REFERENCE_SECONDS)
    return _slowness


def call_limit(timeout: float | None = None) -> float:
    """The no-progress limit in seconds: ``timeout`` (default :data:`CALL_TIMEOUT`)
    times :func:`machine_slowness`, or ``HPOSAMPLER_KIT_CALL_TIMEOUT`` when set."""
    import os

    given = os.environ.get("HPOSAMPLER_KIT_CALL_TIMEOUT")
    if given:
        return float(given)
    return (CALL_TIMEOUT if timeout is None else timeout) * machine_slowness()


def _limit_source(timeout: float | None) -> str:
    """Where the no-progress limit came from, for the hang message."""
    import os

    given = os.environ.get("HPOSAMPLER_KIT_CALL_TIMEOUT")
    if given:
        return f"the limit for one call set by HPOSAMPLER_KIT_CALL_TIMEOUT={given}"
    base = CALL_TIMEOUT if timeout is None else timeout
    return (
        f"the limit for one call: {base:g} s times this machine's slowness "
        f"{machine_slowness():.1f}; set HPOSAMPLER_KIT_CALL_TIMEOUT to change it"
    )


class CheckHung(AssertionError):
    """A call into the sampler under test made no progress within the limit."""


class _Watch:
    """The call into the sampler in progress (if any), since when, and trials pending."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, float]] = []  # nested calls (a method calling another)
        self.pending = 0

    def enter(self, call: str) -> None:
        with self.lock:
            self.calls.append((call, time.monotonic()))

    def leave(self) -> None:
        with self.lock:
            if self.calls:
                self.calls.pop()

    def current(self) -> tuple[str | None, float]:
        """The outermost call in progress and when it started (``None`` between calls)."""
        with self.lock:
            return self.calls[0] if self.calls else (None, 0.0)


_WATCH: _Watch | None = None
#: Samplers (by label) that hung in this process, and the message: later checks skip.
_HUNG: dict[str, str] = {}

_WATCHED = ("eager_sample", "unlock", "update_trial", "report", "internal_repr", "sync_trials")


def _watched(sampler: BaseSampler) -> BaseSampler:
    """``sampler`` with its contract methods timed by the current watch."""
    for name in _WATCHED:
        method = getattr(sampler, name, None)
        if method is None:
            continue

        def wrapper(*args: Any, _m: Any = method, _n: str = name, **kwargs: Any) -> Any:
            watch = _WATCH
            if watch is None:
                return _m(*args, **kwargs)
            watch.enter(f"{_n}()")
            try:
                result = _m(*args, **kwargs)
            finally:
                watch.leave()
            if _n == "eager_sample":
                watch.pending += 1
            elif _n == "unlock" and (args[:1] == (True,) or kwargs.get("drop")):
                watch.pending -= 1
            elif _n == "update_trial":
                state = args[2] if len(args) > 2 else kwargs.get("state")
                if state is not None and TrialState(state) != TrialState.RUNNING:
                    watch.pending = max(0, watch.pending - 1)
            return result

        try:
            setattr(sampler, name, wrapper)
        except AttributeError:  # __slots__: leave it unwatched
            return sampler
    return sampler


def run_check(
    check: Callable[[SamplerLike], None],
    sampler: SamplerLike | Configured,
    timeout: float | None = None,
) -> None:
    """Run one check, watching for a call into the sampler that makes no progress.

    A check as a whole has no time limit. What is limited is each call into the
    sampler (building it, ``eager_sample``, ``update_trial``, ...): one that has
    not returned after :func:`call_limit` seconds is a hang. After a hang, the
    other checks of that sampler in this process are not run (they would hang
    too), each saying why.

    Parameters
    ----------
    timeout : float, optional
        The per-call limit on a machine of normal speed (default
        :data:`CALL_TIMEOUT`); scaled by :func:`machine_slowness`.

    Raises
    ------
    AssertionError
        When the check fails; :class:`CheckHung` (an ``AssertionError``) when a
        call makes no progress within the limit.
    CheckNotApplicable
        When the sampler's declared capabilities exclude the check, or an earlier
        check of the same sampler hung.
    """
    global _WATCH
    label = _Subject(sampler).label
    name = check.__name__.removeprefix("check_")
    if label in _HUNG:
        raise CheckNotApplicable(f"not run: {_HUNG[label]}")
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            check(sampler)  # type: ignore[arg-type]
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)
        else:
            outcome.append(None)

    limit = call_limit(timeout)
    watch = _Watch()
    _WATCH = watch
    thread = threading.Thread(target=target, name=f"kit-{check.__name__}", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
            call, since = watch.current()
            if thread.is_alive() and call is not None and time.monotonic() - since > limit:
                if call == "eager_sample()" and watch.pending > 0:
                    hint = (
                        f"it was asked for a trial while {watch.pending} had no result yet; "
                        "a backend that cannot have several trials pending declares "
                        "max_pending=1 in its SamplerSpec"
                    )
                else:
                    hint = "does the backend block, e.g. waiting for a result that never comes?"
                _HUNG[label] = f"[{name}] {call} hung"
                raise CheckHung(
                    f"[{name}] sampler {label!r}: {call} made no progress for {limit:.0f} s "
                    f"({_limit_source(timeout)}); {hint}"
                )
    finally:
        _WATCH = None
    error = outcome[0]
    if error is None or isinstance(error, (AssertionError, CheckNotApplicable)):
        if error is not None:
            raise error
        return
    hint = ""
    if isinstance(error, TypeError) and "JSON serializable" in str(error):
        hint = (
            "; trials are stored as JSON, so internal_repr() must return JSON values "
            "(numbers, strings, lists, dicts): convert arrays with .tolist()"
        )
    raise AssertionError(
        f"[{name}] sampler {label!r}: raised {type(error).__name__}: {error}{hint}"
    ) from error


def check_sampler(
    sampler: SamplerLike,
    search_space: Mapping[str, Any] | None = None,
    optim_metrics: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    quick: bool = False,
) -> list[str]:
    """Run every check against ``sampler``; raise ``AssertionError`` on the first failure.

    Parameters
    ----------
    sampler : str or SamplerSpec or callable
        A registered name, a spec, or a factory.
    search_space : mapping, optional
        Also check that configs sampled from this space stay inside it.
    optim_metrics : mapping, optional
        Metrics for that extra check (default ``{"loss": "min"}``).
    options : mapping, optional
        Backend options passed whenever the sampler is built.
    timeout : float, optional
        Per-call no-progress limit on a machine of normal speed (default
        :data:`CALL_TIMEOUT`, scaled by :func:`machine_slowness`); checks as a
        whole have no time limit.
    quick : bool
        Quick mode, for an edit loop: about half the trials per check, and the
        learning checks (``learns_from_results``, ``direction``) skipped. The full
        kit (the default) is what CI and a release should run. The environment
        variable ``HPOSAMPLER_KIT_QUICK=1`` turns it on everywhere (pytest too).

    Returns
    -------
    list of str
        The checks skipped, with why (``"seed_determinism: the spec declares ..."``).
    """
    subject_like: SamplerLike | Configured = Configured(sampler, options) if options else sampler
    skipped = []
    with _quick(quick):
        for check in CHECKS:
            try:
                run_check(check, subject_like, timeout)
            except CheckNotApplicable as exc:
                skipped.append(f"{check.__name__.removeprefix('check_')}: {exc}")
    if search_space is not None:
        subject = _Subject(subject_like)
        metrics = dict(normalize_optim_metrics(optim_metrics) or _LOSS)
        built = subject.build(search_space, metrics=metrics)
        for trial_id, config in _run(built, 10):
            problem = space_violation(search_space, config)
            _check(problem is None, "configs_in_space", subject,
                   f"given space, trial {trial_id}: {problem}")  # fmt: skip
    return skipped


def parametrize_with_checks(
    samplers: Iterable[SamplerLike],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    timeout: float | None = None,
    quick: bool = False,
) -> Any:
    """A ``pytest.mark.parametrize`` over (sampler, check) with ids like ``grid-resume``.

    Each call into the sampler has a no-progress limit (:func:`run_check`); a
    check the sampler's capabilities exclude, or one after a hang of the same
    sampler, is reported as skipped with the reason, not as passed.

    Parameters
    ----------
    samplers : iterable
        Registered names, specs or factories.
    options : mapping, optional
        Backend options per sampler name (``{"skopt:gp": {"n_initial_points": 5}}``).
    timeout : float, optional
        Per-call no-progress limit (see :func:`run_check`).
    quick : bool
        Quick mode (see :func:`check_sampler`); ``HPOSAMPLER_KIT_QUICK=1 pytest``
        turns it on without editing the test.

    Examples
    --------
    >>> @parametrize_with_checks(["grid", "tpe"])  # doctest: +SKIP
    ... def test_conformance(sampler, check):
    ...     check(sampler)
    """
    import pytest

    params, ids = [], []
    for sampler in samplers:
        label = sampler if isinstance(sampler, str) else _Subject(sampler).label
        given = (options or {}).get(label)
        subject = Configured(sampler, given) if given else sampler
        for check in CHECKS:
            params.append((subject, _as_test(check, timeout, quick)))
            ids.append(f"{label}-{check.__name__.removeprefix('check_')}")
    return pytest.mark.parametrize(("sampler", "check"), params, ids=ids)


def _as_test(
    check: Callable[[SamplerLike], None], timeout: float | None, quick: bool = False
) -> Callable[[Any], None]:
    """A check as a test step: watched for hangs, skipped (with why) where it does not apply."""

    @functools.wraps(check)
    def run(sampler: Any) -> None:
        import pytest

        with _quick(quick):
            try:
                run_check(check, sampler, timeout)
            except CheckNotApplicable as exc:
                pytest.skip(f"{check.__name__.removeprefix('check_')}: {exc}")

    return run
