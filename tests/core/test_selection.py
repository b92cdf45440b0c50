"""make_sampler / SamplerConfig: name resolution, options, capabilities, errors."""

from __future__ import annotations

from typing import Any

import pytest

import hposampler
from hposampler import (
    MetricsError,
    MissingDependencyError,
    OptionSpec,
    PluginError,
    SamplerConfig,
    SamplerOptionsError,
    SamplerSpec,
    SearchSpaceError,
    UnknownSamplerError,
    available_samplers,
    make_sampler,
)

SPACE = {"x": {"value_range": [0, 1], "value_type": "float"}}


def _factory(*args: Any, **kwargs: Any) -> Any:
    from support import UniformSampler

    return UniformSampler(*args, **kwargs)


class ManyPlugin:
    @hposampler.hookimpl
    def register_samplers(self, register: Any) -> None:
        register(SamplerSpec("fam:single", _factory, aliases=("single",)))
        register(SamplerSpec("fam:multi", _factory, multi_objective=True))
        register(SamplerSpec("fam:model", _factory, needs_metrics=True))
        register(SamplerSpec("fam:grid", _factory, exhaustive=True))
        register(
            SamplerSpec(
                "fam:needs-torch",
                _factory,
                requires=("no_such_module_xyz",),
                install_hint="pip install no-such-module",
            )
        )
        register(SamplerSpec("fam:broken", lambda *a, **k: 42))
        register(SamplerSpec("fam:raises", lambda *a, **k: 1 / 0))
        register(
            SamplerSpec(
                "fam:typed",
                _factory,
                options=(
                    OptionSpec("n", 10, (int,), "count"),
                    OptionSpec("mode", "a", choices=("a", "b")),
                    OptionSpec("rate", 0.5, (float, type(None))),
                ),
            )
        )


@pytest.fixture
def many(isolated_plugins: Any) -> None:
    isolated_plugins(("many", ManyPlugin()))


def test_exact_name_then_alias(many: None) -> None:
    assert [s.name for s in available_samplers()][:2] == ["fam:broken", "fam:grid"]
    assert hposampler.get_sampler_spec("single").name == "fam:single"
    assert hposampler.get_sampler_spec(" FAM:SINGLE ").name == "fam:single"


def test_unknown_name_suggests_close_names_and_lists_installed(many: None) -> None:
    with pytest.raises(UnknownSamplerError) as info:
        make_sampler("singel", SPACE)
    msg = str(info.value)
    assert "unknown sampler 'singel'. Did you mean 'single'" in msg
    assert "Installed samplers: fam:broken" in msg
    assert isinstance(info.value, LookupError)
    with pytest.raises(UnknownSamplerError, match="Did you mean 'fam:multi'"):
        make_sampler("multi", SPACE)


def test_options_are_validated(many: None) -> None:
    with pytest.raises(
        SamplerOptionsError, match="has no option 'm'.*Valid options: n, mode, rate"
    ):
        make_sampler("fam:typed", SPACE, m=1)
    with pytest.raises(SamplerOptionsError, match="Did you mean 'rate'"):
        make_sampler("fam:typed", SPACE, rat=1)
    with pytest.raises(
        SamplerOptionsError, match="'n' of sampler 'fam:typed' must be int; got bool"
    ):
        make_sampler("fam:typed", SPACE, n=True)
    with pytest.raises(SamplerOptionsError, match="must be one of 'a', 'b'"):
        make_sampler("fam:typed", SPACE, mode="c")
    with pytest.raises(SamplerOptionsError, match="takes no options"):
        make_sampler("single", SPACE, n=1)
    with pytest.raises(TypeError):
        make_sampler("single", SPACE, n=1)


def test_capabilities_are_checked_before_building(many: None) -> None:
    two = {"loss": "min", "acc": "max"}
    with pytest.raises(MetricsError, match="single metric but 2 were given.*fam:multi"):
        make_sampler("single", SPACE, optim_metrics=two)
    make_sampler("fam:multi", SPACE, optim_metrics=two)
    with pytest.raises(MetricsError, match="needs optim_metrics"):
        make_sampler("fam:model", SPACE)
    with pytest.raises(SearchSpaceError, match="^x: value_range needs n_bins"):
        make_sampler("fam:grid", SPACE)
    with pytest.raises(MissingDependencyError, match="pip install no-such-module"):
        make_sampler("fam:needs-torch", SPACE)


def test_broken_factories_become_plugin_errors(many: None) -> None:
    with pytest.raises(PluginError, match="returned int, not a hposampler.BaseSampler"):
        make_sampler("fam:broken", SPACE)
    with pytest.raises(PluginError, match="failed to build: ZeroDivisionError"):
        make_sampler("fam:raises", SPACE)


def test_sampler_config_round_trip_and_create(many: None) -> None:
    data = {
        "sampler": "single",
        "search_space": SPACE,
        "optim_metrics": {"loss": "min"},
        "seed": 3,
        "options": {},
    }
    cfg = SamplerConfig.from_dict(data)
    assert cfg.to_dict() == data
    sampler = cfg.create()
    assert sampler.seed == 3 and sampler.optim_metrics == {"loss": "min"}
    with pytest.raises(SamplerOptionsError, match="invalid sampler config"):
        SamplerConfig.from_dict({**data, "sead": 1})
    with pytest.raises(SamplerOptionsError, match="seed must be an integer or null, got '0'"):
        SamplerConfig.from_dict({**data, "seed": "0"})
    with pytest.raises(SamplerOptionsError, match="got True"):
        SamplerConfig.from_dict({**data, "seed": True})
    with pytest.raises(SearchSpaceError, match="^x: value_type"):
        SamplerConfig.from_dict(
            {**data, "search_space": {"x": {"value_range": [0, 1], "value_type": "bool"}}}
        )


def test_spec_names_are_validated() -> None:
    with pytest.raises(ValueError, match="family:algorithm"):
        SamplerSpec("NoColon", _factory)
    with pytest.raises(ValueError, match="alias"):
        SamplerSpec("a:b", _factory, aliases=("Bad Alias",))


def test_option_bounds_and_validators_are_checked_before_the_factory() -> None:
    from hposampler.errors import SamplerOptionsError

    built: list[dict[str, Any]] = []

    def factory(search_space: Any, **kwargs: Any) -> Any:  # never reached here
        built.append(kwargs)

    options = (
        OptionSpec("n", 5, (int,), "a count", low=1),
        OptionSpec("frac", 0.5, (float,), "a fraction", low=0, high=1),
        OptionSpec("k", 3, (int,), "odd", validator=lambda v: None if v % 2 else "must be odd"),
        OptionSpec("any", None, None, "untyped", validator=lambda v: "must not be 'x'"
                   if v == "x" else None),
    )  # fmt: skip
    spec = SamplerSpec("opt:bounded", factory, options=options)
    for bad, message in [
        ({"n": 0}, "option 'n' of sampler 'opt:bounded' must be >= 1; got 0"),
        ({"frac": 1.5}, "option 'frac' of sampler 'opt:bounded' must be <= 1; got 1.5"),
        ({"k": 4}, "option 'k' of sampler 'opt:bounded' must be odd; got 4"),
        ({"any": "x"}, "option 'any' of sampler 'opt:bounded' must not be 'x'; got 'x'"),
    ]:
        with pytest.raises(SamplerOptionsError) as info:
            spec.check_options(bad)
        assert str(info.value) == message
    assert spec.check_options({"n": 1, "frac": 0, "k": 5, "any": "y"}) == {
        "n": 1, "frac": 0, "k": 5, "any": "y"}  # fmt: skip
    assert built == []  # nothing was built for a refused option
