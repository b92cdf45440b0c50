"""OptunaHub's samplers as hposampler backends: ``optunahub:samplers/<package>``.

An OptunaHub package is a folder (``package/samplers/<name>/`` in the registry)
whose ``__init__.py`` exports an ``optuna.samplers.BaseSampler`` subclass. The
backend loads it through ``optunahub``:

* from a local registry folder: the ``registry`` option, else the environment
  variable :data:`REGISTRY_ENV` (the registry's root or its ``package`` folder),
  with ``optunahub.load_local_module``;
* otherwise with ``optunahub.load_module`` (GitHub, then optunahub's own cache).

The class runs on the same Optuna adapter as ``optuna:*`` backends, so a hub
sampler gets the crash-safe runner, workers, pruners, the frontends, the kit
and the bench.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hposampler import OptionSpec, SamplerOptionsError, SamplerSpec
from hposampler.errors import MissingDependencyError

__all__ = ["REGISTRY_ENV", "SPEC", "load_sampler_class"]

#: Environment variable naming a local OptunaHub registry folder.
REGISTRY_ENV = "HPOSAMPLER_OPTUNAHUB_REGISTRY"

_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def _local_root(registry: str) -> Path:
    """The folder holding ``samplers/`` (a registry clone's ``package`` folder, or itself)."""
    root = Path(registry).expanduser()
    if not root.is_dir():
        raise SamplerOptionsError(
            f"optunahub: registry folder {str(root)!r} does not exist; give the path of a "
            f"clone of optunahub-registry (or its 'package' folder), or unset {REGISTRY_ENV}"
        )
    return root / "package" if (root / "package" / "samplers").is_dir() else root


def _requirements(folder: Path) -> list[str]:
    path = folder / "requirements.txt"
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def load_sampler_class(
    package: str, *, registry: str | None = None, sampler_class: str | None = None
) -> Any:
    """The ``optuna.samplers.BaseSampler`` subclass that OptunaHub ``package`` exports.

    Parameters
    ----------
    package : str
        The package's path in the registry, e.g. ``"samplers/auto_sampler"``.
    registry : str, optional
        A local registry folder; default: :data:`REGISTRY_ENV`, else online.
    sampler_class : str, optional
        The class's name, when the package exports several samplers.

    Raises
    ------
    MissingDependencyError
        When the package imports a library that is not installed, naming the
        package's ``requirements.txt``.
    SamplerOptionsError
        For a missing package or folder, or a package without exactly one sampler
        class (and no ``sampler_class``).
    """
    import optuna
    import optunahub

    registry = registry or os.environ.get(REGISTRY_ENV) or None
    folder: Path | None = None
    try:
        if registry is not None:
            root = _local_root(registry)
            folder = root / package
            if not (folder / "__init__.py").is_file():
                found = sorted(p.parent.name for p in (root / "samplers").glob("*/__init__.py"))
                raise SamplerOptionsError(
                    f"optunahub: no package {package!r} in the registry {str(root)!r}"
                    + (f"; it has {', '.join(found)}" if found else "")
                )
            module = optunahub.load_local_module(package, registry_root=str(root))
        else:
            module = optunahub.load_module(package)
            folder = Path(getattr(module, "__file__", "") or ".").parent
    except ModuleNotFoundError as exc:
        needs = _requirements(folder) if folder is not None else []
        wanted = " ".join(needs) if needs else (exc.name or str(exc))
        raise MissingDependencyError(
            f"OptunaHub package {package!r} needs {exc.name!r}, which is not installed; "
            f"install its requirements: pip install {wanted}"
        ) from exc
    classes = {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, optuna.samplers.BaseSampler)
        and not name.startswith("_")
        and value.__module__.startswith(module.__name__)
    }
    if sampler_class is not None:
        if sampler_class not in classes:
            raise SamplerOptionsError(
                f"optunahub: package {package!r} has no sampler class {sampler_class!r}; "
                f"it has {', '.join(sorted(classes)) or 'none'}"
            )
        return classes[sampler_class]
    if len(classes) != 1:
        raise SamplerOptionsError(
            f"optunahub: package {package!r} exports "
            + (f"several samplers ({', '.join(sorted(classes))}); choose one with the "
               "sampler_class option" if classes else "no optuna sampler class")
        )  # fmt: skip
    return next(iter(classes.values()))


def build(
    search_space: Any,
    *,
    subname: str | None = None,
    optim_metrics: Any = None,
    trials: Any = None,
    seed: int | None = None,
    pruner: Any = None,
    registry: str | None = None,
    sampler_class: str | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """An :class:`~hposampler_optuna.sampler.OptunaSampler` on an OptunaHub sampler."""
    from .common import quiet_experimental
    from .sampler import OptunaSampler

    if not subname or not _PACKAGE.match(subname):
        raise SamplerOptionsError(
            "name the OptunaHub package after the slash: 'optunahub:samplers/<package>', "
            "e.g. 'optunahub:samplers/auto_sampler'"
        )
    package = f"samplers/{subname}"
    cls = load_sampler_class(package, registry=registry, sampler_class=sampler_class)
    given = dict(kwargs or {})
    takes_seed = "seed" in inspect.signature(cls.__init__).parameters

    def make(seed: int | None) -> Any:
        with quiet_experimental():
            try:
                return cls(**given, **({"seed": seed} if takes_seed else {}))
            except TypeError as exc:
                raise SamplerOptionsError(
                    f"optunahub: {package}'s {cls.__name__} refused the kwargs option "
                    f"{given!r}: {exc}"
                ) from exc

    return OptunaSampler(
        search_space, make_sampler=make, optim_metrics=optim_metrics, trials=trials,
        seed=seed, pruner=pruner,
    )  # fmt: skip


SPEC = SamplerSpec(
    "optunahub:samplers",
    build,
    description="an OptunaHub sampler package: 'optunahub:samplers/<package>' (needs optunahub)",
    options=(
        OptionSpec(
            "registry",
            None,
            (str, type(None)),
            f"a local registry folder (default: ${REGISTRY_ENV}, else online)",
        ),
        OptionSpec(
            "sampler_class",
            None,
            (str, type(None)),
            "the class to use when the package exports several",
        ),
        OptionSpec(
            "kwargs", None, (dict, type(None)), "keyword arguments for the hub sampler's class"
        ),
    ),
    multi_objective=True,
    conditional=True,
    concurrent=True,
    deterministic=False,
    needs_metrics=True,
    subnames=True,
    requires=("optunahub",),
    install_hint="pip install optunahub",
    resumes_from_configs=True,
)
