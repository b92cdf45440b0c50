"""The sweeper's config, registered as ``hydra/sweeper: hposampler``.

OmegaConf reads the annotations at run time, so they are ``typing`` forms (and no
``from __future__ import annotations``).
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional  # noqa: UP035 - OmegaConf needs these forms

from hydra.core.config_store import ConfigStore


@dataclass
class HposamplerSweeperConf:
    """Keys of ``hydra.sweeper`` (unknown keys are refused by Hydra, naming them).

    ``sampler``: any installed hposampler sampler name or alias; ``seed``;
    ``n_trials``: the study's total of finished trials; ``n_jobs``: jobs per
    launcher batch; ``direction``: ``minimize`` / ``maximize`` or a list of them,
    or ``optim_metrics``: ``{name: min | max}`` (for tasks returning a dict);
    ``storage``: a path or ``postgresql://`` URL (``null``: ``hposampler.db`` in
    the folder the app is launched from, so the same command continues the same
    study); ``study_name`` (default: the job name); ``sampler_options``;
    ``pruner`` (a pruner name, for hposampler's own runs); ``params``: Hydra sweep
    syntax per config key; ``search_space``: an hposampler/ablator-style space by
    config key, merged with ``params``; ``max_failure_rate``: stop the sweep with
    an error once more than this fraction of its finished jobs failed (as the
    Optuna sweeper's, ``0.0`` stops at the first failure; ``null``, the default,
    only fails a sweep in which every job failed); ``warm_start``: earlier
    studies (``NAME`` in the same storage, ``FILE.db:NAME``) whose finished trials
    the sampler learns first; ``custom_search_space``: the dotted path of a
    function ``(cfg, trial)`` that adds parameters with ``trial.suggest_float``,
    ``suggest_int`` and ``suggest_categorical`` (as with the Optuna sweeper; the
    space is declared once, so the calls return ``None`` and the function cannot
    read sampled values). With no parameter to optimise, the job runs
    ``n_trials`` times with the same config.
    """

    _target_: str = "hydra_plugins.hposampler_sweeper.sweeper.HposamplerSweeper"
    sampler: str = "tpe"
    seed: Optional[int] = None  # noqa: UP045
    n_trials: int = 20
    n_jobs: int = 1
    direction: Any = "minimize"
    optim_metrics: Optional[Dict[str, str]] = None  # noqa: UP006, UP045
    storage: Optional[str] = None  # noqa: UP045
    study_name: Optional[str] = None  # noqa: UP045
    sampler_options: Dict[str, Any] = field(default_factory=dict)  # noqa: UP006
    pruner: Optional[str] = None  # noqa: UP045
    params: Optional[Dict[str, str]] = None  # noqa: UP006, UP045
    search_space: Optional[Dict[str, Any]] = None  # noqa: UP006, UP045
    max_failure_rate: Optional[float] = None  # noqa: UP045
    warm_start: List[str] = field(default_factory=list)  # noqa: UP006
    custom_search_space: Optional[str] = None  # noqa: UP045


ConfigStore.instance().store(
    group="hydra/sweeper",
    name="hposampler",
    node=HposamplerSweeperConf,
    provider="hydra-hposampler-sweeper",
)
