"""The core's benchmark plugin: it registers the ``builtin`` suite.

Kept apart from the package's modules so that discovering plugins (every
``hposampler`` command, every study) does not import the benchmark code: the
suite's tasks are built on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hposampler.plugins.hookspecs import hookimpl
from hposampler.plugins.specs import SuiteSpec


def _builtin() -> Any:
    from hposampler.bench.builtin import builtin_suite

    return builtin_suite()


@hookimpl
def register_suites(register: Callable[[SuiteSpec], None]) -> None:
    """Register the core's ``builtin`` suite."""
    register(
        SuiteSpec(
            "builtin",
            _builtin,
            description="the built-in test problems (Branin, Hartmann6, Rosenbrock, ...)",
        )
    )
