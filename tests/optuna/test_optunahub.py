"""OptunaHub, both ways: hub sampler packages as ``optunahub:samplers/<package>``
backends (from a local registry the tests write, offline), and an hposampler backend
published as a hub package (docs/examples/optunahub)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

optunahub = pytest.importorskip("optunahub")
import optuna  # noqa: E402

from hposampler import (  # noqa: E402
    MissingDependencyError,
    SamplerOptionsError,
    Study,
    get_sampler_spec,
)
from hposampler.testing import check_sampler  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPACE = {
    "x": {"value_range": [-5.0, 5.0], "value_type": "float"},
    "k": {"value_range": [0, 10], "value_type": "int"},
}

_TINY = '''
import optuna


class TinySampler(optuna.samplers.TPESampler):
    """A hub package's sampler: TPE with a short start-up."""

    def __init__(self, seed=None, n_startup_trials=5):
        super().__init__(seed=seed, n_startup_trials=n_startup_trials)
'''


def write_package(registry: Path, name: str, init: str, requirements: str = "optuna\n") -> Path:
    folder = registry / "package" / "samplers" / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("from ._sampler import *  # noqa: F403\n")
    (folder / "_sampler.py").write_text(init)
    (folder / "requirements.txt").write_text(requirements)
    (folder / "README.md").write_text(f"# {name}\n")
    return folder


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "optunahub-registry"
    write_package(root, "tiny_sampler", _TINY)
    monkeypatch.setenv("HPOSAMPLER_OPTUNAHUB_REGISTRY", str(root))
    return root


def quadratic(config: dict[str, float]) -> dict[str, float]:
    return {"loss": (config["x"] - 1.0) ** 2 + (config["k"] - 3) ** 2}


def test_a_hub_sampler_runs_a_study_and_resumes(registry: Path, tmp_path: Path) -> None:
    url = str(tmp_path / "hub.db")
    study = Study.create(
        url, "s", "optunahub:samplers/tiny_sampler", SPACE, {"loss": "min"}, seed=0
    )
    study.optimize(quadratic, 15)
    again = Study.load(url, "s")
    again.optimize(quadratic, 30)  # n_trials is the study's total
    records = again.records()
    assert len(records) == 30
    configs = [tuple(sorted(r.config.items())) for r in records]
    assert len(set(configs)) == 30  # resumed: no config proposed twice


def test_a_hub_sampler_passes_the_kit(registry: Path) -> None:
    skipped = check_sampler("optunahub:samplers/tiny_sampler")  # raises on a failure
    assert not any(s.startswith(("learns_from_results", "direction")) for s in skipped)


def test_a_hub_sampler_behind_the_optuna_frontend(registry: Path) -> None:
    from hposampler_optuna import HposamplerSampler

    study = optuna.create_study(sampler=HposamplerSampler("optunahub:samplers/tiny_sampler"))
    study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=12)
    assert len(study.trials) == 12


def test_missing_requirements_are_one_line_naming_them(registry: Path, tmp_path: Path) -> None:
    write_package(
        registry, "needy", "import surely_not_installed_pkg\n", "surely-not-installed-pkg>=1\n"
    )
    with pytest.raises(MissingDependencyError) as info:
        Study.create(
            str(tmp_path / "s.db"), "s", "optunahub:samplers/needy", SPACE, {"loss": "min"}
        )
    message = str(info.value)
    assert "\n" not in message
    assert "'samplers/needy'" in message and "pip install surely-not-installed-pkg>=1" in message


def test_unknown_package_and_ambiguous_class_say_what_to_do(registry: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    with pytest.raises(SamplerOptionsError, match=r"no package 'samplers/nope' .* tiny_sampler"):
        Study.create(db, "s", "optunahub:samplers/nope", SPACE, {"loss": "min"})
    two = _TINY + "\n\nclass OtherSampler(optuna.samplers.RandomSampler):\n    pass\n"
    write_package(registry, "two", two)
    with pytest.raises(SamplerOptionsError, match="several samplers .*sampler_class"):
        Study.create(db, "s", "optunahub:samplers/two", SPACE, {"loss": "min"})
    study = Study.create(
        db, "t", "optunahub:samplers/two", SPACE, {"loss": "min"},
        sampler_options={"sampler_class": "OtherSampler"},
    )  # fmt: skip
    study.optimize(quadratic, 3)
    with pytest.raises(SamplerOptionsError, match="'optunahub:samplers/<package>'"):
        Study.create(db, "u", "optunahub:samplers", SPACE, {"loss": "min"})


def test_the_name_family_is_one_spec_with_subnames() -> None:
    spec = get_sampler_spec("optunahub:samplers/auto_sampler")
    assert spec.name == "optunahub:samplers/auto_sampler"
    assert {o.name for o in spec.options} == {"registry", "sampler_class", "kwargs"}


EXAMPLE = ROOT / "docs" / "examples" / "optunahub"


@pytest.mark.timeout(1800)
def test_our_backend_published_as_a_hub_package_loads_with_optunahub() -> None:
    # docs/plugins.md: an hposampler backend as an OptunaHub package folder
    script = textwrap.dedent(f"""
        import optuna, optunahub
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        module = optunahub.load_local_module(
            "samplers/hposampler_grid", registry_root={str(EXAMPLE / "package")!r}
        )
        sampler = module.HposamplerGridSampler(seed=0)
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda t: (t.suggest_int("k", 0, 5) - 2) ** 2, n_trials=6)
        print(sorted(t.params["k"] for t in study.trials))
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600
    )
    assert out.stdout.strip() == "[0, 1, 2, 3, 4, 5]"  # the grid: every int once
