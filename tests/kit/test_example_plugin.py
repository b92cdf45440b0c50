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
        check=True, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    return target


def _env(target: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPOSAMPLER_")}
    env["PYTHONPATH"] = str(target)
    return env


def test_listed_with_its_distribution(installed: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hposampler", "list", "--json"],
        env=_env(installed), capture_output=True, text=True, check=True, timeout=1800,
    )  # fmt: skip
    data = json.loads(proc.stdout)
    [halton] = [s for s in data["samplers"] if s["name"] == "example:halton"]
    assert halton["distribution"] == "hposampler-example-plugin"
    assert halton["aliases"] == ["halton"] and not data["failed"]


def test_its_own_tests_pass_against_the_installed_copy(installed: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests"),
         "--rootdir", str(EXAMPLE)],
        env=_env(installed), capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from hposampler.testing import CHECKS

    own = 2  # the example's own tests beside the parametrized kit checks
    # the Halton sampler is not exhaustive and does not learn from results: those three
    # checks (exhaustive, learns_from_results, direction) are skipped, with the reasons
    assert f"{len(CHECKS) + own - 3} passed, 3 skipped" in proc.stdout
    assert "exhaustive: the spec does not declare exhaustive=True" in proc.stdout
    assert "direction: the spec declares needs_metrics=False" in proc.stdout
    assert str(installed) in subprocess.run(
        [sys.executable, "-c", "import hposampler_example; print(hposampler_example.__file__)"],
        env=_env(installed), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


FRONTENDS = r"""
import json, os, subprocess, sys, tempfile
from pathlib import Path
import optuna
from hposampler_optuna import HposamplerSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)
out = {}

# 1. Optuna: the example sampler proposes every trial after the first
sampler = HposamplerSampler("halton", seed=0)
study = optuna.create_study(sampler=sampler)
study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.3) ** 2, n_trials=12)
out["optuna"] = {"trials": len(study.trials), "known": len(sampler._ids),
                 "distinct": len({t.params["x"] for t in study.trials})}

# 2. Ray Tune
import ray
from ray import tune
from hposampler_ray import HposamplerSearch

ray.init(num_cpus=1, include_dashboard=False, _node_ip_address="127.0.0.1",
         log_to_driver=False)
search = HposamplerSearch("halton", space={"x": {"value_range": [0.0, 1.0]}},
                          metric="loss", mode="min", seed=0)
tuner = tune.Tuner(lambda c: tune.report({"loss": (c["x"] - 0.3) ** 2}),
                   tune_config=tune.TuneConfig(search_alg=search, num_samples=4),
                   run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(), verbose=0))
results = tuner.fit()
out["tune"] = {"trials": len(results), "errors": len(results.errors),
               "backend": type(search._backend).__module__}
ray.shutdown()

# 3. Hydra
app = Path(tempfile.mkdtemp())
(app / "app.py").write_text(
    "import hydra\n"
    "@hydra.main(version_base=None, config_path='.', config_name='config')\n"
    "def main(cfg):\n    return (cfg.x - 0.3) ** 2\n"
    "main()\n")
(app / "config.yaml").write_text(
    "defaults:\n  - override hydra/sweeper: hposampler\n  - _self_\nx: 0.0\n"
    "hydra:\n  sweep:\n    dir: multirun\n  sweeper:\n    sampler: halton\n"
    "    n_trials: 5\n    params:\n      x: interval(0, 1)\n")
proc = subprocess.run([sys.executable, "app.py", "--multirun"], cwd=app, capture_output=True,
                      text=True)
out["hydra"] = {"rc": proc.returncode, "err": proc.stderr[-500:],
                "results": (app / "multirun" / "optimization_results.yaml").exists()}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_the_example_plugin_reaches_optuna_ray_tune_and_hydra(installed: Path) -> None:
    pytest.importorskip("ray.tune")
    pytest.importorskip("hydra")
    proc = subprocess.run(
        [sys.executable, "-c", FRONTENDS], env=_env(installed), capture_output=True,
        text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["optuna"] == {"trials": 12, "known": 12, "distinct": 12}  # all reached it
    assert out["tune"] == {"trials": 4, "errors": 0, "backend": "hposampler_example.halton"}
    assert out["hydra"]["rc"] == 0 and out["hydra"]["results"], out["hydra"]["err"]
