"""hposampler plugin: registers Optuna's samplers. Optuna is imported only when one is built."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from hposampler import OptionSpec, SamplerOptionsError, SamplerSpec, SearchSpaceError, hookimpl
from hposampler.errors import MissingDependencyError
from hposampler.plugins.specs import PythonObject

#: The first Optuna release whose class a backend needs, where that is newer than
#: 3.1.1, the oldest Optuna this plugin supports (ablator pins it): NSGA-III, the GP
#: sampler and the Wilcoxon pruner arrived later; 3.1's BruteForceSampler keeps its
#: plan in WAITING trials, so a resumed study would repeat points (3.2 rewrote it).
#: On an older Optuna the name is still listed and refused with the release it needs.
SINCE = {
    "NSGAIIISampler": "3.2",
    "GPSampler": "3.6",
    "BruteForceSampler": "3.2",
    "WilcoxonPruner": "3.6",
}


def _release(version: str) -> tuple[int, ...]:
    """``"3.1.1"`` -> ``(3, 1)``: the major and minor numbers of a version string."""
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def installed_supports(class_name: str) -> bool:
    """Whether the installed Optuna has ``optuna.samplers/pruners.<class_name>`` as needed."""
    try:
        import optuna
    except ImportError:  # pragma: no cover - optuna is a dependency
        return False
    module = optuna.pruners if class_name.endswith("Pruner") else optuna.samplers
    try:
        optuna_class(module, class_name, class_name)
    except MissingDependencyError:
        return False
    return True


def optuna_class(module: Any, class_name: str, what: str) -> Any:
    """``module.class_name`` of the installed Optuna, or a one-line error naming the release.

    Raises
    ------
    MissingDependencyError
        When the installed Optuna predates the class (or the version it needs).
    """
    import optuna

    cls = getattr(module, class_name, None)
    since = SINCE.get(class_name)
    if cls is None or (since and _release(optuna.__version__) < _release(since)):
        need = since or "a newer release"
        raise MissingDependencyError(
            f"{what} needs optuna >= {need} ({class_name}); the installed optuna is "
            f"{optuna.__version__}: pip install 'optuna>={need}'"
        )
    return cls


_INDEPENDENT = OptionSpec(
    "independent_sampler",
    None,
    (PythonObject, type(None)),
    "an optuna sampler for parameters the main one skips",
)
_WARN_INDEPENDENT = OptionSpec(
    "warn_independent_sampling",
    False,
    (bool,),
    "warn on each fallback to independent sampling (off by default here: categorical and "
    "conditional parameters fall back by design)",
)
_CONSTRAINTS = OptionSpec(
    "constraints_func",
    None,
    (Callable, type(None)),
    "callable(FrozenTrial) -> constraint values (<= 0 feasible)",
)
_NSGA = (
    OptionSpec("population_size", 50, (int,), "individuals per generation"),
    OptionSpec("mutation_prob", None, (float, type(None)), "mutation probability"),
    OptionSpec("crossover", None, (PythonObject, type(None)), "an optuna crossover operator"),
    OptionSpec("crossover_prob", 0.9, (float,), "crossover probability"),
    OptionSpec("swapping_prob", 0.5, (float,), "parameter swapping probability"),
    _CONSTRAINTS,
)

#: (algorithm, optuna class name, aliases, description, options, flags)
BACKENDS: list[tuple[str, str, tuple[str, ...], str, tuple[OptionSpec, ...], dict[str, Any]]] = [
    (
        "tpe",
        "TPESampler",
        ("tpe",),
        "Tree-structured Parzen Estimator; learns subspace choices; constant liar on",
        (
            OptionSpec("n_startup_trials", 10, (int,), "random trials before TPE starts"),
            OptionSpec("n_ei_candidates", 24, (int,), "candidates scored per sample"),
            OptionSpec(
                "multivariate",
                None,
                (bool,),
                "model parameters jointly (Optuna's "
                "default: jointly from Optuna 5, independently before)",
            ),
            OptionSpec("group", False, (bool,), "split conditional spaces (with multivariate)"),
            OptionSpec("constant_liar", True, (bool,), "avoid duplicate concurrent samples"),
            OptionSpec("consider_endpoints", False, (bool,), "include range end points"),
            OptionSpec("consider_magic_clip", True, (bool,), "clip kernel bandwidths"),
            OptionSpec("prior_weight", 1.0, (float,), "weight of the prior"),
            OptionSpec(
                "gamma", None, (Callable, type(None)), "callable(n) -> number of good trials"
            ),
            OptionSpec(
                "weights", None, (Callable, type(None)), "callable(n) -> weights of observations"
            ),
            _CONSTRAINTS,
        ),
        {"multi_objective": True, "needs_metrics": True},
    ),
    (
        "random",
        "RandomSampler",
        (),
        "Optuna's RandomSampler: its independent uniform (log-uniform) draws, seed for seed",
        (),
        {"multi_objective": True, "needs_metrics": False},
    ),
    (
        "cmaes",
        "CmaEsSampler",
        (),
        "CMA-ES for continuous spaces (other parameters sampled independently)",
        (
            OptionSpec("x0", None, (dict, type(None)), "initial mean by parameter name"),
            OptionSpec("sigma0", None, (float, type(None)), "initial step size"),
            OptionSpec("n_startup_trials", 1, (int,), "independent trials before CMA-ES"),
            OptionSpec("restart_strategy", None, (str, type(None)), "'ipop' or 'bipop'"),
            OptionSpec("popsize", None, (int, type(None)), "population size"),
            OptionSpec("inc_popsize", -1, (int,), "population growth on restart"),
            OptionSpec("use_separable_cma", False, (bool,), "diagonal covariance"),
            OptionSpec("with_margin", False, (bool,), "CMA-ES with margin for discrete params"),
            OptionSpec("lr_adapt", False, (bool,), "learning-rate adaptation"),
            OptionSpec("consider_pruned_trials", False, (bool,), "learn from pruned trials"),
            _INDEPENDENT,
            _WARN_INDEPENDENT,
        ),
        {"conditional": False, "needs_metrics": True},
    ),
    (
        "qmc",
        "QMCSampler",
        (),
        "quasi-Monte Carlo (Sobol / Halton) low-discrepancy sequence",
        (
            OptionSpec("qmc_type", "sobol", doc="sequence type", choices=("sobol", "halton")),
            OptionSpec("scramble", False, (bool,), "scramble the sequence (uses the seed)"),
            OptionSpec("warn_asynchronous_seeding", True, (bool,), "warn on unseeded scrambling"),
            _INDEPENDENT,
            _WARN_INDEPENDENT,
        ),
        {"multi_objective": True, "conditional": False, "needs_metrics": False},
    ),
    (
        "nsga2",
        "NSGAIISampler",
        (),
        "NSGA-II genetic algorithm for multi-objective studies",
        _NSGA,
        {"multi_objective": True, "needs_metrics": True},
    ),
    (
        "nsga3",
        "NSGAIIISampler",
        (),
        "NSGA-III genetic algorithm for many-objective studies",
        (
            *_NSGA,
            OptionSpec("dividing_parameter", 3, (int,), "reference point divisions"),
            OptionSpec(
                "reference_points", None, (PythonObject, type(None)), "array of reference points"
            ),
        ),
        {"multi_objective": True, "needs_metrics": True},
    ),
    (
        "gp",
        "GPSampler",
        (),
        "Gaussian-process Bayesian optimisation (needs torch)",
        (
            OptionSpec("n_startup_trials", 10, (int,), "random trials before the GP"),
            OptionSpec("deterministic_objective", False, (bool,), "noise-free objective"),
            _INDEPENDENT,
            _WARN_INDEPENDENT,
            _CONSTRAINTS,
        ),
        {"multi_objective": True, "needs_metrics": True, "requires": ("torch", "scipy")},
    ),
    (
        "bruteforce",
        "BruteForceSampler",
        (),
        "every combination of a finite space once, then stops",
        (OptionSpec("avoid_premature_stop", False, (bool,), "wait for running trials"),),
        {"multi_objective": True, "exhaustive": True, "needs_metrics": False},
    ),
]


def _check_listable(search_space: Any) -> None:
    """Optuna's BruteForceSampler lists every value of every parameter at each trial.

    Raises
    ------
    SearchSpaceError
        For a parameter with more than ``LAZY_GRID_ABOVE`` values, naming it.
    """
    from hposampler.space.tree import FloatParam, IntParam, compile_space
    from hposampler.space.values import LAZY_GRID_ABOVE

    for name, param in compile_space(search_space).params.items():
        if not isinstance(param, (FloatParam, IntParam)):
            continue
        grid = param.grid()
        if grid is None and isinstance(param, IntParam):
            size = param.high - param.low + 1
        else:
            size = len(grid) if grid is not None else 0
        if size > LAZY_GRID_ABOVE:
            raise SearchSpaceError(
                name,
                f"optuna:bruteforce lists all {size} values of this parameter at every "
                "trial; use the 'grid' sampler (it never lists them) or fewer values",
            )


def _configured(
    algorithm: str,
    class_name: str,
    options_spec: tuple[OptionSpec, ...],
    options: Mapping[str, Any],
) -> tuple[Any, dict[str, Any]]:
    """Optuna's sampler class for ``optuna:<algorithm>`` and the keyword arguments the
    backend builds it with (constant liar on for TPE; no warning for independent
    sampling, which the backend does on purpose).

    Raises
    ------
    SamplerOptionsError
        For an option the installed Optuna's class does not accept.
    """
    import optuna

    cls = optuna_class(optuna.samplers, class_name, f"sampler 'optuna:{algorithm}'")
    accepted = inspect.signature(cls.__init__).parameters
    declared = {o.name: o for o in options_spec}
    kwargs = {}
    for key, value in options.items():
        spec = declared.get(key)
        if key not in accepted:
            if spec is not None and spec.is_default(value):
                continue  # the declared default of a newer Optuna's option: as left out
            raise SamplerOptionsError(
                f"option {key!r} of sampler 'optuna:{algorithm}' is not accepted by the "
                f"installed optuna {optuna.__version__}'s {class_name}"
            )
        if value is None and spec is not None and spec.default is None:
            # None for an option declared with default None means "Optuna's own default":
            # left out, so Optuna's default applies (multivariate=None is not False)
            continue
        kwargs[key] = value
    if _WARN_INDEPENDENT in options_spec:
        kwargs.setdefault("warn_independent_sampling", False)
    if class_name == "TPESampler":
        kwargs.setdefault("constant_liar", True)  # Optuna 4 defaults to False
    return cls, kwargs


def _factory(
    algorithm: str, class_name: str, options_spec: tuple[OptionSpec, ...]
) -> Callable[..., Any]:
    def build(
        search_space: Any,
        *,
        optim_metrics: Any = None,
        trials: Any = None,
        seed: int | None = None,
        pruner: Any = None,
        constraints: tuple[str, ...] = (),
        **options: Any,
    ) -> Any:
        import optuna

        from .sampler import IndependentDraws, OptunaSampler, constraints_reader

        cls, kwargs = _configured(algorithm, class_name, options_spec, options)
        if class_name == "BruteForceSampler":
            _check_listable(search_space)
        told: dict[int, tuple[float, ...]] = {}  # Optuna trial number -> constraint values
        if constraints:
            if kwargs.get("constraints_func") is not None:
                raise SamplerOptionsError(
                    f"sampler 'optuna:{algorithm}': give the study's constraints or the "
                    "constraints_func option, not both (the study's are stored and resumed)"
                )
            if _release(optuna.__version__) < (5,):  # Optuna 5 reads the trials' own values
                kwargs["constraints_func"] = constraints_reader(told, len(constraints))

        def make(seed: int | None) -> Any:
            from .common import quiet_experimental

            with quiet_experimental():  # the user chose this sampler knowingly
                return cls(seed=seed, **kwargs)

        if class_name == "RandomSampler" and pruner is None:
            return IndependentDraws(
                search_space, make_sampler=make, optim_metrics=optim_metrics, trials=trials,
                seed=seed,
            )  # fmt: skip
        return OptunaSampler(
            search_space, make_sampler=make, optim_metrics=optim_metrics, trials=trials,
            seed=seed, pruner=pruner, constraints=constraints, constraint_values=told,
        )  # fmt: skip

    build.__name__ = f"optuna_{algorithm}"
    build.__doc__ = f"Build an hposampler sampler on optuna.samplers.{class_name}."
    return build


def native_sampler(name: str, options: Mapping[str, Any], seed: int | None) -> Any:
    """Optuna's own sampler behind ``optuna:<algorithm>`` ``name``, configured as the
    backend configures it (constant liar on for TPE, no warning for independent
    sampling), or ``None`` for a name this plugin does not provide.

    The Optuna frontend hands it the outer study directly (no second, in-memory
    study in between): the same proposals at Optuna's own cost.
    """
    from .common import quiet_experimental

    for algorithm, class_name, _aliases, _doc, options_spec, _flags in BACKENDS:
        if name != f"optuna:{algorithm}":
            continue
        cls, kwargs = _configured(algorithm, class_name, options_spec, options)

        with quiet_experimental():
            return cls(seed=seed, **kwargs)
    return None


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register ``optuna:<algorithm>`` for every backend in :data:`BACKENDS`, and
    ``optunahub:samplers/<package>`` (:mod:`hposampler_optuna.hub`)."""
    from .hub import SPEC

    register(SPEC)
    for algorithm, class_name, aliases, description, options, flags in BACKENDS:
        extra = dict(flags)
        requires = extra.pop("requires", ())
        extra["constraints"] = _CONSTRAINTS in options
        register(
            SamplerSpec(
                f"optuna:{algorithm}",
                _factory(algorithm, class_name, options),
                aliases=aliases,
                description=description,
                options=options,
                requires=requires,
                install_hint="pip install torch scipy" if requires else "",  # the [gp] extra
                resumes_from_configs=True,  # the Optuna study is rebuilt from params/values
                **extra,
            )
        )


