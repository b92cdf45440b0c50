"""Shared test configuration: hypothesis profiles and plugin-registry isolation."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from hposampler.plugins import PluginRegistry, reset_plugins
from support import UniformPlugin, build_registry

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Ray starts its workers at niceness 15, so that the driver and raylet stay responsive.
# On a machine that is busy with other work, nice-15 workers get almost no CPU: a Tune
# test that takes 5 s idle took 8 min at load 10. The tests' local clusters (and the
# subprocesses they start, which inherit this) run their workers at normal priority.
os.environ.setdefault("RAY_worker_niceness", "0")

# The entry-point cache of this run (and of the processes it starts) is its own, not
# the user's ~/.cache/hposampler.
if "HPOSAMPLER_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="hposampler-test-cache-")
    atexit.register(shutil.rmtree, _cache, True)
    os.environ["HPOSAMPLER_CACHE_DIR"] = _cache


@pytest.fixture
def isolated_plugins() -> Iterator[Any]:
    """Install a registry built from given plugin objects; restore discovery afterwards."""

    def install(*plugins: tuple[str, object]) -> PluginRegistry:
        registry = build_registry(*plugins)
        reset_plugins(registry)
        return registry

    yield install
    reset_plugins()


@pytest.fixture
def uniform_registry(isolated_plugins: Any) -> PluginRegistry:
    """Only the test uniform sampler is installed."""
    registry: PluginRegistry = isolated_plugins(("uniform-plugin", UniformPlugin()))
    return registry
