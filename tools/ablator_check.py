#!/usr/bin/env python3
"""Opt-in check: ablator's own sampler tests and ExperimentState on hposampler's samplers.

    python tools/ablator_check.py              # ablator's tests on hposampler.compat.ablator
    python tools/ablator_check.py --original   # the same tests on ablator's own samplers
    python tools/ablator_check.py --keep       # keep the work folder for inspection

Not part of the test suite: it downloads ablator 0.0.1b3 and what ablator's code
imports (about 1 GB with a CPU torch and ray). What it does:

1. builds (once) a virtual environment ``.venv-ablator`` beside the repository
   (``HPOSAMPLER_ABLATOR_VENV`` overrides it) with what an ablator user has:
   ablator's pin ``optuna==3.1.1``, its light dependencies (numpy, pandas,
   scipy, SQLAlchemy, omegaconf, torch 2.13.0 CPU, ray, psutil), pytest, and
   hposampler's core, grid and optuna distributions (editable);
2. downloads ablator 0.0.1b3's wheel (it declares Python 3.10 only, so it is
   fetched with ``--python-version 3.10`` and unpacked, not installed); the
   wheel carries ablator's ``tests/`` folder too;
3. makes the one-import change that adopts hposampler: ``ablator/main/hpo/
   __init__.py`` becomes ``from hposampler.compat.ablator import BaseSampler,
   GridSampler, OptunaSampler`` (ablator's ``ExperimentState`` and tests import
   the samplers from there); ``ablator/__init__.py``, which imports the whole
   toolkit (analysis, plotting, trainers), exports the same names lazily;
4. runs ablator's ``tests/sampler/test_sampler.py``, ``tests/sampler/test_space.py``
   and ``tests/main/test_state.py`` with pytest, with the two fixtures they take
   from ablator's conftest (``assert_error_msg``, ``capture_output``, rewritten
   here: ablator's conftest needs docker and a Ray cluster);
5. runs ablator's ``ExperimentState`` for tpe, random and grid: 8 trials sampled
   and completed with ablator's ``update_trial_state``, the state rebuilt with
   ``resume=True`` from ablator's SQLite store and 8 more, checking that ids
   continue and no config is proposed twice;
6. prints both results; exit code 1 if anything failed.

The result of the last run is recorded in docs/ablator.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("HPOSAMPLER_ABLATOR_VENV", ROOT / ".venv-ablator"))
ABLATOR = "ablator==0.0.1b3"
TESTS = ["tests/sampler/test_sampler.py", "tests/sampler/test_space.py", "tests/main/test_state.py"]
REQUIREMENTS = [
    "optuna==3.1.1",
    "numpy",
    "pandas",
    "scipy",
    "sqlalchemy",
    "omegaconf",
    "torch==2.13.0",
    "ray",
    "psutil",
    "typing_extensions",
    "pytest",
]
SWAP = "from hposampler.compat.ablator import BaseSampler, GridSampler, OptunaSampler\n"

#: ablator's package __init__ with the same exports, imported on first use (PEP 562)
LAZY_INIT = '''"""ablator's exports, imported on first use (written by tools/ablator_check.py)."""
import importlib
from pathlib import Path

_WHERE = {
    "ViolinPlot": "ablator.analysis.plot.cat_plot", "PlotAnalysis": "ablator.analysis.plot.main",
    "LinearPlot": "ablator.analysis.plot.num_plot", "Results": "ablator.analysis.results",
    "ConfigBase": "ablator.config.main", "configclass": "ablator.config.main",
    "SearchSpace": "ablator.config.hpo", "Optim": "ablator.config.proto",
    "ModelConfig": "ablator.config.proto", "RunConfig": "ablator.config.proto",
    "TrainConfig": "ablator.config.proto", "RemoteConfig": "ablator.config.remote",
    "ModelWrapper": "ablator.main.model.wrapper", "ParallelConfig": "ablator.main.mp",
    "ParallelTrainer": "ablator.main.mp", "ProtoTrainer": "ablator.main.proto",
    "OPTIMIZER_CONFIG_MAP": "ablator.modules.optimizer",
    "OptimizerConfig": "ablator.modules.optimizer",
    "SCHEDULER_CONFIG_MAP": "ablator.modules.scheduler",
    "SchedulerConfig": "ablator.modules.scheduler",
}
for _name in ("Annotation", "Derived", "Dict", "Enum", "List", "Literal", "Optional",
              "Stateful", "Stateless", "Tuple", "Type"):
    _WHERE[_name] = "ablator.config.types"
__version__ = "0.0.1b3"
package_dir = Path(__file__).parent


