"""A study's definition: checking ``Study.create``'s arguments, storing and loading it."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from hposampler.errors import (
    HposamplerError,
    MetricsError,
    SamplerOptionsError,
    StorageError,
    StudyError,
)
from hposampler.samplers.base import normalize_optim_metrics
from hposampler.selection import SamplerConfig
from hposampler.storage import Storage

__all__ = ["adopt", "build_config", "load_config"]

logger = logging.getLogger("hposampler.study")


def _options_dict(options: Any, what: str) -> dict[str, Any]:
    if options is not None and not isinstance(options, Mapping):
        raise SamplerOptionsError(
            f"{what} must be a dict of option names to values, got {options!r}"
        )
    return dict(options or {})


def build_config(
    sampler: str,
    search_space: Mapping[str, Any],
    optim_metrics: Mapping[str, Any],
    seed: int | None,
    sampler_options: Mapping[str, Any] | None,
    pruner: str | None,
    pruner_options: Mapping[str, Any] | None,
    constraints: Sequence[str],
    warm_start: Sequence[str] = (),
) -> SamplerConfig:
    """A checked definition: the sampler and the pruner are built once, so an unknown
    name, a bad option or a malformed space fails before anything is stored.

    Raises
    ------
    MetricsError, SamplerOptionsError, SearchSpaceError, UnknownPluginError
        Naming what is wrong.
    """
    if not normalize_optim_metrics(optim_metrics):
        raise MetricsError('a study needs optim_metrics, e.g. {"loss": "min"}')
    config = SamplerConfig(
        sampler=sampler,
        search_space=search_space,  # validated (a dict is required) by the converter
        optim_metrics=dict(optim_metrics),
        seed=seed,
        options=_options_dict(sampler_options, "sampler_options"),
        pruner=pruner,
        pruner_options=_options_dict(pruner_options, "pruner_options"),
        constraints=constraints,
        warm_start=warm_start,
    )
    config.create(pruner=config.create_pruner())  # validate everything before storing
    return config


def adopt(storage: Storage, name: str, stored: SamplerConfig, new: SamplerConfig) -> None:
    """Store ``new`` as the definition of an existing study (``load_if_exists``).

    Raises
    ------
    StudyError
        If the search space, metrics or constraints differ from the stored ones.
    """
    old_dict, new_dict = stored.to_dict(), new.to_dict()
    for key in ("search_space", "optim_metrics", "constraints"):
        if old_dict.get(key) != new_dict.get(key):
            raise StudyError(
                f"study {name!r} in {storage.url} was created with another "
                f"{key.replace('_', ' ')}; use a new study name for a new {key}"
            )
    if old_dict != new_dict:
        logger.info(
            "study %s: sampler changed from %s to %s",
            name,
            old_dict["sampler"],
            new_dict["sampler"],
        )
        storage.update_definition(name, new_dict)


def load_config(storage: Storage, name: str) -> SamplerConfig:
    """The stored definition, validated like user input.

    Raises
    ------
    StudyError
        If there is no such study.
    StorageError
        If the stored definition is not valid.
    """
    data = storage.load_definition(name)
    try:
        return SamplerConfig.from_dict(data)
    except HposamplerError as exc:
        raise StorageError(f"study {name!r}: stored definition is invalid: {exc}") from None
