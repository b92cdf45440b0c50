"""The conformance kit: an executable definition of a correct hposampler sampler.

>>> from hposampler.testing import check_sampler
>>> check_sampler("grid")          # every check against a registered sampler

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

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import MetricsError
from ..sampler import BaseSampler, normalize_optim_metrics
from ..selection import get_sampler_spec
from ..space import parse_search_space
from ..spec import SamplerSpec
from ..tree import compile_space
from ..trial import Trial, TrialState

__all__ = [
    "CHECKS",
    "SPACES",
    "SamplerLike",
    "check_sampler",
    "parametrize_with_checks",
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
_TWO = {"loss": "min", "score": "max"}


class _Subject:
    """A sampler under test: how to build it and what it declares."""

    def __init__(self, sampler: SamplerLike) -> None:
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
        from ..selection import make_sampler

        metrics = dict(_LOSS if metrics is None else metrics)
        if _registered(self.spec):  # through make_sampler: options and capabilities checked
            return make_sampler(
                self.spec.name, space, optim_metrics=metrics, trials=trials, seed=seed
            )
        sampler = self.spec.factory(
            parse_search_space(space),
            optim_metrics=normalize_optim_metrics(metrics),
            trials=list(trials or []),
            seed=seed,
        )
        _check(isinstance(sampler, BaseSampler), "build", self, f"factory returned {sampler!r}")
        return sampler

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
    <hposampler.tree.SpaceTree.violation>`), so anything ``parse_search_space``
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
        for trial_id, config in _run(subject.build(space), 12):
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
    from ..errors import SamplerLockedError

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
    """COMPLETE, FAIL, PRUNED, RUNNING (intermediate) and None metrics are accepted."""
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
    _check(ids == [6, 7, 8, 9], "resume", subject, f"ids after resuming 0..5 were {ids}")
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
        return
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
        return
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
    """Pending trials on a continuous space are not identical (if declared concurrent)."""
    subject = _Subject(sampler)
    if not subject.spec.concurrent:
        return
    built = subject.build(subject.spaces()["log_float"])
    _run(built, 3)
    pending = [json.dumps(c, sort_keys=True) for _, c in _run(built, 4, update=False)]
    _check(len(set(pending)) == len(pending), "concurrent_distinct", subject,
           f"4 pending trials were not all different: {pending}")  # fmt: skip


def check_multi_objective(sampler: SamplerLike) -> None:
    """Two metrics are accepted if and only if the spec declares ``multi_objective``."""
    from ..selection import make_sampler

    subject = _Subject(sampler)
    space = subject.spaces()["log_float"]
    if subject.spec.multi_objective:
        built = subject.build(space, metrics=_TWO)
        for trial_id, config in _run(built, 3, update=False):
            built.update_trial(trial_id, {"loss": _loss(config), "score": None},
                               TrialState.COMPLETE)  # fmt: skip
        return
    if not _registered(subject.spec):
        return  # the refusal happens in make_sampler, which needs a registered name
    try:
        make_sampler(subject.spec.name, space, optim_metrics=_TWO)
    except MetricsError:
        return
    _check(
        False, "multi_objective", subject, "two metrics were accepted by a single-objective spec"
    )


#: Every check, in the order ``check_sampler`` runs them.
CHECKS: tuple[Callable[[SamplerLike], None], ...] = (
    check_configs_in_space,
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
)


def check_sampler(
    sampler: SamplerLike,
    search_space: Mapping[str, Any] | None = None,
    optim_metrics: Mapping[str, Any] | None = None,
) -> None:
    """Run every check against ``sampler``; raise ``AssertionError`` on the first failure.

    Parameters
    ----------
    sampler : str or SamplerSpec or callable
        A registered name, a spec, or a factory.
    search_space : mapping, optional
        Also check that configs sampled from this space stay inside it.
    optim_metrics : mapping, optional
        Metrics for that extra check (default ``{"loss": "min"}``).
    """
    for check in CHECKS:
        check(sampler)
    if search_space is not None:
        subject = _Subject(sampler)
        metrics = dict(normalize_optim_metrics(optim_metrics) or _LOSS)
        built = subject.build(search_space, metrics=metrics)
        for trial_id, config in _run(built, 10):
            problem = space_violation(search_space, config)
            _check(problem is None, "configs_in_space", subject,
                   f"given space, trial {trial_id}: {problem}")  # fmt: skip


def parametrize_with_checks(samplers: Iterable[SamplerLike]) -> Any:
    """A ``pytest.mark.parametrize`` over (sampler, check) with ids like ``grid-resume``.

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
        for check in CHECKS:
            params.append((sampler, check))
            ids.append(f"{label}-{check.__name__.removeprefix('check_')}")
    return pytest.mark.parametrize(("sampler", "check"), params, ids=ids)
