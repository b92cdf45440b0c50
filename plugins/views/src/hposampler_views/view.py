"""``to_optuna(study)``: an in-memory Optuna study holding a copy of an hposampler study.

Whatever sampler ran it, a study copied this way works with everything Optuna
offers for reading a study: ``optuna.visualization`` (and its matplotlib twin),
``optuna.importance`` and ``trials_dataframe``. The copy is a snapshot; call
:func:`to_optuna` again for trials stored later.

How the copy is made, trial by trial (in id order, so ``number == trial id``):

======================  ===============================================================
hposampler              Optuna
======================  ===============================================================
COMPLETE                COMPLETE, ``values`` in the study's metric order (a COMPLETE trial
                        with a missing or non-finite metric becomes FAIL: Optuna needs
                        every value)
PRUNED, PRUNED_*        PRUNED
FAIL                    FAIL (``fail_reason`` system attribute: the error's last line)
FAIL_RECOVERABLE        WAITING (it runs again)
RUNNING, WAITING        RUNNING, WAITING
config                  ``params`` by dotted key (``optimizer.lr``); a trial of a
                        ``subspaces`` space has the parameters of its branch only
space                   ``distributions``: float ranges ``FloatDistribution`` (``log``
                        kept; ``n_bins`` grids too), int ranges ``IntDistribution``,
                        categoricals ``CategoricalDistribution`` (values that are not
                        str/int/float/bool/None as their JSON text)
reports                 ``intermediate_values``: step -> the first metric
started/finished        ``datetime_start`` / ``datetime_complete``
extras, user attrs      ``user_attrs``; hposampler's own details (state, attempts,
                        worker) as ``system_attrs`` named ``hposampler:*``
constraints             the ``constraints`` system attribute (Optuna's own)
======================  ===============================================================
"""

from __future__ import annotations

import datetime
import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaState

from hposampler.errors import StudyError
from hposampler.samplers.trial import TrialState
from hposampler.space.tree import (
    CategoricalParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    compile_space,
    config_key,
)
from hposampler.storage import TrialRecord

if TYPE_CHECKING:
    from hposampler import Study

__all__ = ["EVALUATORS", "distributions_of", "importances", "to_optuna"]

_quieted: list[bool] = []  # once: a user who sets INFO afterwards keeps it


def quiet_optuna() -> None:
    """Copying trials into a view would log each at INFO; drop Optuna's default to WARNING."""
    if not _quieted:
        _quieted.append(True)
        if optuna.logging.get_verbosity() == optuna.logging.INFO:
            optuna.logging.set_verbosity(optuna.logging.WARNING)


_PRIMITIVE = (type(None), bool, int, float, str)

_STATES = {
    TrialState.COMPLETE: OptunaState.COMPLETE,
    TrialState.PRUNED: OptunaState.PRUNED,
    TrialState.PRUNED_INVALID: OptunaState.PRUNED,
    TrialState.PRUNED_DUPLICATE: OptunaState.PRUNED,
    TrialState.PRUNED_POOR_PERFORMANCE: OptunaState.PRUNED,
    TrialState.FAIL: OptunaState.FAIL,
    TrialState.FAIL_RECOVERABLE: OptunaState.WAITING,
    TrialState.RUNNING: OptunaState.RUNNING,
    TrialState.WAITING: OptunaState.WAITING,
}


def _choice_value(value: Any) -> Any:
    return value if isinstance(value, _PRIMITIVE) else json.dumps(value, sort_keys=True)


def distributions_of(search_space: Mapping[str, Any]) -> dict[str, BaseDistribution]:
    """Optuna distributions of a search space's parameters, by dotted config key.

    Parameters that branches of a ``subspaces`` node share by key are merged: the
    union of their ranges (log only if every one is log), or of their choices.
    """
    tree = compile_space(search_space)
    grouped: dict[str, list[Any]] = {}
    for name, param in tree.params.items():
        if not isinstance(param, ChoiceParam):
            grouped.setdefault(config_key(name), []).append(param)
    return {key: _merged(params) for key, params in grouped.items()}