_PRUNER_COMMON = (
    OptionSpec("n_startup_trials", 5, (int,), "trials to finish before pruning starts"),
    OptionSpec("n_warmup_steps", 0, (int,), "steps of each trial before it can be pruned"),
    OptionSpec("interval_steps", 1, (int,), "steps between pruning checks"),
    OptionSpec("n_min_trials", 1, (int,), "trials that reached a step before comparing at it"),
)
_RESOURCE = (int, str)

#: (algorithm, optuna.pruners class, aliases, description, options)
PRUNERS: list[tuple[str, str, tuple[str, ...], str, tuple[OptionSpec, ...]]] = [
    ("median", "MedianPruner", ("median",),
     "stop a trial whose best value is worse than the median of earlier trials at that step",
     _PRUNER_COMMON),
    ("percentile", "PercentilePruner", ("percentile",),
     "stop a trial worse than a percentile of earlier trials at that step",
     (OptionSpec("percentile", 25.0, (float,), "percentile in [0, 100] to keep"),
      *_PRUNER_COMMON)),
    ("successive_halving", "SuccessiveHalvingPruner", ("asha", "sha"),
     "asynchronous successive halving (ASHA): promote the top 1/reduction_factor per rung",
     (OptionSpec("min_resource", "auto", _RESOURCE, "steps of the first rung ('auto')"),
      OptionSpec("reduction_factor", 4, (int,), "1/reduction_factor promoted per rung"),
      OptionSpec("min_early_stopping_rate", 0, (int,), "rungs skipped before pruning"),
      OptionSpec("bootstrap_count", 0, (int,), "trials a rung needs before promoting"))),
    ("hyperband", "HyperbandPruner", ("hyperband",),
     "Hyperband: successive halving in several brackets; TPE samples per bracket",
     (OptionSpec("min_resource", 1, (int,), "steps of the first rung"),
      OptionSpec("max_resource", "auto", _RESOURCE, "steps of a full trial ('auto')"),
      OptionSpec("reduction_factor", 3, (int,), "1/reduction_factor promoted per rung"),
      OptionSpec("bootstrap_count", 0, (int,), "trials a rung needs before promoting"))),
    ("threshold", "ThresholdPruner", ("threshold",),
     "stop a trial whose value leaves [lower, upper] (or is NaN)",
     (OptionSpec("lower", None, (float, type(None)), "smallest acceptable value"),
      OptionSpec("upper", None, (float, type(None)), "largest acceptable value"),
      OptionSpec("n_warmup_steps", 0, (int,), "steps before it can be pruned"),
      OptionSpec("interval_steps", 1, (int,), "steps between pruning checks"))),
    ("wilcoxon", "WilcoxonPruner", ("wilcoxon",),
     "Wilcoxon signed-rank test against the best trial, step by step (e.g. CV folds)",
     (OptionSpec("p_threshold", 0.1, (float,), "p-value below which a trial is pruned"),
      OptionSpec("n_startup_steps", 2, (int,), "steps before the test is applied"))),
    ("patient", "PatientPruner", ("patient",),
     "stop after `patience` steps without improvement (optionally then ask another pruner)",
     (OptionSpec("patience", 3, (int,), "steps without improvement tolerated"),
      OptionSpec("min_delta", 0.0, (float,), "smallest change that counts as improvement"),
      OptionSpec("wrapped", None, (str, type(None)),
                 "another Optuna pruner's name, asked once patience ran out"))),
]  # fmt: skip


