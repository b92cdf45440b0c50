"""The example third-party plugin installs from docs/examples/ and is found by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "hposampler-example-plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(EXAMPLE)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return target


def _env(target: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPOSAMPLER_")}
    env["PYTHONPATH"] = str(target)
    return env


def test_listed_with_its_distribution(installed: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hposampler", "list", "--json"],
        env=_env(installed), capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    data = json.loads(proc.stdout)
    [halton] = [s for s in data["samplers"] if s["name"] == "example:halton"]
    assert halton["distribution"] == "hposampler-example-plugin"
    assert halton["aliases"] == ["halton"] and not data["failed"]


def test_its_own_tests_pass_against_the_installed_copy(installed: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests"),
         "--rootdir", str(EXAMPLE)],
        env=_env(installed), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from hposampler.testing import CHECKS

    own = 2  # the example's own tests beside the parametrized kit checks
    # the Halton sampler is not exhaustive: that check is skipped, with the reason
    assert f"{len(CHECKS) + own - 1} passed, 1 skipped" in proc.stdout
    assert "exhaustive: the spec does not declare exhaustive=True" in proc.stdout
    assert str(installed) in subprocess.run(
        [sys.executable, "-c", "import hposampler_example; print(hposampler_example.__file__)"],
        env=_env(installed), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