def _merged(params: list[Any]) -> BaseDistribution:
    if all(isinstance(p, FloatParam) for p in params):
        return FloatDistribution(
            min(p.low for p in params),
            max(p.high for p in params),
            log=all(p.log for p in params),
        )
    if all(isinstance(p, IntParam) for p in params):
        return IntDistribution(
            min(p.low for p in params), max(p.high for p in params), log=all(p.log for p in params)
        )
    choices: list[Any] = []
    for param in params:
        values = param.choices if isinstance(param, CategoricalParam) else param.grid() or ()
        for value in values:
            shown = _choice_value(value)
            if not any(_same(shown, c) for c in choices):
                choices.append(shown)
        if isinstance(param, (FloatParam, IntParam)) and param.grid() is None:
            choices.append(f"{param.low}..{param.high}")  # a range beside categoricals
    return CategoricalDistribution(choices)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _params(
    tree: Any, dists: Mapping[str, BaseDistribution], record: TrialRecord
) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
    try:
        encoded = tree.encode(record.config)
    except Exception:
        return {}, {}
    params: dict[str, Any] = {}
    used: dict[str, BaseDistribution] = {}
    for name, value in encoded.items():
        if isinstance(tree.params[name], ChoiceParam):
            continue
        key = config_key(name)
        dist = dists[key]
        if isinstance(dist, CategoricalDistribution):
            value = _choice_value(value)
        elif isinstance(dist, FloatDistribution):
            value = float(value)
        params[key], used[key] = value, dist
    return params, used


def _when(stamp: float | None) -> datetime.datetime | None:
    if stamp is None:
        return None
    try:
        return datetime.datetime.fromtimestamp(stamp)
    except (ValueError, OverflowError, OSError):  # outside the dates this machine shows
        return None


def _frozen(
    record: TrialRecord,
    metrics: list[str],
    tree: Any,
    dists: Mapping[str, BaseDistribution],
    constraints: Sequence[str] = (),
) -> FrozenTrial:
    state = _STATES[record.state]
    params, used = _params(tree, dists, record)
    system: dict[str, Any] = {
        "hposampler:state": record.state.name,
        "hposampler:attempts": record.attempts,
    }
    if record.worker:
        system["hposampler:worker"] = record.worker
    values: list[float] | None = None
    final = (record.trial.final_metrics if record.metrics else None) or {}
    if state == OptunaState.COMPLETE:
        got = [final.get(m) for m in metrics]
        if all(v is not None and math.isfinite(v) for v in got):
            values = [float(v) for v in got if v is not None]
        else:
            state = OptunaState.FAIL
            system["fail_reason"] = "a metric is missing or not finite: " + ", ".join(
                f"{m}={v}" for m, v in zip(metrics, got, strict=True)
            )
    if constraints and state in (OptunaState.COMPLETE, OptunaState.PRUNED):
        # Optuna's own place for them: its plots grey out infeasible trials
        system["constraints"] = tuple(
            math.inf if (v := final.get(c)) is None or math.isnan(v) else float(v)
            for c in constraints
        )
    if record.error and state == OptunaState.FAIL:
        system["fail_reason"] = record.error.strip().splitlines()[-1]
    intermediate: dict[int, float] = {}
    for step, reported in record.intermediate:
        value = reported.get(metrics[0])
        if value is not None and not math.isnan(value):
            intermediate[step] = float(value)
    start = _when(record.started_at)
    end = _when(record.finished_at)
    if state == OptunaState.WAITING:
        start = end = None
    elif state == OptunaState.RUNNING:
        start, end = start or datetime.datetime.now(), None
    else:
        start = start or end or datetime.datetime.now()
        end = end or start
    return FrozenTrial(
        number=record.trial_id,
        state=state,
        value=None,
        values=values,
        datetime_start=start,
        datetime_complete=end,
        params=params,
        distributions=used,
        user_attrs={**record.extra, **record.user_attrs},
        system_attrs=system,
        intermediate_values=intermediate,
        trial_id=record.trial_id,
    )