def _pruner_factory(algorithm: str, class_name: str) -> Callable[..., Any]:
    def build(*, optim_metrics: Any, **options: Any) -> Any:
        import optuna

        from .common import quiet_experimental
        from .pruners import OptunaPruner

        cls = optuna_class(optuna.pruners, class_name, f"pruner 'optuna:{algorithm}'")
        if class_name == "PatientPruner":
            wrapped = options.pop("wrapped", None)
            inner = None
            if wrapped is not None:
                from hposampler import make_pruner

                built = make_pruner(wrapped, optim_metrics)
                inner = getattr(built, "optuna_pruner", None)
                if inner is None:
                    raise SamplerOptionsError(
                        f"pruner 'optuna:patient': wrapped={wrapped!r} is not one of Optuna's "
                        "pruners; use optuna:median, optuna:asha, ..."
                    )
            options["wrapped_pruner"] = inner
        with quiet_experimental():  # Wilcoxon and Patient are marked experimental
            return OptunaPruner(cls(**options), optim_metrics)

    build.__name__ = f"optuna_pruner_{algorithm}"
    build.__doc__ = f"Build an hposampler pruner on optuna.pruners.{class_name}."
    return build


@hookimpl
def register_pruners(register: Callable[[Any], None]) -> None:
    """Register Optuna's pruners: ``optuna:median`` (``median``), ``optuna:percentile``,
    ``optuna:successive_halving`` (``asha``, ``sha``), ``optuna:hyperband``
    (``hyperband``), ``optuna:threshold``, ``optuna:wilcoxon`` and ``optuna:patient``."""
    from hposampler import PrunerSpec

    for algorithm, class_name, aliases, description, options in PRUNERS:
        register(
            PrunerSpec(
                f"optuna:{algorithm}",
                _pruner_factory(algorithm, class_name),
                aliases=aliases,
                description=description,
                options=options,
            )
        )