# ablator's own import order: its samplers and its state import each other, and
# ablator/__init__.py reaches the state first
import ablator.main.state  # noqa: E402,F401


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(importlib.import_module(_WHERE[name]), name)
'''

#: the two fixtures ablator's tests take from its conftest (which needs docker and Ray)
CONFTEST = """import io
from contextlib import redirect_stderr, redirect_stdout

import pytest


def _assert_error_msg(fn, error_msg=None):
    try:
        fn()
    except Exception as exc:
        if error_msg is not None and error_msg != str(exc):
            raise AssertionError(f"expected message {error_msg!r}, found {str(exc)!r}") from exc
        return str(exc)
    raise AssertionError(f"{fn} raised no error; expected {error_msg!r}")


@pytest.fixture
def assert_error_msg():
    return _assert_error_msg


@pytest.fixture
def capture_output():
    def capture(fn):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            fn()
        return out.getvalue(), err.getvalue()

    return capture
"""

STATE_SCRIPT = r"""
import json, tempfile
from pathlib import Path
from ablator.config.hpo import SearchSpace
from ablator.config.mp import ParallelConfig, SearchAlgo
from ablator.config.proto import ModelConfig, TrainConfig
from ablator.modules.optimizer import OptimizerConfig
from ablator.main.state.state import ExperimentState
from ablator.main.state.store import TrialState

def config(algo):
    space = {"train_config.optimizer_config.arguments.lr":
             SearchSpace(value_range=["0", "1"], value_type="float",
                         n_bins=10 if algo == "grid" else None),
             "train_config.batch_size":
             SearchSpace(categorical_values=["32", "64", "128"])}
    train = TrainConfig(dataset="test", batch_size=32, epochs=1,
                        optimizer_config=OptimizerConfig(name="sgd", arguments={"lr": 0.1}),
                        scheduler_config=None)
    return ParallelConfig(train_config=train, model_config=ModelConfig(), verbose="silent",
                          device="cpu", amp=False, search_space=space,
                          optim_metrics={"loss": "min"}, total_trials=100,
                          concurrent_trials=1, gpu_mb_per_experiment=0,
                          search_algo=SearchAlgo(algo))

def run(state, n, seen):
    for _ in range(n):
        trial_id, trial_config = state.sample_trial()
        lr = trial_config.train_config.optimizer_config.arguments.lr
        seen.append((trial_id, lr, trial_config.train_config.batch_size))
        state.update_trial_state(trial_id, {"loss": (lr - 0.3) ** 2}, TrialState.COMPLETE)

out = {}
for algo in ("tpe", "random", "grid"):
    folder = Path(tempfile.mkdtemp())
    state = ExperimentState(folder, config(algo), sampler_seed=0)
    sampler = type(state.sampler)
    seen = []
    run(state, 8, seen)
    resumed = ExperimentState(folder, config(algo), resume=True, sampler_seed=0)
    run(resumed, 8, seen)
    out[algo] = {"sampler": f"{sampler.__module__}.{sampler.__name__}",
                 "ids": [t for t, _, _ in seen], "distinct": len({s[1:] for s in seen}),
                 "trials": len(seen)}
print(json.dumps(out))
"""


def log(msg: str) -> None:
    print(f"[ablator-check] {msg}", flush=True)


def python() -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / "python"


def environment() -> Path:
    """The check's virtual environment (built once; rebuilt with HPOSAMPLER_ABLATOR_REBUILD)."""
    stamp = VENV / ".ablator-check-stamp"
    if python().exists() and stamp.exists() and not os.environ.get("HPOSAMPLER_ABLATOR_REBUILD"):
        return python()
    log(f"creating {VENV} (optuna 3.1.1, torch CPU, ray: a few minutes the first time)")
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    members = ["-e", str(ROOT / "core"), "-e", str(ROOT / "plugins" / "grid"),
               "-e", str(ROOT / "plugins" / "optuna")]  # fmt: skip
    subprocess.run([python(), "-m", "pip", "install", "-q", *REQUIREMENTS, *members], check=True)
    stamp.write_text(ABLATOR)
    return python()


def unpack(work: Path, original: bool) -> Path:
    """ablator's wheel unpacked into ``work/src``, with the one-import swap unless ``original``."""
    subprocess.run(
        [python(), "-m", "pip", "download", "--no-deps", "--python-version", "3.10",
         "--only-binary=:all:", ABLATOR, "-d", work, "-q"],
        check=True,
    )  # fmt: skip
    wheel = next(work.glob("ablator-0.0.1b3-*.whl"))
    src = work / "src"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(src)
    (src / "ablator" / "__init__.py").write_text(LAZY_INIT)
    hpo = src / "ablator" / "main" / "hpo" / "__init__.py"
    if not original:
        hpo.write_text(SWAP)
    (src / "tests" / "conftest.py").write_text(CONFTEST)
    return src


def main(argv: list[str]) -> int:
    keep, original = "--keep" in argv, "--original" in argv
    py = environment()
    work = Path(tempfile.mkdtemp(prefix="ablator-check-"))
    src = unpack(work, original)
    env = {**os.environ, "PYTHONPATH": str(src), "RAY_USAGE_STATS_ENABLED": "0"}
    which = "ablator's own samplers" if original else "hposampler.compat.ablator"
    log(f"ablator's tests on {which} (optuna 3.1.1):")
    tests = subprocess.run(
        [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *TESTS],
        cwd=src,
        env=env,
        check=False,
    )
    proc = subprocess.run([py, "-c", STATE_SCRIPT], cwd=src, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    ok = tests.returncode == 0 and proc.returncode == 0
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
    else:
        log("ExperimentState, 8 trials, resume=True, 8 more:")
        for algo, r in json.loads(proc.stdout.strip().splitlines()[-1]).items():
            continued = r["ids"] == list(range(16)) and r["distinct"] == r["trials"]
            ok &= continued
            print(f"{algo:7} {r['sampler']}: ids {r['ids'][0]}..{r['ids'][-1]}, "
                  f"{r['distinct']} distinct configs of {r['trials']}: "
                  f"{'ok' if continued else 'FAILED'}")  # fmt: skip
    if keep:
        log(f"work folder kept: {work}")
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
