"""The example plugin's own tests: the conformance kit plus what makes Halton useful."""

from __future__ import annotations

from collections.abc import Callable

from hposampler import make_sampler
from hposampler.testing import parametrize_with_checks


@parametrize_with_checks(["example:halton"])
def test_conformance(sampler: str, check: Callable[[str], None]) -> None:
    check(sampler)


def test_points_cover_the_space_evenly() -> None:
    sampler = make_sampler("halton", {"x": {"value_range": [0, 1], "value_type": "float"}}, seed=0)
    xs = []
    for _ in range(100):
        _, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        xs.append(config["x"])
    counts = [sum(1 for x in xs if i / 10 <= x < (i + 1) / 10) for i in range(10)]
    assert all(9 <= c <= 11 for c in counts), counts  # independent draws spread far more


def test_skip_option_is_validated() -> None:
    import pytest

    from hposampler import SamplerOptionsError

    with pytest.raises(SamplerOptionsError, match="'skip' of sampler 'example:halton' must be int"):
        make_sampler("halton", {"x": {"categorical_values": [1]}}, skip="3")
