"""Shared test configuration: hypothesis profiles and plugin-registry isolation."""

from __future__ import annotations

import os
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