def to_optuna(study: Study, records: Iterable[TrialRecord] | None = None) -> optuna.Study:
    """An in-memory Optuna study with one trial per hposampler trial (a snapshot).

    Parameters
    ----------
    study : hposampler.Study
        The study to copy (any sampler, any storage).
    records : iterable of TrialRecord, optional
        The trials to copy (default: every stored trial, ``study.records()``).

    Returns
    -------
    optuna.Study
        Named as the study, with its directions; ``user_attrs`` of the study hold
        its user attributes and the sampler's name (``hposampler:sampler``); a
        trial's hold its extras and user attributes, and with constraints each
        finished trial has Optuna's ``constraints`` system attribute (so Optuna's
        plots and ``best_trials`` tell feasible trials apart).

    Raises
    ------
    StudyError
        If the study has no metrics to give Optuna directions.

    Examples
    --------
    >>> import optuna                                        # doctest: +SKIP
    >>> view = to_optuna(Study.load("runs.db", "mlp"))       # doctest: +SKIP
    >>> optuna.importance.get_param_importances(view)        # doctest: +SKIP
    >>> optuna.visualization.plot_parallel_coordinate(view)  # doctest: +SKIP
    """
    optim = dict(study.config.optim_metrics)
    if not optim:
        raise StudyError(f"study {study.name!r} has no metrics; Optuna needs a direction each")
    metrics = list(optim)
    directions: list[Literal["minimize", "maximize"]] = [
        "minimize" if optim[m] == "min" else "maximize" for m in metrics
    ]
    tree = compile_space(study.config.search_space)
    dists = distributions_of(study.config.search_space)
    rows = study.records() if records is None else list(records)
    quiet_optuna()
    view = optuna.create_study(study_name=study.name, directions=directions)
    constraints = study.config.constraints
    view.add_trials([_frozen(r, metrics, tree, dists, constraints) for r in rows])
    if hasattr(view, "set_metric_names"):  # Optuna >= 3.2: axis titles name the metrics
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            view.set_metric_names(metrics)
    view.set_user_attr("hposampler:sampler", study.config.sampler)
    for key, value in study.user_attrs.items():
        view.set_user_attr(key, value)
    return view


#: ``evaluator`` names of :func:`importances` -> Optuna's evaluator class names.
EVALUATORS = {
    "fanova": "FanovaImportanceEvaluator",
    "ped-anova": "PedAnovaImportanceEvaluator",
    "mdi": "MeanDecreaseImpurityImportanceEvaluator",
}


def importances(
    study: Study, evaluator: str = "fanova", metric: str | None = None, seed: int = 0
) -> dict[str, float]:
    """Parameter importances of a study by Optuna's evaluators (they sum to 1).

    Parameters
    ----------
    study : hposampler.Study
        Any study with completed trials.
    evaluator : {"fanova", "ped-anova", "mdi"}
        fANOVA (Optuna's default), PED-ANOVA (Optuna >= 3.6; which parameters
        matter for the best trials) or mean decrease impurity of a random forest.
    metric : str, optional
        The metric to explain (default: the first).
    seed : int
        Seed of the evaluator's random forest (fANOVA, mdi).

    Returns
    -------
    dict of str to float
        Parameter (dotted key) -> importance, most important first.

    Raises
    ------
    StudyError
        For an unknown evaluator or metric, or a study without completed trials.
    """
    from hposampler.errors import MetricsError

    name = EVALUATORS.get(evaluator)
    cls = getattr(optuna.importance, name, None) if name else None
    if cls is None:
        known = ", ".join(k for k, v in EVALUATORS.items() if hasattr(optuna.importance, v))
        raise StudyError(
            f"importance evaluator {evaluator!r} is not available with Optuna "
            f"{optuna.__version__}; choose one of: {known}"
        )
    optim = dict(study.config.optim_metrics)
    chosen = metric or next(iter(optim))
    if chosen not in optim:
        raise MetricsError(
            f"study {study.name!r} has no metric {chosen!r}; its metrics: {', '.join(optim)}"
        )
    records = study.records()
    if not any(r.state == TrialState.COMPLETE for r in records):
        raise StudyError(f"study {study.name!r} has no completed trial to explain yet")
    view = to_optuna(study, records)
    index = list(optim).index(chosen)
    sign = -1.0 if optim[chosen] == "max" else 1.0
    target = None if len(optim) == 1 else (lambda t: sign * t.values[index])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            made = cls() if evaluator == "ped-anova" else cls(seed=seed)
            found = optuna.importance.get_param_importances(view, evaluator=made, target=target)
        except ImportError as exc:  # fANOVA and mdi grow scikit-learn forests
            from hposampler.errors import MissingDependencyError

            raise MissingDependencyError(
                f"the {evaluator} importance evaluator needs scikit-learn "
                f"({str(exc).splitlines()[0]}); pip install scikit-learn"
                + (", or choose ped-anova" if "ped-anova" in EVALUATORS else "")
            ) from None
    return dict(found)
