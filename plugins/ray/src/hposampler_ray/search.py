"""``HposamplerSearch``: any installed hposampler sampler as a Ray Tune ``Searcher``.

Tune calls ``suggest`` for a new trial, ``on_trial_result`` for each reported
result and ``on_trial_complete`` when a trial ends; the adapter maps those onto
the sampler contract (``eager_sample`` / ``report`` / ``update_trial``):

* a trial that ends normally is COMPLETE with its last result;
* a trial a scheduler (ASHA, Hyperband, ...) or a stopper ends early is PRUNED
  with its last result. Tune hands the searcher every result but the one that
  stopped a trial, so a final result newer than the last one seen means the
  trial was stopped; it was stopped *early* when another trial has already
  reported a later ``training_iteration`` (a trial stopped at the furthest
  iteration reached, ASHA's ``max_t``, is COMPLETE);
* an errored trial (or one removed before it reported) is FAIL.

Tune's ``num_samples`` reaches budget-aware backends (nevergrad) as their budget.

``save`` / ``restore`` write and read JSON (the trials with their internal
state, the Tune trial ids); a restored searcher rebuilds its backend from them
and continues. Pickling (Tune pickles its searcher with the experiment) keeps the
same JSON-able state and rebuilds the backend on load.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ray.tune.search import Searcher
from ray.tune.search.sample import (
    Categorical,
    Domain,
    Float,
    Function,
    Integer,
    LogUniform,
    Quantized,
    Uniform,
)

from hposampler import (
    MetricsError,
    SearchSpaceError,
    Trial,
    TrialState,
    get_sampler_spec,
    make_sampler,
)
from hposampler.errors import StorageError, StudyError
from hposampler.study.arguments import fraction

__all__ = ["HposamplerSearch", "space_from_tune"]

_FORMAT = "hposampler-search/1"


def space_from_tune(param_space: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """An hposampler search space from Tune's ``param_space`` (nested dicts kept).

    ``uniform``/``loguniform``/``quniform`` become float ranges (``log``,
    ``n_bins`` on the multiples of ``q``), ``randint``/``lograndint``/``qrandint``
    int ranges (Tune's exclusive upper bounds made inclusive), ``choice`` a
    categorical; other values are constants.

    Raises
    ------
    SearchSpaceError
        For ``grid_search``, ``sample_from``, ``randn`` and ``qloguniform`` /
        ``qlograndint``, naming the key.
    """
    out: dict[str, Any] = {}
    for key, value in param_space.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and "grid_search" in value:
            raise SearchSpaceError(
                path,
                "tune.grid_search is expanded by Tune itself, not by a searcher; use "
                "tune.choice, or the 'grid' sampler with n_bins",
            )
        if isinstance(value, Mapping):
            out[key] = space_from_tune(value, path)
        elif isinstance(value, Domain):
            out[key] = _domain(value, path)
        else:
            out[key] = value
    return out


def _domain(domain: Domain, path: str) -> dict[str, Any]:
    sampler = domain.get_sampler()  # type: ignore[no-untyped-call]
    q = None
    if isinstance(sampler, Quantized):
        q, sampler = sampler.q, sampler.get_sampler()  # type: ignore[no-untyped-call]
    if isinstance(domain, Categorical):
        return {"categorical_values": list(domain.categories)}
    if isinstance(domain, Function):
        raise SearchSpaceError(path, "tune.sample_from runs user code per trial; a searcher "
                               "cannot model it: give a range or tune.choice")  # fmt: skip
    if not isinstance(sampler, (Uniform, LogUniform)):
        kind = type(sampler).__name__
        raise SearchSpaceError(path, f"Tune sampler {kind} (e.g. tune.randn) has no "
                               "hposampler form: use uniform, loguniform or choice")  # fmt: skip
    log = isinstance(sampler, LogUniform)
    if q is not None and log:
        raise SearchSpaceError(path, "quantized log ranges (qloguniform, qlograndint) have no "
                               "hposampler form: drop q, or use tune.choice")  # fmt: skip
    if isinstance(domain, Integer):
        low, high = int(domain.lower), int(domain.upper)
        if q is None or q == 1:  # randint / lograndint / qrandint(q=1): upper exclusive
            entry: dict[str, Any] = {"value_range": [low, high - 1], "value_type": "int"}
        else:  # qrandint: multiples of q, upper inclusive
            first = math.ceil(low / q) * q
            count = (high - first) // q
            entry = {"value_range": [first, first + count * int(q)], "value_type": "int",
                     "n_bins": count + 1}  # fmt: skip
    elif isinstance(domain, Float):
        low_f, high_f = float(domain.lower), float(domain.upper)
        entry = {"value_range": [low_f, high_f], "value_type": "float"}
        if q is not None:
            first_f = math.ceil(low_f / q - 1e-9) * q
            count = math.floor((high_f - first_f) / q + 1e-9)
            entry = {"value_range": [first_f, first_f + count * q], "value_type": "float",
                     "n_bins": count + 1}  # fmt: skip
    else:  # pragma: no cover - Tune has no other domain kinds
        raise SearchSpaceError(path, f"unsupported Tune domain {domain!r}")
    if log:
        entry["log"] = True
    return entry


class HposamplerSearch(Searcher):
    """An hposampler sampler (bundled or a third-party plugin) as a Ray Tune searcher.

    Parameters
    ----------
    name : str
        Any installed sampler name or alias (``"nevergrad:ngopt"``, ``"tpe"``, ...).
    space : mapping, optional
        An hposampler/ablator-style search space; without it, Tune's
        ``param_space`` is converted (:func:`space_from_tune`).
    metric, mode : str, optional
        The result key to optimise and ``"min"`` / ``"max"``; else taken from
        ``TuneConfig`` (which Tune passes to a searcher only with a ``param_space``).
    seed : int, optional
        The backend's seed.
    warm_start : list of str, optional
        Earlier hposampler studies, each ``FILE.db:NAME`` (or ``URL:NAME``), whose
        COMPLETE trials the backend learns before its first suggestion, as
        ``Study.create(..., warm_start=...)`` does; they must optimise this
        search's metric(s) in the same mode(s).
    max_failure_rate : float, optional
        Stop the tuner with an error (``Tuner.fit`` raises, the script exits
        non-zero) once more than this share of its finished trials errored, as
        the Hydra sweeper's option does; ``0.0`` stops at the first error. Without
        it, a tuner in which *every* trial errored ends with that error once its
        ``num_samples`` trials finished (when Tune passed ``num_samples``: with a
        ``param_space``), as ``hposampler run`` exits 3 then.
    **options
        The backend's options, validated as :func:`hposampler.make_sampler` does.

    Raises
    ------
    StudyError
        From ``on_trial_complete`` (Tune raises it from ``Tuner.fit``), when the
        failures pass ``max_failure_rate``, or every trial errored.
    UnknownSamplerError
        For a name no installed plugin provides (with close matches).
    SamplerOptionsError
        For an unknown option or a value of the wrong type.
    """

    def __init__(
        self,
        name: str,
        *,
        space: Mapping[str, Any] | None = None,
        metric: str | list[str] | None = None,
        mode: str | list[str] | None = None,
        seed: int | None = None,
        warm_start: list[str] | tuple[str, ...] = (),
        max_failure_rate: float | None = None,
        **options: Any,
    ) -> None:
        _check_directions(metric, mode)
        self._max_failure_rate = fraction(max_failure_rate, "max_failure_rate")
        if isinstance(warm_start, str) or not all(isinstance(w, str) for w in warm_start):
            raise StudyError(
                'warm_start must be a list of studies, e.g. ["earlier.db:study"], got '
                f"{warm_start!r:.80}"
            )
        self._warm_start = list(warm_start)
        if space is not None and not isinstance(space, Mapping):
            raise SearchSpaceError(
                "space",
                "expected a dict of parameter names to hposampler spaces, got "
                f"{type(space).__name__} {space!r:.80}",
            )
        super().__init__(metric=metric, mode=mode)  # type: ignore[arg-type]  # lists work
        self.name = name
        self._spec = get_sampler_spec(name)
        self._options = self._spec.check_options(options)
        self._seed = seed
        self._space: dict[str, Any] | None = None
        if space is not None:  # Tune's domains (tune.uniform, ...) are converted as Ray's own
            self._space = space_from_tune(space) if _has_domains(space) else dict(space)
        self._max_concurrent: int | None = None
        self._budget: int | None = None
        self._furthest = 0  # the largest training_iteration any trial reported
        self._reset_trials()
        if self._space is not None and metric and mode:
            self._build()

    def _reset_trials(self) -> None:
        self._backend: Any = None
        self._ids: dict[str, int] = {}  # Tune trial id -> backend trial id
        self._seen: dict[str, int] = {}  # Tune trial id -> last training_iteration seen
        self._trials: dict[int, Trial] = {}  # backend id -> the trial as stored

    # -- Tune's searcher interface ------------------------------------------------

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        """Take metric, mode and (without ``space``) the search space from ``TuneConfig``."""
        if self._backend is not None:
            return False
        if self._space is None:
            self._space = space_from_tune(config)
        samples = spec.get("num_samples")
        if isinstance(samples, int) and samples > 0:
            self._budget = samples
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        _check_directions(self._metric, self._mode)
        self._build()
        return True

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        """Keep at most ``max_concurrent`` trials pending (and the backend's own limit)."""
        self._max_concurrent = max_concurrent
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        """The backend's next config; ``None`` while the pending limit is reached,
        ``Searcher.FINISHED`` once an exhaustive backend (a grid with
        ``exhausted="stop"``) has nothing left."""
        if self._backend is None:
            self._build()
        limits = [n for n in (self._max_concurrent, self._spec.max_pending) if n]
        pending = sum(t.state.is_pending for t in self._trials.values())
        if limits and pending >= min(limits):
            return None
        try:
            backend_id, config, internal = self._backend.eager_sample()
        except StopIteration:
            return Searcher.FINISHED  # type: ignore[return-value]  # Tune's sentinel string
        self._backend.unlock(drop=False)
        self._ids[trial_id] = backend_id
        self._trials[backend_id] = Trial(backend_id, config, TrialState.RUNNING, [], internal)
        return dict(config)

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """An intermediate result: reported to the backend at its ``training_iteration``."""
        backend_id = self._ids.get(trial_id)
        metrics = self._read(result)
        if backend_id is None or metrics is None:
            return
        step = int(result.get("training_iteration", self._seen.get(trial_id, 0) + 1))
        self._seen[trial_id] = step
        self._furthest = max(self._furthest, step)
        self._backend.report(backend_id, step, metrics)
        trial = self._trials[backend_id]
        self._trials[backend_id] = trial.evolve(metrics=[*trial.metrics, metrics])

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """The trial's end: COMPLETE, PRUNED (stopped early by a scheduler) or FAIL."""
        backend_id = self._ids.get(trial_id)
        if backend_id is None:
            return
        metrics = None if error or not result else self._read(result)
        if metrics is None or result is None:
            state = TrialState.FAIL
        else:
            raw = result.get("training_iteration")
            step = None if raw is None else int(raw)
            stopped = step is not None and step > self._seen.get(trial_id, 0)
            early = stopped and step is not None and step < self._furthest
            state = TrialState.PRUNED if early else TrialState.COMPLETE
            self._furthest = max(self._furthest, step or 0)
        self._backend.update_trial(backend_id, metrics, state)
        trial = self._trials[backend_id]
        history = list(trial.metrics)
        if metrics is not None and history[-1:] != [metrics]:  # the last result, once
            history.append(metrics)
        internal = self._backend.internal_repr(backend_id)
        self._trials[backend_id] = trial.evolve(state=state, metrics=history, internal=internal)
        self._seen.pop(trial_id, None)
        if state == TrialState.FAIL:
            self._raise_on_failures()

    def _raise_on_failures(self) -> None:
        """Stop the tuner (Tune raises our error from ``fit``) past ``max_failure_rate``,
        or once every one of ``num_samples`` trials errored."""
        finished = [t for t in self._trials.values() if not t.state.is_pending]
        failed = sum(t.state == TrialState.FAIL for t in finished)
        where = "the trials' error.txt files in the Tune experiment folder say why"
        rate = self._max_failure_rate
        if rate is not None and failed / len(finished) > rate:
            raise StudyError(
                f"HposamplerSearch: {failed} of {len(finished)} finished trials errored, more "
                f"than max_failure_rate={rate}; {where}"
            )
        if self._budget is not None and failed == len(finished) >= self._budget:
            raise StudyError(
                f"HposamplerSearch: every trial of the tuner errored ({failed}); {where}"
            )

    def add_evaluated_point(
        self,
        parameters: dict[str, Any],
        value: float,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        """A config evaluated outside this search: the backend learns it like its own."""
        if self._backend is None:
            self._build()
        state = TrialState.FAIL if error else TrialState.PRUNED if pruned else TrialState.COMPLETE
        names = list(self._optim())
        history = [{names[0]: _number(v)} for v in intermediate_values or []]
        if not error:
            values = value if isinstance(value, (list, tuple)) else [value]
            history.append({n: _number(v) for n, v in zip(names, values)})
        trial = Trial(self._backend.new_trial_id(), dict(parameters), state, history)
        self._backend.sync_trials([trial])
        self._trials[trial.trial_id] = trial

    # -- state: JSON only ---------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """The searcher's state as JSON-able data (what :meth:`save` writes)."""
        return {
            "format": _FORMAT,
            "name": self.name,
            "seed": self._seed,
            "metric": self._metric,
            "mode": self._mode,
            "space": self._space,
            "ids": dict(self._ids),
            "seen": dict(self._seen),
            "furthest": self._furthest,
            "budget": self._budget,
            "warm_start": list(self._warm_start),
            "trials": [t.to_dict() for t in sorted(self._trials.values(), key=_by_id)],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`get_state`'s data (validated); the backend is rebuilt.

        Raises
        ------
        StorageError
            For data that is not a searcher state, naming what is wrong.
        """
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise StorageError(f"not an HposamplerSearch state (expected format {_FORMAT!r})")
        if state.get("name") not in (self.name, None):
            spec = get_sampler_spec(str(state["name"]))
            if spec.name != self._spec.name:
                raise StorageError(
                    f"the state is of sampler {state['name']!r}, this searcher is {self.name!r}"
                )
        for key, kind in (("ids", dict), ("seen", dict), ("trials", list)):
            if not isinstance(state.get(key), kind):
                raise StorageError(f"searcher state: {key!r} must be a {kind.__name__}")
        self._reset_trials()
        self._seed = state.get("seed", self._seed)
        self._metric = self._metric or state.get("metric")
        self._mode = self._mode or state.get("mode")
        self._space = self._space if self._space is not None else state.get("space")
        trials = [Trial.from_dict(t) for t in state["trials"]]
        self._trials = {t.trial_id: t for t in trials}
        self._ids = {str(k): int(v) for k, v in state["ids"].items()}
        self._seen = {str(k): int(v) for k, v in state["seen"].items()}
        self._furthest = int(state.get("furthest") or 0)
        self._budget = state.get("budget") if isinstance(state.get("budget"), int) else None
        warm = state.get("warm_start", [])
        if not isinstance(warm, list) or not all(isinstance(w, str) for w in warm):
            raise StorageError("searcher state: 'warm_start' must be a list of study names")
        self._warm_start = self._warm_start or warm
        if self._space is not None and self._metric and self._mode:
            self._build()

    def save(self, checkpoint_path: str) -> None:
        """Write :meth:`get_state` as JSON to ``checkpoint_path``."""
        Path(checkpoint_path).write_text(json.dumps(self.get_state()))

    def restore(self, checkpoint_path: str) -> None:
        """Continue from a file :meth:`save` wrote.

        Raises
        ------
        StorageError
            For a file that is not valid JSON or not a searcher state.
        """
        try:
            state = json.loads(Path(checkpoint_path).read_text())
        except (OSError, ValueError) as exc:
            raise StorageError(f"cannot read searcher state {checkpoint_path}: {exc}") from None
        self.set_state(state)

    def __getstate__(self) -> dict[str, Any]:
        return {"state": self.get_state(), "options": self._options,
                "max_concurrent": self._max_concurrent,
                "max_failure_rate": self._max_failure_rate}  # fmt: skip

    def __setstate__(self, data: dict[str, Any]) -> None:
        state = data["state"]
        Searcher.__init__(self, metric=state["metric"], mode=state["mode"])
        self.name = state["name"]
        self._spec = get_sampler_spec(self.name)
        self._options = data["options"]
        self._seed = state["seed"]
        self._space = state["space"]
        self._max_concurrent = data["max_concurrent"]
        self._max_failure_rate = data.get("max_failure_rate")
        self._budget, self._furthest = None, 0
        self._warm_start = []
        self.set_state(state)

    # -- the backend --------------------------------------------------------------

    def _optim(self) -> dict[str, str]:
        """The backend's metrics and directions, from ``metric`` and ``mode``."""
        return dict(zip(_names(self._metric), _names(self._mode)))

    def _read(self, result: Mapping[str, Any]) -> dict[str, float | None] | None:
        """The optimised metrics of a Tune result; ``None`` when one is missing."""
        names = list(self._optim())
        if not names or any(n not in result for n in names):
            return None
        return {n: _number(result[n]) for n in names}

    def _build(self) -> None:
        if self._space is None:
            raise SearchSpaceError(
                "space",
                "HposamplerSearch has no search space: pass space=... or a param_space "
                "to the Tuner",
            )
        if not self._metric or not self._mode:
            raise MetricsError(
                "HposamplerSearch needs metric= and mode='min'|'max': give them to it, or to "
                "TuneConfig together with a param_space (Tune passes them on only then)"
            )
        trials: list[Trial] = sorted(self._trials.values(), key=_by_id)
        if self._warm_start:
            from hposampler.space.tree import compile_space
            from hposampler.study.warmstart import warm_trials

            tree = compile_space(self._space)
            warm = warm_trials(None, self._warm_start, tree, self._optim()).trials
            trials = [*warm, *trials]
        self._backend = make_sampler(
            self.name,
            self._space,
            optim_metrics=self._optim(),
            trials=trials,
            seed=self._seed,
            budget=self._budget,
            concurrency=self._max_concurrent,
            **self._options,
        )


def _names(value: Any) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _check_directions(metric: Any, mode: Any) -> None:
    """``metric`` and ``mode``: one name and ``"min"``/``"max"``, or two lists of one length.

    Raises
    ------
    MetricsError
        Naming what does not match.
    """
    modes = _names(mode) if isinstance(mode, (str, list, tuple, type(None))) else [mode]
    bad = [m for m in modes if m not in ("min", "max")]
    if bad:
        raise MetricsError(f"mode must be 'min' or 'max' (or a list of them), got {mode!r}")
    if metric is not None and mode is not None and len(_names(metric)) != len(modes):
        raise MetricsError(
            f"metric {metric!r} and mode {mode!r} differ in length: give one mode per metric"
        )


def _has_domains(space: Mapping[str, Any]) -> bool:
    """Whether a space holds Tune's domains (``tune.uniform(...)``) anywhere."""
    return any(
        isinstance(v, Domain) or (isinstance(v, Mapping) and _has_domains(v))
        for v in space.values()
    )


def _by_id(trial: Trial) -> int:
    return trial.trial_id


def _number(value: Any) -> float | None:
    """A reported metric as a float (``None`` for NaN or a non-number Tune passes on)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
