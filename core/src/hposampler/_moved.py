"""Module paths of hposampler 0.2 that moved when the core was grouped by concept.

``import hposampler.tree`` (and every path in :data:`MOVED`) still works for one
release: it warns with a :class:`DeprecationWarning` naming the new path and gives
the new module itself, so attributes read or patched through the old name are the
new module's. The aliases go away in the release after 0.3.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import importlib.abc

__all__ = ["MOVED", "install"]

#: Old module path -> the module that now holds it.
MOVED = {
    "hposampler.arguments": "hposampler.study.arguments",
    "hposampler.channels": "hposampler.study.channels",
    "hposampler.executors": "hposampler.study.executors",
    "hposampler.flat": "hposampler.space.flat",
    "hposampler.hookspecs": "hposampler.plugins.hookspecs",
    "hposampler.objective": "hposampler.study.objective",
    "hposampler.pending": "hposampler.samplers.pending",
    "hposampler.plotting": "hposampler.viz.plotting",
    "hposampler.progress": "hposampler.study.progress",
    "hposampler.runner": "hposampler.study.runner",
    "hposampler.sampler": "hposampler.samplers.base",
    "hposampler.spec": "hposampler.plugins.specs",
    "hposampler.studyfile": "hposampler.study.studyfile",
    "hposampler.tables": "hposampler.samplers.tables",
    "hposampler.tree": "hposampler.space.tree",
    "hposampler.trial": "hposampler.samplers.trial",
}


class _Alias:  # the loader protocol (importlib.abc costs some 8 ms to import)
    def __init__(self, target: str) -> None:
        self.target = target
        self.spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{spec.name} moved to {self.target}; import it from there "
            f"({spec.name} is removed in the release after 0.3)",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(self.target)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module is the new one, already imported; the import
        system set its ``__spec__`` to the alias's, so give it back its own."""
        module.__spec__ = self.spec


class _Finder:  # the meta path finder protocol
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, cast("importlib.abc.Loader", _Alias(new)))


def install() -> None:
    """Make the old paths importable (once per process)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
